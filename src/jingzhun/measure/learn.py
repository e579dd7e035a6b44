"""Closing the loop: campaign responses written back as tracking events, so the next build learns from them.

Opens and clicks arrive in ``responses`` (tracked links, the open pixel). The models that decide the
next campaign read them there directly: the send-time model, the channel model (both in
:mod:`jingzhun.models`) and the uplift models (:func:`jingzhun.measure.uplift.campaign_experiment`).
Profile features read behaviour from ``events``, so :func:`responses_to_events` writes each open and
click there too, as the Segment-spec track event a tracking client would have sent ('Email Opened',
'Email Link Clicked', 'Push Opened', 'SMS Link Clicked', ...), under one of the person's own event
identifiers and a load id of its own. The next ``jingzhun build`` then refreshes exactly the people
who responded (a new load id touches them) and their engagement counts, peak hours and tags move.

The written events carry ``source = 'campaign-responses'`` (:data:`RESPONSE_EVENTS_SOURCE`): the models
that read ``responses`` themselves leave those events out, so nothing is counted twice. Writing is
idempotent: an event's ``message_id`` is derived from the response, and one already written is skipped.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import numpy as np
import pandas as pd

from jingzhun.activation.consent import as_utc_literal
from jingzhun.schema.tables import RESPONSE_EVENTS_SOURCE
from jingzhun.warehouse import Warehouse

__all__ = ["responses_to_events", "first_identifiers", "EVENT_NAMES", "RESPONSE_EVENTS_SOURCE"]

# (channel, response) -> the track event a tracking client sends for it
EVENT_NAMES = {
    ("email", "open"): "Email Opened", ("email", "click"): "Email Link Clicked",
    ("push", "open"): "Push Opened", ("push", "click"): "Push Opened",
    ("sms", "click"): "SMS Link Clicked", ("sms", "open"): "SMS Link Clicked",
    ("wechat", "open"): "WeChat Message Opened", ("wechat", "click"): "WeChat Link Clicked",
    ("direct_mail", "click"): "Direct Mail Link Clicked", ("direct_mail", "open"): "Direct Mail Link Clicked",
}
_ID_KINDS = ("user_id", "anonymous_id", "device_id")  # the identifiers an event is attached by


def responses_to_events(warehouse: Warehouse, *, at: datetime | pd.Timestamp | str,
                        campaign_id: str | None = None) -> dict[str, int]:
    """Write the opens and clicks recorded before ``at`` (of one campaign, or all) that are not yet in
    ``events``; returns how many were written and how many have no event identifier to be attached by."""
    moment = pd.Timestamp(at)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    r = warehouse.table("responses")
    d = warehouse.table("deliveries")
    rows = r.join(d, r.delivery_id == d.delivery_id).filter(
        r.response.isin(["open", "click"]) & (r.responded_at < as_utc_literal(moment)))
    if campaign_id is not None:
        rows = rows.filter(d.campaign_id == campaign_id)
    frame = warehouse.execute(rows.select(r.delivery_id, r.profile_id, r.response, r.responded_at, d.channel,
                                          d.campaign_id))
    if frame.empty:
        return {"written": 0, "without_identifier": 0}
    frame["message_id"] = [_event_id(*row) for row in frame[["delivery_id", "response", "responded_at"]]
                           .itertuples(index=False)]
    known = warehouse.table("events")
    known = set(warehouse.execute(known.filter(known.source == RESPONSE_EVENTS_SOURCE).select("message_id"))
                .message_id)
    frame = frame[~frame.message_id.isin(known)]
    ids = first_identifiers(warehouse, set(frame.profile_id), _ID_KINDS)
    frame = frame.merge(ids, on="profile_id", how="left")
    orphans = int(frame.kind.isna().sum())
    frame = frame[frame.kind.notna()]
    if frame.empty:
        return {"written": 0, "without_identifier": orphans}
    names = [EVENT_NAMES.get((c, k), f"{c.title()} Message {k.title()}ed") for c, k in zip(frame.channel, frame.response)]
    events = pd.DataFrame({
        "message_id": frame.message_id, "type": "track", "event": names,
        "timestamp": pd.to_datetime(frame.responded_at, utc=True), "received_at": moment,
        "channel": frame.channel,
        "properties": [json.dumps({"campaign_id": c, "delivery_id": dl}) for c, dl in zip(frame.campaign_id,
                                                                                       frame.delivery_id)],
        "context": [json.dumps({"campaign": {"id": c}}) for c in frame.campaign_id],
        "source": RESPONSE_EVENTS_SOURCE, "load_id": f"{RESPONSE_EVENTS_SOURCE}:{moment.isoformat()}",
        "quality_flags": "",
    })
    for kind in _ID_KINDS:
        events[kind] = np.where(frame.kind == kind, frame.key, None)
    with warehouse.transaction():
        warehouse.append("events", events)
    return {"written": int(len(events)), "without_identifier": orphans}


def _event_id(delivery_id: str, response: str, at) -> str:
    text = f"{delivery_id}|{response}|{pd.Timestamp(at).isoformat()}"
    return "resp-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def first_identifiers(warehouse: Warehouse, profile_ids: set[str], kinds: tuple[str, ...]) -> pd.DataFrame:
    """profile_id, kind, key: for each profile, its first identifier among ``kinds`` (in that order;
    shared identifiers never), to write a row the profile's own identity will attach."""
    im = warehouse.table("identity_map")
    rows = warehouse.execute(im.filter(im.kind.isin(list(kinds)) & ~im.is_shared).select("profile_id", "kind", "key"))
    rows = rows[rows.profile_id.isin(profile_ids)].copy()
    rows["rank"] = rows.kind.map({k: i for i, k in enumerate(kinds)})
    return rows.sort_values(["profile_id", "rank", "key"]).drop_duplicates("profile_id")[["profile_id", "kind", "key"]]
