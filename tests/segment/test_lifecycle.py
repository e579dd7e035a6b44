"""Lifecycle stages on the hand-built order history of tests/segment/buyers.py, on both engines."""

from __future__ import annotations

import pytest

from jingzhun.errors import ConfigError
from jingzhun.profile.clock import Clock
from jingzhun.segment import members
from jingzhun.segment.lifecycle import (
    FALLBACK_RULES, LifecycleRules, derive_rules, lifecycle_stages, save_lifecycle_segments,
)
from tests.segment.buyers import AS_OF, LATER, load_buyers

RULES = LifecycleRules(new_days=30, active_days=60, lapse_days=120)


@pytest.fixture
def shop(warehouse):
    load_buyers(warehouse)
    return warehouse


def _stages(wh, clock, rules) -> dict[str, str]:
    frame = wh.execute(lifecycle_stages(wh, clock, rules))
    return dict(zip(frame.profile_id, frame.stage))


def test_stages_by_hand(shop):
    # pNew: first purchase 10 days ago (the cancelled order and the one after as_of do not count);
    # pActive: last 20 days ago, gap 50; pWon: last 10 days ago after a gap of 290 > 120;
    # pRisk: last 90 days ago (60 < 90 <= 120); pLapsed: last 300 days ago; pReturn only returned; pNone none
    assert _stages(shop, Clock.at(AS_OF), RULES) == {
        "pNew": "new", "pActive": "active", "pWon": "won back", "pRisk": "at risk", "pLapsed": "lapsed"}


def test_what_decided_the_stage(shop):
    frame = shop.execute(lifecycle_stages(shop, Clock.at(AS_OF), RULES)).set_index("profile_id")
    assert frame.loc["pWon", ["recency_days", "age_days", "gap_days"]].tolist() == [10, 300, 290]
    assert frame.loc["pActive", ["recency_days", "age_days", "gap_days"]].tolist() == [20, 100, 50]
    assert frame.gap_days.isna().loc["pNew"]  # one purchase day: no gap


def test_thresholds_from_the_gaps(shop):
    # gaps between purchase days: pActive 30 and 50, pWon 290, pRisk 110, pLapsed 100 -> sorted
    # 30, 50, 100, 110, 290; cumulative shares .2 .4 .6 .8 1: the 80th percentile is 110, the 95th 290
    rules = derive_rules(shop, Clock.at(AS_OF))
    assert rules == LifecycleRules(new_days=110, active_days=110, lapse_days=290, source="data")
    # pActive's first purchase is 100 <= 110 days old: new; pWon's gap 290 is not > 290: active
    assert _stages(shop, Clock.at(AS_OF), rules) == {
        "pNew": "new", "pActive": "new", "pWon": "active", "pRisk": "active", "pLapsed": "lapsed"}
    given = derive_rules(shop, Clock.at(AS_OF), active_days=60)
    assert (given.new_days, given.active_days, given.lapse_days, given.source) == (110, 60, 290, "data+given")


def test_fallback_without_repeat_purchases(warehouse):
    assert derive_rules(warehouse, Clock.at(AS_OF)) == FALLBACK_RULES


def test_rules_are_checked():
    with pytest.raises(ConfigError, match="at least active_days"):
        LifecycleRules(new_days=10, active_days=60, lapse_days=30)
    with pytest.raises(ConfigError, match="whole number"):
        LifecycleRules(new_days=-1, active_days=60, lapse_days=90)


def test_saved_stages_later(shop):
    save_lifecycle_segments(shop, RULES)
    # 45 days later: pNew's purchase 5 days after AS_OF makes it active (first 55 days ago, last 40, gap 15);
    # pActive's last purchase is 65 days old: at risk; pRisk 135 days: lapsed; pWon 55 days, gap 290: won back
    got = {stage: set(shop.execute(members(shop, f"Lifecycle: {stage}", LATER)).profile_id)
           for stage in ("new", "active", "at risk", "lapsed", "won back")}
    assert got == {"new": set(), "active": {"pNew"}, "at risk": {"pActive"}, "lapsed": {"pRisk", "pLapsed"},
                   "won back": {"pWon"}}
