"""Campaign responses written back as tracking events: the right event per channel and response, attached
to the person, written once, and seen by the next (incremental) feature build."""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.measure.learn import RESPONSE_EVENTS_SOURCE, responses_to_events
from jingzhun.profile.refresh import build_features

T0 = pd.Timestamp("2024-05-01 10:00", tz="UTC")


def _world(wh):
    wh.append("identity_map", pd.DataFrame({
        "kind": ["user_id", "anonymous_id", "email"], "key": ["u1", "a2", "e3"], "profile_id": ["p1", "p2", "p3"],
        "is_shared": False}))
    wh.append("deliveries", pd.DataFrame({
        "delivery_id": ["d1", "d2", "d3"], "campaign_id": "c1", "profile_id": ["p1", "p2", "p3"], "arm": "A",
        "channel": ["email", "sms", "email"], "scheduled_at": T0, "sent_at": T0, "status": "sent"}))
    wh.append("responses", pd.DataFrame({
        "delivery_id": ["d1", "d1", "d2", "d3", "d1"], "profile_id": ["p1", "p1", "p2", "p3", "p1"],
        "response": ["open", "click", "click", "open", "conversion"],
        "responded_at": [T0 + pd.Timedelta(hours=h) for h in (1, 2, 3, 4, 5)], "value": [None] * 4 + [30.0]}))


def test_opens_and_clicks_become_the_tracking_events_of_their_person_once(warehouse):
    _world(warehouse)
    done = responses_to_events(warehouse, at=T0 + pd.Timedelta(days=1))
    # p3 is known only by e-mail, which events are not attached by
    assert done == {"written": 3, "without_identifier": 1}
    ev = warehouse.execute(warehouse.table("events")).sort_values("timestamp").reset_index(drop=True)
    assert ev.event.tolist() == ["Email Opened", "Email Link Clicked", "SMS Link Clicked"]
    assert ev.user_id.tolist()[:2] == ["u1", "u1"] and ev.anonymous_id.iloc[2] == "a2"
    assert (ev.source == RESPONSE_EVENTS_SOURCE).all() and ev.load_id.nunique() == 1
    assert '"campaign_id": "c1"' in ev.properties.iloc[0]
    assert responses_to_events(warehouse, at=T0 + pd.Timedelta(days=2)) == {"written": 0, "without_identifier": 1}
    # only responses before `at` are written
    assert responses_to_events(warehouse, at=T0) == {"written": 0, "without_identifier": 0}


def test_the_next_build_counts_them_and_refreshes_only_the_responders(warehouse):
    _world(warehouse)
    as_of = T0 + pd.Timedelta(days=3)
    before = warehouse.execute(warehouse.table("events").count())
    first = build_features(warehouse, as_of=as_of, full=True)
    responses_to_events(warehouse, at=T0 + pd.Timedelta(days=1))
    assert warehouse.execute(warehouse.table("events").count()) == before + 3
    second = build_features(warehouse, as_of=as_of)
    assert first.mode == "full" and second.mode == "incremental"
    pf = warehouse.execute(warehouse.table("profile_features")).set_index("profile_id")
    assert pf.email_opened_90d["p1"] == 1 and pf.email_clicked_90d["p1"] == 1
    assert pf.sms_clicked_90d["p2"] == 1
    full = build_features(warehouse, as_of=as_of, full=True)
    again = warehouse.execute(warehouse.table("profile_features")).set_index("profile_id")
    cols = ["email_opened_90d", "email_clicked_90d", "sms_clicked_90d"]
    pd.testing.assert_frame_equal(pf[cols].sort_index(), again[cols].sort_index())
    assert full.mode == "full"
