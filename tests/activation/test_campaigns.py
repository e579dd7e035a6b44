"""Campaigns: the definition's checks, the planner's decisions (each against a direct computation), saving,
running on a simulated clock with consent checked at sending time, and status."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from jingzhun.activation import FileConnector
from jingzhun.activation.campaigns import (
    CampaignError, campaign_from_dict, campaign_status, fixed_time, load_campaign, plan_campaign, run_campaign,
    save_plan,
)
from jingzhun.activation.campaigns.definition import Schedule
from jingzhun.schema.tables import table as table_spec
from tests.activation.conftest import SECRET, T0, Population, pid

AS_OF = T0
AT = T0 + pd.Timedelta(hours=1)
N = 300

EMAIL_T = {"channel": "email", "subject": "{{ offer.title }}",
           "text": "{{ offer.title }} {{ offer.coupon_code }} {{ unsubscribe_url }}"}
SMS_T = {"channel": "sms", "text": "{{ offer.title }} {{ offer.coupon_code }}"}


def definition(**over) -> dict:
    d = {
        "id": "winback", "name": "Win back",
        "audience": "monetary_total > 0",
        "exclude": ["frequency >= 9"],
        "arms": {"control": 0.2, "A": 0.8},
        "offers": [
            {"id": "coupon", "kind": "discount", "title": "10% off", "when": "price_sensitivity >= 0.6",
             "coupon_code": "WIN10", "cost": 2.0, "templates": {"email": "coupon_email", "sms": "coupon_sms"}},
            {"id": "news", "kind": "new_product", "title": "New in", "templates": {"email": "news_email"}},
        ],
        "channels": ["email", "sms"],
        "costs": {"email": 0.01, "sms": 0.05},
        "schedule": {"start": "2024-03-02T00:00:00+08:00", "within_days": 2, "send_time": "10:00",
                     "timezone": "Asia/Shanghai"},
        "templates": {"coupon_email": EMAIL_T, "coupon_sms": SMS_T, "news_email": EMAIL_T},
    }
    d.update(over)
    return d


def people_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "profile_id": [pid(i) for i in range(N)],
        "monetary_total": np.where(np.arange(N) % 10 == 9, 0.0, rng.gamma(2.0, 50.0, N).round(2)),
        "frequency": rng.integers(1, 12, N),
        "price_sensitivity": rng.random(N).round(3),
        "clv": rng.gamma(2.0, 30.0, N).round(3),
    })


@pytest.fixture
def world(warehouse):
    """N people with features, scores and consent: e-mail granted to even people, SMS to multiples of 3,
    people 0-9 granted e-mail and then withdrew it before the plan."""
    pop = Population(warehouse)
    pop.add(N)
    frame = people_frame()
    spec = table_spec("profile_features")
    zeros = {c.name: 0 for c in spec.columns if not c.nullable and c.name not in frame.columns and c.name != "as_of"}
    warehouse.append("profile_features", frame.drop(columns="clv").assign(**zeros, as_of=AS_OF))
    warehouse.append("profiles", pd.DataFrame({"profile_id": frame.profile_id, "n_identifiers": 3, "n_records": 1}))
    warehouse.append("scores", pd.DataFrame({"profile_id": frame.profile_id, "score": "clv_12m", "value": frame.clv,
                                             "model_id": "m1", "computed_at": AS_OF}))
    records = [(i, "email", "email", "granted", T0 - pd.Timedelta(days=5)) for i in range(0, N, 2)]
    records += [(i, "phone", "sms", "granted", T0 - pd.Timedelta(days=5)) for i in range(0, N, 3)]
    records += [(i, "email", "email", "denied", T0 - pd.Timedelta(days=1)) for i in range(0, 10, 2)]
    pop.consent(records)
    return frame


def expected_audience(frame: pd.DataFrame) -> pd.DataFrame:
    """The plan's people computed directly: audience, exclusions, consent."""
    i = frame.profile_id.str[1:].astype(int)
    email = (i % 2 == 0) & (i >= 10)
    sms = i % 3 == 0
    coupon = frame.price_sensitivity >= 0.6
    live = (frame.monetary_total > 0) & (frame.frequency < 9)
    reachable = email | (sms & coupon)  # news has no SMS template
    return frame.assign(offer_id=np.where(coupon, "coupon", "news"),
                        channel=np.where(email, "email", "sms"))[live & reachable]


# -- the definition --------------------------------------------------------------------------------
@pytest.mark.parametrize("change, words", [
    ({"audiance": "x"}, "audiance"),
    ({"arms": {"control": 0.2, "A": 0.7}}, "add up to 1"),
    ({"channels": ["email", "fax"]}, "fax"),
    ({"budget": 100.0, "costs": {}}, "budget needs costs"),
    ({"arm_offers": {"B": "coupon"}}, "arm_offers names arm 'B'"),
    ({"templates": {"coupon_email": EMAIL_T, "coupon_sms": SMS_T}}, "news_email"),
    ({"templates": {"coupon_email": EMAIL_T, "coupon_sms": EMAIL_T, "news_email": EMAIL_T}}, "is for email"),
    ({"id": "bad id!"}, "campaign id"),
    ({"schedule": {"send_time": "25:00"}}, "send_time"),
    ({"offers": []}, "at least one offer"),
])
def test_a_faulty_definition_names_the_key_and_what_is_allowed(change, words):
    with pytest.raises(CampaignError) as err:
        campaign_from_dict(definition(**change), source="winback.yaml")
    assert "winback.yaml" in str(err.value) and words in str(err.value)


def test_an_email_template_without_unsubscribe_link_is_refused_when_the_campaign_is_read():
    bad = {**EMAIL_T, "text": "{{ offer.title }}"}
    with pytest.raises(CampaignError, match="unsubscribe"):
        campaign_from_dict(definition(templates={"coupon_email": bad, "coupon_sms": SMS_T, "news_email": EMAIL_T}))


def test_a_yaml_file_reads_template_parts_from_files_beside_it(tmp_path):
    (tmp_path / "coupon.txt").write_text("Hi {{ offer.title }} {{ unsubscribe_url }}", encoding="utf-8")
    d = definition()
    d["templates"]["coupon_email"] = {"channel": "email", "subject": "s", "text": {"file": "coupon.txt"}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    campaign = load_campaign(tmp_path / "c.yaml")
    assert campaign.templates["coupon_email"].text.startswith("Hi {{ offer.title }}")
    d["templates"]["coupon_email"]["text"] = {"file": "missing.txt"}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(d), encoding="utf-8")
    with pytest.raises(CampaignError, match="missing.txt"):
        load_campaign(tmp_path / "c.yaml")


# -- the plan --------------------------------------------------------------------------------------
def test_the_plan_holds_exactly_the_reachable_audience_with_the_right_offer_and_channel(warehouse, world):
    plan = plan_campaign(warehouse, campaign_from_dict(definition()), secret=SECRET, as_of=AS_OF, at=AT,
                         timezone="UTC")
    want = expected_audience(world).set_index("profile_id").sort_index()
    got = plan.messages.set_index("profile_id").sort_index()
    assert list(got.index) == list(want.index)
    assert (got.offer_id == want.offer_id).all() and (got.channel == want.channel).all()
    assert set(got.template) == {"coupon_email", "coupon_sms", "news_email"}
    assert json.loads(got.offer.iloc[0])["id"] == got.offer_id.iloc[0]
    # everyone left out is accounted for, once, with the first reason that applies
    reasons = plan.excluded.set_index("profile_id").reason
    assert len(reasons) + len(got) == (world.monetary_total > 0).sum()
    assert (reasons == "excluded: frequency >= 9").sum() == ((world.monetary_total > 0) & (world.frequency >= 9)).sum()
    assert reasons[pid(0)].startswith("no consent") if pid(0) in reasons.index else True
    # people 2, 4, 8 withdrew e-mail consent: they are planned only by SMS, and only with a coupon
    for i in (2, 4, 8):
        if pid(i) in got.index:
            assert got.channel[pid(i)] == "sms" and got.offer_id[pid(i)] == "coupon"
    summary = plan.summary()
    assert summary["messages"] == len(got) and sum(summary["by_arm"].values()) == len(got)
    assert summary["by_local_hour"] == {"10:00": len(got)}
    assert summary["first_send"] == "2024-03-02T02:00:00+00:00"  # 10:00 in Shanghai


def test_the_plan_is_the_same_every_time_and_arms_follow_the_keyed_hash(warehouse, world):
    c = campaign_from_dict(definition())
    first = plan_campaign(warehouse, c, secret=SECRET, as_of=AS_OF, at=AT).messages
    again = plan_campaign(warehouse, c, secret=SECRET, as_of=AS_OF, at=AT).messages
    pd.testing.assert_frame_equal(first, again)
    from jingzhun.activation import arm_for, bucket_for

    for p, arm in zip(first.profile_id, first.arm):
        assert arm == arm_for(bucket_for("winback", p, SECRET), c.split())


def test_rank_and_limit_keep_the_best_by_the_score_and_control_is_capped_alike(warehouse, world):
    c = campaign_from_dict(definition(rank_by="clv_12m", limit=40))
    plan = plan_campaign(warehouse, c, secret=SECRET, as_of=AS_OF, at=AT)
    eligible = expected_audience(world)
    best = set(eligible.sort_values("clv", ascending=False).profile_id[:40])
    assert set(plan.messages.profile_id) == best
    assert np.allclose(sorted(plan.messages.rank_value), sorted(eligible.clv.nlargest(40)))
    assert (plan.excluded.reason.str.startswith("below the cap")).sum() == len(eligible) - 40
    assert plan.counts("arm").get("control", 0) > 0


def test_a_budget_pays_for_messages_in_rank_order(warehouse, world):
    c = campaign_from_dict(definition(rank_by="clv_12m", budget=0.5))
    plan = plan_campaign(warehouse, c, secret=SECRET, as_of=AS_OF, at=AT)
    eligible = expected_audience(world).sort_values("clv", ascending=False)
    cost = eligible.channel.map({"email": 0.01, "sms": 0.05}).cumsum()
    assert set(plan.messages.profile_id) == set(eligible.profile_id[cost <= 0.5 + 1e-9])
    assert plan.summary()["cost"]["messages"] <= 0.5


def test_an_ab_test_of_offers_gives_each_arm_its_offer(warehouse, world):
    d = definition(arms={"control": 0.1, "A": 0.45, "B": 0.45}, arm_offers={"B": "coupon"})
    plan = plan_campaign(warehouse, campaign_from_dict(d), secret=SECRET, as_of=AS_OF, at=AT)
    m = plan.messages
    assert (m.offer_id[m.arm == "B"] == "coupon").all()
    assert set(m.offer_id[m.arm == "A"]) == {"coupon", "news"}


def test_the_channel_with_the_best_expected_response_wins_when_the_channel_model_has_spoken(warehouse, world):
    both = [i for i in range(12, N, 6)]  # e-mail and SMS consent
    warehouse.append("scores", pd.DataFrame({
        "profile_id": [pid(i) for i in both] * 2, "score": ["response_email"] * len(both) + ["response_sms"] * len(both),
        "value": [0.1] * len(both) + [0.3] * len(both), "model_id": "ch", "computed_at": AS_OF}))
    plan = plan_campaign(warehouse, campaign_from_dict(definition()), secret=SECRET, as_of=AS_OF, at=AT)
    m = plan.messages.set_index("profile_id")
    coupon_both = [pid(i) for i in both if pid(i) in m.index and m.offer_id[pid(i)] == "coupon"]
    assert coupon_both and (m.channel[coupon_both] == "sms").all()
    news_both = [pid(i) for i in both if pid(i) in m.index and m.offer_id[pid(i)] == "news"]
    assert (m.channel[news_both] == "email").all()  # the news offer has no SMS template


@pytest.mark.parametrize("start, clock, quiet, want", [
    ("2024-03-02 00:00+08:00", "10:00", ("21:00", "09:00"), "2024-03-02 10:00+08:00"),
    ("2024-03-02 11:00+08:00", "10:00", ("21:00", "09:00"), "2024-03-03 10:00+08:00"),
    ("2024-03-02 00:00+08:00", "23:30", ("21:00", "09:00"), "2024-03-02 09:00+08:00"),
    ("2024-03-02 10:00+08:00", "10:00", None, "2024-03-02 10:00+08:00"),
    ("2024-03-01 17:00+00:00", "08:00", ("22:00", "07:00"), "2024-03-02 08:00+08:00"),
])
def test_a_fixed_clock_time_is_the_first_such_local_moment_outside_quiet_hours(start, clock, quiet, want):
    s = Schedule(send_time=clock, quiet_hours=quiet)
    got = fixed_time(pd.Timestamp(start).tz_convert("UTC"), s.fixed_clock(), quiet, "Asia/Shanghai")
    assert got == pd.Timestamp(want)


def test_best_send_times_come_from_the_send_time_scores(warehouse, world):
    hours = {pid(i): (8 + i % 12) for i in range(N)}
    warehouse.append("scores", pd.DataFrame({"profile_id": list(hours), "score": "send_hour",
                                             "value": [float(h) for h in hours.values()], "model_id": "st",
                                             "computed_at": AS_OF}))
    d = definition(schedule={"start": "2024-03-02T00:00:00+08:00", "within_days": 2, "send_time": "best",
                             "timezone": "Asia/Shanghai", "quiet_hours": ["21:00", "09:00"], "use_weekday": False})
    plan = plan_campaign(warehouse, campaign_from_dict(d), secret=SECRET, as_of=AS_OF, at=AT)
    local = plan.messages.scheduled_at.dt.tz_convert("Asia/Shanghai")
    want = plan.messages.profile_id.map(hours).clip(lower=9)  # 08:00 is in quiet hours: moved to 09:00
    assert (local.dt.hour == want).all()
    assert (local.dt.date.astype(str) == "2024-03-02").all()


# -- saving, running, status -----------------------------------------------------------------------
def _connectors(tmp_path):
    return {"email": FileConnector(tmp_path / "out", "mailer", address_kind="email"),
            "sms": FileConnector(tmp_path / "out", "smsvendor", address_kind="phone")}


def test_run_sends_what_is_due_checks_consent_then_and_never_twice(warehouse, world, tmp_path, links):
    c = campaign_from_dict(definition(schedule={"start": "2024-03-02T00:00:00+08:00", "within_days": 2,
                                                "send_time": "10:00", "timezone": "Asia/Shanghai"}))
    plan = plan_campaign(warehouse, c, secret=SECRET, as_of=AS_OF, at=AT)
    assert save_plan(warehouse, plan, secret=SECRET)["messages_new"] == len(plan.messages)
    assert save_plan(warehouse, plan, secret=SECRET)["messages_new"] == 0
    # before the send time nothing is due
    early = run_campaign(warehouse, c, connectors=_connectors(tmp_path), links=links, until="2024-03-01T12:00:00Z")
    assert early.due == 0 and early.waiting == len(plan.messages) and early.status == "running"
    # one planned person withdraws e-mail consent after the plan, before the send
    m = plan.messages
    quitter = m[(m.channel == "email") & (m.arm == "A")].profile_id.iloc[0]
    Population(warehouse).consent([(int(quitter[1:]), "email", "email", "denied", T0 + pd.Timedelta(hours=5))])
    report = run_campaign(warehouse, c, connectors=_connectors(tmp_path), links=links,
                          until="2024-03-03T00:00:00Z", on_schedule=True)
    assert report.due == len(m) and report.waiting == 0 and report.status == "done"
    d = warehouse.execute(warehouse.table("deliveries")).set_index("profile_id")
    assert len(d) == len(m)
    assert d.status[quitter] == "suppressed_no_consent"
    assert (d.status[m[m.arm == "control"].profile_id] == "held_out").all()
    sent = d[d.status == "sent"]
    assert len(sent) == (m.arm == "A").sum() - 1
    lag = pd.to_datetime(sent.sent_at, utc=True) - pd.Timestamp("2024-03-02 02:00", tz="UTC")  # the connector's time
    assert ((lag >= pd.Timedelta(0)) & (lag < pd.Timedelta(minutes=1))).all()
    # the files carry the right people and the coupon code in the text
    files = list((tmp_path / "out").glob("*smsvendor*"))
    assert files and "WIN10" in files[0].read_text(encoding="utf-8-sig")
    again = run_campaign(warehouse, c, connectors=_connectors(tmp_path), links=links, until="2024-03-04T00:00:00Z")
    assert again.due == 0 and sum(again.counts.values()) == 0
    status = campaign_status(warehouse, "winback")
    assert status["status"] == "done" and status["planned"] == len(m) and status["unsent"] == 0
    assert status["deliveries"][f"A/sent"] == len(sent)


def test_a_definition_changed_after_sending_is_refused_before_sending_it_replans(warehouse, world, tmp_path, links):
    c = campaign_from_dict(definition())
    save_plan(warehouse, plan_campaign(warehouse, c, secret=SECRET, as_of=AS_OF, at=AT), secret=SECRET)
    changed = campaign_from_dict(definition(name="Win back, take two", limit=10))
    with pytest.raises(CampaignError, match="planned under another definition"):
        run_campaign(warehouse, changed, connectors=_connectors(tmp_path), links=links, until="2024-03-05T00:00:00Z")
    save_plan(warehouse, plan_campaign(warehouse, changed, secret=SECRET, as_of=AS_OF, at=AT), secret=SECRET)
    assert campaign_status(warehouse, "winback")["planned"] == 10
    run_campaign(warehouse, changed, connectors=_connectors(tmp_path), links=links, until="2024-03-05T00:00:00Z")
    with pytest.raises(CampaignError, match="already sent messages"):
        save_plan(warehouse, plan_campaign(warehouse, c, secret=SECRET, as_of=AS_OF, at=AT), secret=SECRET)


# -- triggers and surveys ----------------------------------------------------------------------------
def _added(warehouse, who: list[int], when: list[pd.Timestamp]) -> None:
    from tests.activation.conftest import ids_of

    warehouse.append("events", pd.DataFrame({
        "message_id": [f"m{i}" for i in range(len(who))], "type": "track", "event": "Product Added",
        "user_id": [ids_of(i)["user_id"] for i in who], "timestamp": when, "properties": '{"product_id":"P1"}',
        "source": "web", "load_id": "l1", "quality_flags": ""}))


def test_a_trigger_campaign_sends_once_per_occasion_when_it_happens_outside_quiet_hours(warehouse, world, tmp_path,
                                                                                      links):
    d = definition(trigger={"kind": "cart_abandoned", "params": {"wait_hours": 1}, "cooldown_days": 7},
                   arms={"A": 1.0})
    c = campaign_from_dict(d)
    plan = plan_campaign(warehouse, c, secret=SECRET, as_of=AS_OF, at=AT)
    assert plan.messages.empty  # nothing has happened yet
    save_plan(warehouse, plan, secret=SECRET)
    eligible = expected_audience(world)
    a, b, outsider = [int(p[1:]) for p in eligible[eligible.channel == "email"].profile_id[:2]] + [9]
    added = [pd.Timestamp("2024-03-02 05:00", tz="UTC"),    # 13:00 in Shanghai: the message goes at 14:00
             pd.Timestamp("2024-03-02 15:30", tz="UTC"),    # 23:30: abandoned at 00:30, in quiet hours -> 09:00
             pd.Timestamp("2024-03-02 05:00", tz="UTC")]    # person 9 spent nothing: not in the audience
    _added(warehouse, [a, b, outsider], added)
    report = run_campaign(warehouse, c, connectors=_connectors(tmp_path), links=links, until="2024-03-04T00:00:00Z",
                          on_schedule=True, secret=SECRET, timezone="Asia/Shanghai")
    assert report.counts["sent"] == 2
    m = warehouse.execute(warehouse.table("campaign_messages")).set_index("profile_id")
    assert set(m.index) == {pid(a), pid(b)} and m.step.str.startswith("trigger:").all()
    due = pd.to_datetime(m.scheduled_at, utc=True)  # Spark hands back UTC timestamps without their zone
    assert due[pid(a)] == pd.Timestamp("2024-03-02 06:00", tz="UTC")
    assert due[pid(b)] == pd.Timestamp("2024-03-03 01:00", tz="UTC")
    again = run_campaign(warehouse, c, connectors=_connectors(tmp_path), links=links, until="2024-03-05T00:00:00Z",
                         on_schedule=True, secret=SECRET, timezone="Asia/Shanghai")
    assert sum(again.counts.values()) == 0
    with pytest.raises(CampaignError, match="no limit or budget"):
        campaign_from_dict({**d, "limit": 10})


QUESTIONNAIRE = {"id": "q1", "title": {"zh": "满意度", "en": "Satisfaction"},
                 "questions": [{"id": "overall", "kind": "rating", "text": {"zh": "总体", "en": "Overall"}}]}


def test_a_survey_goes_to_its_keyed_sample_with_a_link_to_the_questionnaire(warehouse, world, tmp_path, links):
    import ibis

    from jingzhun.activation.surveys import sample

    survey_t = {"channel": "email", "subject": "?", "text": "{{ survey('q1') }} {{ unsubscribe_url }}"}
    d = definition(survey={"share": 0.3, "questionnaire": QUESTIONNAIRE}, arms={"A": 1.0},
                   templates={"coupon_email": survey_t, "coupon_sms": SMS_T, "news_email": survey_t})
    c = campaign_from_dict(d)
    plan = plan_campaign(warehouse, c, secret=SECRET, as_of=AS_OF, at=AT)
    eligible = expected_audience(world)
    audience = warehouse.stage(ibis.memtable(world[(world.monetary_total > 0) & (world.frequency < 9)][["profile_id"]]))
    drawn = set(warehouse.execute(sample(warehouse, audience, 0.3, "winback", SECRET)).profile_id)
    assert set(plan.messages.profile_id) == drawn & set(eligible.profile_id)
    assert plan.exclusions()["not drawn for the survey's 30.00% sample"] == len(audience.execute()) - len(drawn)
    save_plan(warehouse, plan, secret=SECRET)
    run_campaign(warehouse, c, connectors=_connectors(tmp_path), links=links, until="2024-03-05T00:00:00Z",
                 on_schedule=True)
    text = next((tmp_path / "out").glob("*mailer*")).read_text(encoding="utf-8-sig")
    assert "/s/" in text or "survey" in text
    with pytest.raises(CampaignError, match="questionnaire"):
        campaign_from_dict({**d, "survey": {"share": 0.3, "questionnaire": {"id": "q1"}}})
