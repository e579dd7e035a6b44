"""The send-time model: hand-worked histograms and shrinkage on both engines, scheduling by hand around
midnight, quiet hours and time zones, and the simulator as referee (preferred hours and opens)."""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.errors import ConfigError, NotFittedError
from jingzhun.models.sendtime import SendTimeModel, allowed_hours, schedule, send_time_scores
from jingzhun.models.store import register, write_scores
from jingzhun.schema.tables import table

AS_OF = "2024-06-10T00:00:00Z"
TZ = "Asia/Shanghai"  # local = UTC + 8


def _local(day: str, hour: int, minute: int = 10) -> pd.Timestamp:
    """A UTC moment that is ``hour:minute`` local time in Shanghai on ``day``."""
    return pd.Timestamp(f"{day} {hour:02d}:{minute:02d}", tz="Asia/Shanghai").tz_convert("UTC")


def _event(i, user, at, event="Email Opened", flags=""):
    return {"message_id": f"m{i}", "type": "track", "event": event, "user_id": user, "timestamp": at,
            "source": "web", "load_id": "l1", "quality_flags": flags}


MON, WED, FRI = "2024-06-03", "2024-06-05", "2024-05-31"  # a Monday, a Wednesday, a Friday


@pytest.fixture
def hand_shop(warehouse):
    """Segment 25-34: A (3 opens at 20h, Mondays), A2 (3 clicks at 20h, Mondays), D (1 open at 9h, a
    Wednesday). Segment 35-44: C (4 opens and 1 campaign open at 8h, Fridays), E (nothing). F: no
    segment, nothing. Plus what must not count: a bot, an event after as_of, a page view, a response
    without a delivery, a conversion."""
    people = {"A": "25-34", "A2": "25-34", "D": "25-34", "C": "35-44", "E": "35-44", "F": None}
    warehouse.append("identity_map", pd.DataFrame({"kind": "user_id", "key": [f"u{p}" for p in people],
                                                   "profile_id": list(people), "is_shared": False}))
    features = pd.DataFrame({"profile_id": [p for p, s in people.items() if s],
                             "age_band": [s for s in people.values() if s], "as_of": pd.Timestamp(AS_OF)})
    for column in table("profile_features").columns:  # the counts that cannot be null, 0 here
        if not column.nullable and column.name not in features:
            features[column.name] = 0 if column.dtype == "int64" else 0.0
    warehouse.append("profile_features", features)
    events = [_event(i, "uA", _local(MON, 20)) for i in range(3)]
    events += [_event(10 + i, "uA2", _local(MON, 20, 40), "Email Link Clicked") for i in range(3)]
    events += [_event(20, "uD", _local(WED, 9))]
    events += [_event(30 + i, "uC", _local(FRI, 8), "Push Opened") for i in range(4)]
    events += [_event(40, "uD", _local(WED, 3), flags="bot"),                      # a bot's click
               _event(41, "uD", _local("2024-06-11", 3)),                           # after as_of
               _event(42, "uE", _local(WED, 3), "Product Viewed")]                  # browsing is not engagement
    warehouse.append("events", pd.DataFrame(events))
    warehouse.append("deliveries", pd.DataFrame({"delivery_id": ["d1"], "campaign_id": "c", "profile_id": "C",
                                                 "arm": "a", "channel": "email", "status": "sent"}))
    warehouse.append("responses", pd.DataFrame({
        "delivery_id": ["d1", "d1", "d9"], "profile_id": ["C", "C", "E"], "response": ["open", "conversion", "open"],
        "responded_at": [_local(FRI, 8, 30), _local(FRI, 9), _local(WED, 3)]}))
    return warehouse


def _predict(wh, **params):
    model = SendTimeModel(timezone=TZ, min_segment_size=1, **params).fit(wh, AS_OF)
    return model, wh.execute(model.predict(wh, AS_OF)).set_index("profile_id").sort_index()


def test_hand_worked_hours_weekdays_and_shrinkage(hand_shop):
    model, got = _predict(hand_shop, hour_prior_weight=8.0, weekday_prior_weight=8.0)
    # evidence: A 3 opens (x4) at 20h, A2 3 clicks at 20h, D 1 at 9h; C 4 push opens + 1 campaign open at 8h
    assert got.responses.to_dict() == {"A": 3, "A2": 3, "C": 5, "D": 1, "E": 0, "F": 0}
    # segment 25-34 spent 24 of its 28 weighted events at 20h, 4 at 9h; 35-44 all 20 at 8h
    assert model.priors_["25-34"]["hours"][20] == pytest.approx(24 / 28)
    assert model.priors_["35-44"]["hours"][8] == 1.0
    assert model.priors_["__all__"]["hours"][20] == pytest.approx(24 / 48)
    assert model.params_["population_hour"] == 20
    assert got.loc["A", "send_hour"] == 20 and got.loc["C", "send_hour"] == 8
    # D, one open at 9h: own smoothed score at 9h is 5 x 4 = 20, at 20h 0; the prior adds
    # k x 17 x q(h): 8 x 17 x 24/28 = 116.6 at 20h against 20 + 8 x 17 x 4/28 = 39.4 at 9h -> 20h
    assert got.loc["D", "send_hour"] == 20
    assert got.loc["E", "send_hour"] == 8 and got.loc["E", "send_weekday"] == 4     # 35-44's pattern
    assert got.loc["F", "send_hour"] == 20                                          # the population's
    assert got.loc["A", "send_weekday"] == 0 and got.loc["C", "send_weekday"] == 4
    assert got.loc["A", "reason"] == "3 opens and clicks, most around 20:00"
    assert got.loc["D", "reason"] == "little history (1 open or click): the pattern of people aged 25-34"
    assert got.loc["E", "reason"] == "no history: the pattern of people aged 35-44"
    assert got.loc["F", "reason"] == "no history: the pattern of all customers"
    # a weak prior: 20 + 1 x 17 x 4/28 = 22.4 at 9h beats 1 x 17 x 24/28 = 14.6 at 20h
    _, weak = _predict(hand_shop, hour_prior_weight=1.0)
    assert weak.loc["D", "send_hour"] == 9
    # D's smoothed evidence reaches 8h and 10h (4 x 4 = 16 each); with no prior, 9h is the peak
    _, none = _predict(hand_shop, hour_prior_weight=0.0)
    assert none.loc["D", "send_hour"] == 9 and pd.isna(none.loc["E", "send_hour"])  # no evidence, no prior
    # a segment smaller than min_segment_size uses the population's pattern
    small = SendTimeModel(timezone=TZ, min_segment_size=2).fit(hand_shop, AS_OF)
    assert set(small.priors_) == {"__all__", "25-34"}
    e = hand_shop.execute(small.predict(hand_shop, AS_OF)).set_index("profile_id").loc["E"]
    assert (e.send_hour, e.prior) == (20, "__all__")


def test_purchases_count_less_than_opens(hand_shop):
    hand_shop.append("orders", pd.DataFrame({
        "source": "shop", "order_id": [f"o{i}" for i in range(3)], "load_id": "l1", "quality_flags": "",
        "status": "completed", "is_return": False, "currency": "CNY", "amount": 10.0, "n_lines": 1,
        "user_id": "uA", "ordered_at": [_local(MON, 14)] * 3}))
    _, got = _predict(hand_shop, hour_prior_weight=0.0)
    # 3 purchases at 14h weigh 3 against the 12 of 3 opens at 20h
    assert got.loc["A", "send_hour"] == 20 and got.loc["A", "purchases"] == 3
    assert got.loc["A", "reason"] == "3 opens and clicks and 3 purchases, most around 20:00"
    _, buyers_first = _predict(hand_shop, hour_prior_weight=0.0, engagement_weight=1, purchase_weight=4)
    assert buyers_first.loc["A", "send_hour"] == 14


def test_scores_registry_and_round_trip(hand_shop, tmp_path):
    model, _ = _predict(hand_shop)
    record = register(hand_shop, model, "send_time", as_of=AS_OF, data_fingerprint="x", metrics={},
                      directory=tmp_path)
    loaded = record.load()
    assert isinstance(loaded, SendTimeModel) and loaded.priors_ == model.priors_
    assert write_scores(hand_shop, send_time_scores(loaded.predict(hand_shop, AS_OF)), record.model_id) == 12
    scores = hand_shop.execute(hand_shop.table("scores")).set_index(["profile_id", "score"])
    assert scores.loc[("C", "send_hour"), "value"] == 8.0 and scores.loc[("C", "send_weekday"), "value"] == 4.0


def test_model_contract():
    with pytest.raises(NotFittedError):
        SendTimeModel().predict(None, AS_OF)
    model = SendTimeModel(segment="gender")
    assert SendTimeModel(**model.get_params()).get_params() == model.get_params()
    with pytest.raises(ConfigError, match="hour_prior_weight"):
        SendTimeModel(hour_prior_weight=-1).fit(None, AS_OF)


def test_unknown_segment_column_is_named(hand_shop):
    with pytest.raises(ConfigError, match="'shoe_size' is not in profile_features"):
        SendTimeModel(segment="shoe_size").fit(hand_shop, AS_OF)


# -- scheduling ------------------------------------------------------------------------------------

def test_allowed_hours_move_to_the_nearest_edge():
    moves = allowed_hours(("21:00", "09:00"))
    assert [moves[h] for h in (20, 21, 23, 2, 3, 5, 8, 9)] == [20, 20, 20, 20, 9, 9, 9, 9]
    assert allowed_hours(None)[3] == 3
    assert allowed_hours(("00:00", "06:00"))[5] == 6 and allowed_hours(("00:00", "06:00"))[1] == 23
    with pytest.raises(ConfigError, match="on the hour"):
        allowed_hours(("21:30", "09:00"))


START = "2024-06-03T15:30:00Z"  # Monday 23:30 in Shanghai


def _schedule(wh, rows, **kwargs):
    frame = pd.DataFrame(rows, columns=["profile_id", "send_hour", "send_weekday"]).astype(
        {"send_hour": "Int64", "send_weekday": "Int64"})
    staged = wh.stage(frame)
    got = wh.execute(schedule(staged, **{"start": START, "within_days": 7, **kwargs}))
    return {r.profile_id: pd.Timestamp(r.scheduled_at).tz_convert("Asia/Shanghai").strftime("%a %m-%d %H:%M")
            for r in got.itertuples()}


def test_schedule_by_hand(warehouse):
    rows = [("evening", 20, None), ("late", 23, None), ("night", 2, None), ("dawn", 5, None),
            ("friday", 10, 4), ("tuesday", 10, 1), ("monday", 10, 0), ("nobody", None, None),
            ("also20", 20, None)]
    got = _schedule(warehouse, rows)
    assert got == {
        "evening": "Tue 06-04 20:00", "late": "Tue 06-04 20:00",        # 23h is quiet: 20h is nearest
        "night": "Tue 06-04 20:00", "dawn": "Tue 06-04 09:00",          # 2h: 20h is 6 away, 9h 7
        "friday": "Fri 06-07 10:00", "tuesday": "Tue 06-04 10:00",
        "monday": "Mon 06-10 10:00",                                    # still inside the 7 days
        "nobody": "Tue 06-04 10:00",                                    # the most common hour (3 of 8)
        "also20": "Tue 06-04 20:00"}
    short = _schedule(warehouse, [("monday", 10, 0)], within_days=3)
    assert short == {"monday": "Tue 06-04 10:00"}                       # Monday is outside: first 10:00
    ignore = _schedule(warehouse, [("friday", 10, 4)], use_weekday=False)
    assert ignore == {"friday": "Tue 06-04 10:00"}


def test_schedule_around_midnight_and_time_zones(warehouse):
    # no quiet hours: a midnight person at 23:30 gets the next half hour
    assert _schedule(warehouse, [("p", 0, None)], quiet_hours=None) == {"p": "Tue 06-04 00:00"}
    # starting inside the person's hour sends at the start
    assert _schedule(warehouse, [("p", 23, None)], quiet_hours=None) == {"p": "Mon 06-03 23:30"}
    # hours are local to the given zone: 20h in UTC is 04:00 the next day in Shanghai
    assert _schedule(warehouse, [("p", 20, None)], timezone="UTC", quiet_hours=None) == {"p": "Tue 06-04 04:00"}
    # in UTC the start is Monday 15:30: a Monday 16h person goes the same day
    assert _schedule(warehouse, [("p", 16, 0)], timezone="UTC", quiet_hours=None) == {"p": "Tue 06-04 00:00"}
    assert _schedule(warehouse, [("p", None, None)], fallback_hour=11) == {"p": "Tue 06-04 11:00"}
    frame = pd.DataFrame({"profile_id": ["p"], "send_hour": pd.array([None], dtype="Int64")})
    nobody = warehouse.execute(schedule(warehouse.stage(frame), start=START, within_days=7))
    assert list(nobody.profile_id) == ["p"] and nobody.scheduled_at.isna().all()   # kept, with no time
    with pytest.raises(ConfigError, match="within_days"):
        _schedule(warehouse, [("p", 1, None)], within_days=0)


# -- the simulator as referee ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A 10,000-customer simulated shop with features; the model fitted at the window's end; each true
    person with their profile's prediction."""
    from jingzhun.config import Settings
    from jingzhun.pipeline.referee import person_profiles
    from jingzhun.profile import build_features
    from jingzhun.warehouse import Warehouse

    from tests.models.conftest import SIM_END, SIM_SECRET, build_sim_shop

    root = tmp_path_factory.mktemp("sendtime")
    path, truth_dir = build_sim_shop(root, 10_000, seed=23)
    with Warehouse.duckdb(path) as wh:
        build_features(wh, as_of=SIM_END, timezone=TZ, full=True)
        model = SendTimeModel(timezone=TZ).fit(wh, SIM_END)
        predicted = wh.execute(model.predict(wh, SIM_END))
        owners = person_profiles(wh, truth_dir, secret=SIM_SECRET, settings=Settings())
    persons = pd.read_parquet(truth_dir / "persons.parquet")
    judged = persons.merge(owners, on="person_id").merge(predicted, on="profile_id")
    return judged.drop_duplicates("profile_id", keep=False), model  # profiles mixing persons say nothing


@pytest.mark.slow
def test_learned_hour_is_the_preferred_hour(simulated):
    judged, _ = simulated
    engaged = judged[judged.responses >= 5]
    hour = (engaged.send_hour == engaged.preferred_hour).mean()
    weekday = (engaged.send_weekday == engaged.preferred_weekday).mean()
    some = judged[judged.responses.between(1, 4)]
    print(f"\nsend time on {len(judged):,} simulated persons; among the {len(engaged):,} with 5+ opens and clicks: "
          f"hour {hour:.1%}, weekday {weekday:.1%}; with 1-4: hour "
          f"{(some.send_hour == some.preferred_hour).mean():.1%}, weekday "
          f"{(some.send_weekday == some.preferred_weekday).mean():.1%} ({len(some):,})")
    assert len(engaged) > 3_000
    assert hour >= 0.70 and weekday >= 0.70


@pytest.mark.slow
def test_a_campaign_at_model_times_beats_a_fixed_hour(simulated, warehouse):
    from jingzhun.sim.responses import open_probability

    judged, model = simulated
    start = "2024-12-31T16:00:00Z"  # Wednesday 1 January 2025, 00:00 in Shanghai
    staged = warehouse.stage(judged[["profile_id", "send_hour", "send_weekday"]])
    at = warehouse.execute(schedule(staged, start=start, within_days=7, timezone=TZ))
    messages = judged[["person_id", "profile_id"]].merge(at, on="profile_id")
    messages = messages.assign(message_id=messages.profile_id, channel="email", offer_kind=None, treated=True)
    fixed = messages.assign(sent_at=pd.Timestamp("2025-01-01 10:00", tz=TZ).tz_convert("UTC"))
    timed = messages.rename(columns={"scheduled_at": "sent_at"})
    by_model = open_probability(judged, timed).sum()
    at_ten = open_probability(judged, fixed).sum()
    engaged = (judged.set_index("profile_id").loc[messages.profile_id, "responses"] >= 5).to_numpy()
    gain_engaged = open_probability(judged, timed[engaged]).sum() / open_probability(judged, fixed[engaged]).sum()
    print(f"\nexpected e-mail opens of {len(messages):,} messages: at model times {by_model:,.0f}, at 10:00 "
          f"{at_ten:,.0f} ({by_model / at_ten - 1:+.1%}); among people with 5+ opens and clicks "
          f"{gain_engaged - 1:+.1%}")
    assert by_model > 1.05 * at_ten
