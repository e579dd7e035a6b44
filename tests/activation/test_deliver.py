"""Deliver: consent at the moment of sending, control groups, frequency caps, at-most-once sending."""

from __future__ import annotations

import tempfile
from pathlib import Path

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jingzhun.activation import (
    FileConnector,
    FrequencyCap,
    MessageTemplate,
    PlanError,
    TemplateSet,
    deliver,
    delivery_id_for,
)
from tests.activation.conftest import Population, duckdb_warehouse, fields, hours, pid, plan

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def warehouse(tmp_path):
    """DuckDB only: the engine is not the subject here (test_consent runs deliver on both engines)."""
    yield from duckdb_warehouse(tmp_path)


def at(h: float):
    return lambda: hours(h).to_pydatetime()


def statuses(warehouse) -> dict[str, str]:
    d = warehouse.execute(warehouse.table("deliveries"))
    return dict(zip(d.profile_id + "/" + d.campaign_id + "/" + d.channel, d.status))


def exported(folder: Path) -> pd.DataFrame:
    files = sorted(folder.glob("*.csv")) if folder.exists() else []
    frames = [pd.read_csv(f, encoding="utf-8-sig", dtype=str, keep_default_na=False) for f in files]
    return pd.concat(frames) if frames else pd.DataFrame(columns=["delivery_id", "profile_id", "text"])


def test_the_control_arm_is_recorded_and_never_sent(warehouse, population, links, templates, tmp_path):
    population.add(4)
    population.consent([(i, "email", "email", "granted", hours(-1)) for i in range(4)])
    mixed = pd.concat([plan([0, 1], arm="A"), plan([2, 3], arm="control")])
    report = deliver(warehouse, mixed, templates=templates, links=links, fields=fields(warehouse, 4), clock=at(0),
                     connectors={"email": FileConnector(tmp_path / "out", "v")})
    assert report["sent"] == 2 and report["held_out"] == 2
    assert sorted(exported(tmp_path / "out").profile_id) == [pid(0), pid(1)]
    d = warehouse.execute(warehouse.table("deliveries")).set_index("profile_id")
    assert d.loc[pid(2), "status"] == "held_out" and d.loc[pid(2), "arm"] == "control" and pd.isna(d.loc[pid(2), "sent_at"])


def test_frequency_caps_count_every_campaign_and_this_run(warehouse, population, links, templates, tmp_path):
    population.add(3)
    population.consent([(i, "user_id", "all", "granted", hours(-100)) for i in range(3)])
    conn = {"email": FileConnector(tmp_path / "e", "v"), "sms": FileConnector(tmp_path / "s", "v")}
    kw = dict(templates=templates, links=links, fields=fields(warehouse, 3), connectors=conn)
    deliver(warehouse, plan([0], campaign="c0"), clock=at(-2), **kw)      # person 0: 2 hours ago
    deliver(warehouse, plan([1], campaign="c0"), clock=at(-48), **kw)     # person 1: 2 days ago
    caps = FrequencyCap(per_day=1, per_week=2)
    both = pd.concat([plan([0, 1, 2], campaign="c1"), plan([2], campaign="c1", channel="sms", template="spring_sms")])
    report = deliver(warehouse, both, caps=caps, clock=at(0), **kw)
    got = statuses(warehouse)
    assert got[f"{pid(0)}/c1/email"] == "suppressed_frequency_cap"   # one in the last 24 hours already
    assert got[f"{pid(1)}/c1/email"] == "sent"                       # two days ago is outside the day
    assert sorted([got[f"{pid(2)}/c1/email"], got[f"{pid(2)}/c1/sms"]]) == ["sent", "suppressed_frequency_cap"]
    assert report["sent"] == 2 and report["suppressed_frequency_cap"] == 2
    # a week later person 1 has 2 in the week (c0 two days before, c1 now) only until hour 120
    report = deliver(warehouse, plan([1], campaign="c2"), caps=caps, clock=at(100), **kw)
    assert report["suppressed_frequency_cap"] == 1
    detail = warehouse.execute(warehouse.table("deliveries").filter(lambda d: d.campaign_id == "c2").detail)[0]
    assert detail == "frequency cap reached: 2 per week"
    assert deliver(warehouse, plan([1], campaign="c3"), caps=caps, clock=at(125), **kw)["sent"] == 1


class Crash(Exception):
    pass


class CrashingConnector:
    """A connector whose process dies in the middle of sending (the exception stands for kill -9)."""

    address_kind = None

    def send(self, messages):
        raise Crash


def test_a_crash_while_sending_leaves_claims_that_a_rerun_does_not_send_again(warehouse, population, links,
                                                                              templates, tmp_path):
    population.add(2)
    population.consent([(i, "email", "email", "granted", hours(-1)) for i in range(2)])
    kw = dict(templates=templates, links=links, fields=fields(warehouse, 2))
    with pytest.raises(Crash):
        deliver(warehouse, plan([0, 1]), connectors={"email": CrashingConnector()}, clock=at(0), **kw)
    assert set(statuses(warehouse).values()) == {"sending"}
    report = deliver(warehouse, plan([0, 1]), connectors={"email": FileConnector(tmp_path / "o", "v")}, clock=at(1), **kw)
    assert report.already_recorded == 2 and not (tmp_path / "o").exists()


def test_batches_judge_consent_at_their_own_moment(warehouse, population, links, templates, tmp_path):
    population.add(4)
    # messages go in order of delivery id: the first two in the batch at hour 0, the last two at hour 1
    order = [i for _, i in sorted((delivery_id_for("c1", "1", pid(i), "email"), i) for i in range(4))]
    first, last = order[0], order[-1]
    population.consent([(i, "email", "email", "granted", hours(-1)) for i in range(4)]
                       + [(first, "email", "email", "denied", hours(0.5)), (last, "email", "email", "denied", hours(0.5))])
    moments = iter([hours(0), hours(1)])
    report = deliver(warehouse, plan([0, 1, 2, 3]), templates=templates, links=links, fields=fields(warehouse, 4),
                     connectors={"email": FileConnector(tmp_path / "o", "v")}, batch_size=2,
                     clock=lambda: next(moments).to_pydatetime())
    assert report["sent"] == 3 and report["suppressed_no_consent"] == 1
    assert statuses(warehouse)[f"{pid(first)}/c1/email"] == "sent"    # judged at hour 0, before the withdrawal
    assert statuses(warehouse)[f"{pid(last)}/c1/email"] == "suppressed_no_consent"
    assert len(list((tmp_path / "o").iterdir())) == 2  # one file per batch


@pytest.mark.parametrize("change, message", [
    (lambda p: p.drop(columns="arm"), "lacks columns \\['arm'\\]"),
    (lambda p: p.assign(colour="red"), "does not know"),
    (lambda p: p.assign(channel="fax"), "unknown channels \\['fax'\\]"),
    (lambda p: p.assign(template="spring_sms"), "is for sms, the plan sends it by email"),
    (lambda p: p.assign(channel="sms", template="spring_sms"), "no connector for channels \\['sms'\\]"),
    (lambda p: pd.concat([p, p]), "twice"),
    (lambda p: p.assign(profile_id=None), "plan row 0: profile_id is empty"),
])
def test_a_bad_plan_is_refused_before_anything_happens(warehouse, population, links, templates, tmp_path, change,
                                                       message):
    population.add(1)
    with pytest.raises(PlanError, match=message):
        deliver(warehouse, change(plan([0])), templates=templates, links=links, clock=at(0),
                connectors={"email": FileConnector(tmp_path, "v")})
    assert warehouse.count("deliveries") == 0


# -- the property: whatever the campaign and the consent history, nobody gets a message without consent --

N_PEOPLE = 4
record = st.tuples(st.integers(0, N_PEOPLE - 1), st.sampled_from(["user_id", "email", "phone"]),
                   st.sampled_from(["email", "sms", "all"]), st.sampled_from(["granted", "denied"]),
                   st.integers(0, 10))
step = st.tuples(st.integers(0, 12), st.sets(st.sampled_from(["email", "sms"]), min_size=1),
                 st.lists(st.sampled_from(["A", "B", "control", None]), min_size=N_PEOPLE, max_size=N_PEOPLE))


def reference_allows(history, person: int, channel: str, hour: float) -> bool:
    """The consent rules of docs/delivery.md, applied by hand to one person's records."""
    mine = [(h, status) for p, _, ch, status, h in history if p == person and ch in (channel, "all") and h <= hour]
    if not mine:
        return False
    last = max(h for h, _ in mine)
    return all(status == "granted" for h, status in mine if h == last)


PROPERTY_TEMPLATES = TemplateSet([
    MessageTemplate("e", "email", subject="Hello", text="Offer {{ delivery_id }} {{ unsubscribe_url }}"),
    MessageTemplate("s", "sms", text="Offer {{ delivery_id }}"),
])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(record, max_size=14), steps=st.lists(step, min_size=1, max_size=3))
def test_no_message_without_consent_at_the_moment_of_sending(warehouse, links, history, steps):
    for name in ("identity_map", "pii_vault", "consents", "deliveries"):
        warehouse.delete_where(name, lambda t: ibis.literal(True))
    people = Population(warehouse)
    people.add(N_PEOPLE)
    if history:
        people.consent([(p, kind, ch, status, hours(h)) for p, kind, ch, status, h in history])
    moment = {}  # delivery id -> the hour it was judged and sent at
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        connectors = {ch: FileConnector(out / ch, "v") for ch in ("email", "sms")}
        for number, (hour, channels, arms) in enumerate(sorted(steps, key=lambda s: s[0])):
            rows = [plan([i], channel=ch, template=ch[0], arm=arm, step=str(number))
                    for ch in sorted(channels) for i, arm in enumerate(arms) if arm is not None]
            if not rows:
                continue
            deliver(warehouse, pd.concat(rows), templates=PROPERTY_TEMPLATES, links=links, connectors=connectors,
                    clock=at(hour + 0.5))
            moment |= {delivery_id_for("c1", str(number), pid(i), ch): hour + 0.5
                       for ch in channels for i, arm in enumerate(arms) if arm is not None}
        received = pd.concat([exported(out / ch) for ch in ("email", "sms")])
    d = warehouse.execute(warehouse.table("deliveries"))
    assert sorted(d.delivery_id) == sorted(moment)  # every planned message is recorded, once
    # what people received is exactly what deliveries says was sent
    assert sorted(received.delivery_id) == sorted(d.delivery_id[d.status == "sent"])
    for row in d.itertuples():
        allowed = reference_allows(history, int(row.profile_id[1:]), row.channel, moment[row.delivery_id])
        if row.arm == "control":
            assert row.status == "held_out", row
        elif row.status == "sent":
            assert allowed, row
        else:
            assert row.status == "suppressed_no_consent" and not allowed, row
