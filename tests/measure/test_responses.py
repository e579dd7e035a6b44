"""Linking orders to deliveries: conversions, redemptions and visits, windows, attribution, idempotency."""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.measure.responses import link_responses
from tests.activation.conftest import Population, T0, pid
from tests.measure.campaigns import build_c1, day, orders, write_campaign

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def responses(wh, kinds=("conversion", "redemption", "visit")) -> pd.DataFrame:
    r = wh.execute(wh.table("responses"))
    return r[r.response.isin(kinds)].sort_values(["profile_id", "response"], ignore_index=True)


def test_the_hand_built_campaign_links_what_its_docstring_says(warehouse, tmp_path):
    build_c1(warehouse, tmp_path)
    written = link_responses(warehouse, "c1", at=day(30))
    assert written == {"conversion": 6, "redemption": 2, "visit": 1}
    r = responses(warehouse)
    got = {(p, k): (v, d) for p, k, v, d in zip(r.profile_id, r.response, r.value, r.detail)}
    assert got == {
        (pid(0), "conversion"): (50.0, "o0-0"), (pid(0), "redemption"): (50.0, "SAVE10"),
        (pid(4), "conversion"): (100.0, "o2-4"), (pid(4), "redemption"): (100.0, "SAVE10"),
        (pid(5), "conversion"): (60.0, "o4-5"), (pid(5), "visit"): (60.0, "o4-5"),
        (pid(11), "conversion"): (80.0, "o7-11"), (pid(12), "conversion"): (20.0, "o8-12"),
        (pid(13), "conversion"): (200.0, "o9-13"),
    }
    when = pd.to_datetime(r[r.profile_id == pid(13)].responded_at, utc=True).iloc[0]   # Spark gives naive UTC
    assert when == day(13)


def test_linking_again_adds_nothing_and_later_orders_add_only_what_is_new(warehouse, tmp_path):
    build_c1(warehouse, tmp_path)
    link_responses(warehouse, "c1", at=day(5.5))          # p0, p4, p11 have bought by then; p5 at day 5 too
    first = responses(warehouse)
    assert sorted(first[first.response == "conversion"].profile_id) == [pid(0), pid(4), pid(5), pid(11)]
    assert link_responses(warehouse, "c1", at=day(5.5)) == {"conversion": 0, "redemption": 0, "visit": 0}
    assert link_responses(warehouse, "c1", at=day(30)) == {"conversion": 2, "redemption": 0, "visit": 0}
    assert link_responses(warehouse, None, at=day(60)) == {"conversion": 0, "redemption": 0, "visit": 0}
    assert len(responses(warehouse)) == 9


def _delivery(cid, i, *, step="1", sent=None, scheduled=None, status="sent", arm="A"):
    return {"delivery_id": f"{cid}-{step}-{i}", "campaign_id": cid, "profile_id": pid(i), "arm": arm,
            "channel": "email", "scheduled_at": scheduled, "sent_at": sent, "status": status}


def test_window_edges_are_after_the_message_and_up_to_the_window_inclusive(warehouse):
    Population(warehouse).add(4)
    write_campaign(warehouse, "w", {"name": "w", "conversion": {"window_days": 14, "min_amount": 10}})
    warehouse.append("deliveries", pd.DataFrame([
        _delivery("w", 0, sent=T0), _delivery("w", 1, sent=T0), _delivery("w", 2, sent=T0),
        _delivery("w", 3, scheduled=T0, status="held_out", arm="control")]))
    second = pd.Timedelta(seconds=1) / pd.Timedelta(days=1)
    orders(warehouse, [(0, 10, 0),                 # at the moment of sending: not caused by it
                       (0, 5, 1),                  # below the minimum amount
                       (1, 12, 14),                # exactly 14 days later: in
                       (2, 12, 14 + second),       # a second too late
                       (3, 15, 7)])                # control: counted from when it would have gone
    link_responses(warehouse, "w", at=day(40))
    r = responses(warehouse)
    assert list(r.profile_id) == [pid(1), pid(3)]


def test_an_order_counts_once_per_campaign_for_the_latest_message_and_in_every_campaign(warehouse):
    Population(warehouse).add(1)
    for cid in ("s", "t"):
        write_campaign(warehouse, cid, {"name": cid})
    warehouse.append("deliveries", pd.DataFrame([
        _delivery("s", 0, step="1", sent=T0), _delivery("s", 0, step="2", sent=day(7)),
        _delivery("t", 0, step="1", sent=day(1))]))
    orders(warehouse, [(0, 30, 3), (0, 40, 9)])
    link_responses(warehouse, at=day(30))
    r = warehouse.execute(warehouse.table("responses"))
    linked = dict(zip(r.delivery_id, r.detail))
    # step 1 gets the day-3 order, step 2 (sent on day 7) the day-9 one; campaign t claims its first order too
    assert linked == {"s-1-0": "o0-0", "s-2-0": "o1-0", "t-1-0": "o0-0"}


def test_messages_not_sent_count_from_when_they_were_due_else_the_campaigns_first_send(warehouse):
    Population(warehouse).add(3)
    write_campaign(warehouse, "u", {"name": "u"})
    warehouse.append("deliveries", pd.DataFrame([
        _delivery("u", 0, sent=day(10)),
        _delivery("u", 1, status="suppressed_no_consent", scheduled=day(2)),
        _delivery("u", 2, status="held_out", arm="control")]))       # no time planned: the first send (day 10)
    orders(warehouse, [(1, 10, 3), (2, 10, 5), (2, 11, 12)])
    link_responses(warehouse, "u", at=day(40))
    r = responses(warehouse)
    assert dict(zip(r.profile_id, r.detail)) == {pid(1): "o0-1", pid(2): "o2-2"}


def test_nothing_to_link_without_campaigns(warehouse):
    assert link_responses(warehouse, at=T0) == {"conversion": 0, "redemption": 0, "visit": 0}


def test_campaign_terms_read_either_form_of_arms_and_default_what_is_missing():
    from jingzhun.measure.responses import CampaignTerms

    mapping = CampaignTerms("a", {"arms": {"control": 0.1, "A": 0.9}, "costs": {"sms": "0.05"},
                                  "offers": [{"id": "x", "coupon_code": " win10 ", "cost": 4}]})
    listed = CampaignTerms("b", {"arms": [{"name": "control", "share": 0.1}, {"name": "A", "share": 0.9}],
                                 "conversion": {"window_days": 7, "min_amount": 20}})
    assert mapping.arms == listed.arms == {"control": 0.1, "A": 0.9}
    assert mapping.window_days == 14 and mapping.min_amount == 0 and mapping.costs == {"sms": 0.05}
    assert mapping.offers["x"]["coupon_code"] == "WIN10" and mapping.only_offer == "x"
    assert listed.window_seconds == 7 * 86_400 and listed.min_amount == 20 and listed.offers == {}
    empty = CampaignTerms("c", None)
    assert empty.name == "c" and empty.arms == {} and empty.only_offer is None
