"""Deliver planned messages: consent checked for every message at the moment it goes, every message recorded.

A plan is a table of messages, one row per person, channel and step:

    campaign_id, profile_id, arm, channel, template          required
    step, delivery_id, scheduled_at, offer, recommendations, purpose   optional

The order of work, and why:

1. **Already recorded messages are dropped.** ``delivery_id`` (by default a hash of campaign, step,
   person and channel) is the key of ``deliveries``; a plan run twice sends nothing the second time.
2. **Every message is rendered before any is sent.** A template with a missing field fails the run
   while nothing has gone out (:mod:`jingzhun.activation.templates`).
3. **Then batch by batch** (``batch_size`` messages), at the moment of sending:
   the control arm is recorded ``held_out``; consent is checked on the message's channel and purpose
   *now*, not when the campaign was planned (an opt-out between two steps stops the later one);
   frequency caps are checked against what ``deliveries`` says each person was sent in the last day
   and week, across campaigns; raw addresses are read from the vault for the people left.
4. **Claim, send, confirm.** The messages about to go are written as ``sending`` first, then sent,
   then rewritten as ``sent`` or ``failed``. If the process dies in between, the re-run finds them
   claimed and does not send them again: a message is sent at most once. A ``sending`` row left
   behind means "may or may not have gone out" (docs/delivery.md says how to settle it).

Statuses: ``sent``, ``failed`` (with the reason in ``detail``), ``held_out`` (control arm),
``suppressed_no_consent``, ``suppressed_frequency_cap``, ``suppressed_no_address``, ``sending``.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.activation.assignment import CONTROL
from jingzhun.activation.connectors.base import FAILED, SENT, Connector, Message, Outcome, utc_now
from jingzhun.activation.consent import CONSENT_CHANNELS, as_utc_literal, consented
from jingzhun.activation.contacts import addresses
from jingzhun.activation.errors import PlanError
from jingzhun.activation.links import Links
from jingzhun.activation.templates import RenderedMessage, TemplateSet
from jingzhun.warehouse import Warehouse

__all__ = ["FrequencyCap", "DeliveryReport", "deliver", "delivery_id_for", "PLAN_COLUMNS", "SENDING", "HELD_OUT",
           "SUPPRESSED_NO_CONSENT", "SUPPRESSED_FREQUENCY_CAP", "SUPPRESSED_NO_ADDRESS"]

log = logging.getLogger(__name__)

PLAN_COLUMNS = ("campaign_id", "profile_id", "arm", "channel", "template")
_OPTIONAL = ("step", "delivery_id", "scheduled_at", "offer", "recommendations", "purpose")
SENDING, HELD_OUT = "sending", "held_out"
SUPPRESSED_NO_CONSENT = "suppressed_no_consent"
SUPPRESSED_FREQUENCY_CAP = "suppressed_frequency_cap"
SUPPRESSED_NO_ADDRESS = "suppressed_no_address"
# statuses that count towards a frequency cap: a message that went, or may have gone
_COUNTED = (SENT, SENDING)


@dataclass(frozen=True)
class FrequencyCap:
    """At most ``per_day`` messages per person in any 24 hours and ``per_week`` in any 7 days, over all
    campaigns and channels (None: no limit)."""

    per_day: int | None = None
    per_week: int | None = None


@dataclass
class DeliveryReport:
    """What a run did: messages per status, and how many the plan held that were already recorded."""

    counts: Counter = field(default_factory=Counter)
    already_recorded: int = 0

    def __getitem__(self, status: str) -> int:
        return self.counts[status]


def delivery_id_for(campaign_id: str, step: str, profile_id: str, channel: str) -> str:
    """The id of one message: the same plan row always gives the same id, which makes re-runs safe."""
    text = f"{campaign_id}|{step}|{profile_id}|{channel}"
    return "d" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def deliver(warehouse: Warehouse, plan: pd.DataFrame | ir.Table, *, templates: TemplateSet,
            connectors: Mapping[str, Connector], links: Links, fields: ir.Table | None = None,
            caps: FrequencyCap | None = None, purpose: str = "marketing", batch_size: int = 500,
            clock: Callable[[], datetime] = utc_now) -> DeliveryReport:
    """Send the plan's messages that are not yet recorded; record every one in ``deliveries``.

    ``connectors`` maps a channel to the connector that sends it; ``fields`` is a table with
    ``profile_id`` and the profile fields templates may use (``profile_features``, for example);
    ``clock`` gives the moment of sending (consent and caps are judged at that moment).
    """
    if batch_size < 1:
        raise PlanError(f"batch_size must be at least 1, got {batch_size}")
    frame = _checked_plan(plan if isinstance(plan, pd.DataFrame) else warehouse.execute(plan), templates,
                          connectors, purpose)
    report = DeliveryReport()
    done = _recorded(warehouse, frame.delivery_id)
    report.already_recorded = int(frame.delivery_id.isin(done).sum())
    frame = frame[~frame.delivery_id.isin(done)]
    if frame.empty:
        return report
    rendered = _render_all(warehouse, frame, templates, links, fields)
    for start in range(0, len(frame), batch_size):
        batch = frame.iloc[start:start + batch_size]
        _deliver_batch(warehouse, batch, rendered, connectors, links, caps, clock(), report)
    return report


# -- the plan --------------------------------------------------------------------------------------
def _checked_plan(frame: pd.DataFrame, templates: TemplateSet, connectors: Mapping[str, Connector],
                  purpose: str) -> pd.DataFrame:
    missing = [c for c in PLAN_COLUMNS if c not in frame.columns]
    if missing:
        raise PlanError(f"the plan lacks columns {missing}; a plan needs {list(PLAN_COLUMNS)}")
    extra = [c for c in frame.columns if c not in PLAN_COLUMNS + _OPTIONAL]
    if extra:
        raise PlanError(f"the plan has columns {extra} that deliver does not know; allowed: "
                        f"{list(PLAN_COLUMNS + _OPTIONAL)}")
    frame = frame.reset_index(drop=True).copy()
    for col in PLAN_COLUMNS:
        empty = frame[col].isna() | (frame[col].astype(str) == "")
        if empty.any():
            raise PlanError(f"plan row {int(empty.idxmax())}: {col} is empty")
        frame[col] = frame[col].astype(str)
    bad = sorted(set(frame.channel) - set(CONSENT_CHANNELS))
    if bad:
        raise PlanError(f"unknown channels {bad}; use {', '.join(CONSENT_CHANNELS)}")
    live = frame[frame.arm != CONTROL]
    for name, channel in live[["template", "channel"]].drop_duplicates().itertuples(index=False):
        if templates.channel(name) != channel:
            raise PlanError(f"template {name!r} is for {templates.channel(name)}, the plan sends it by {channel}")
    unserved = sorted(set(live.channel) - set(connectors))
    if unserved:
        raise PlanError(f"no connector for channels {unserved}: pass connectors={{channel: connector}}")
    frame["step"] = frame["step"].fillna("").astype(str) if "step" in frame else ""
    frame["purpose"] = frame["purpose"].fillna(purpose).astype(str) if "purpose" in frame else purpose
    ids = [delivery_id_for(*row) for row in frame[["campaign_id", "step", "profile_id", "channel"]].itertuples(index=False)]
    if "delivery_id" in frame:
        frame["delivery_id"] = frame["delivery_id"].where(frame["delivery_id"].notna(), pd.Series(ids)).astype(str)
    else:
        frame["delivery_id"] = ids
    twice = frame.delivery_id[frame.delivery_id.duplicated()]
    if not twice.empty:
        raise PlanError(f"the plan holds delivery {twice.iloc[0]!r} twice (same campaign, step, person and "
                        "channel); give each step its own `step`")
    frame["scheduled_at"] = pd.to_datetime(frame["scheduled_at"], utc=True) if "scheduled_at" in frame else pd.NaT
    return frame.sort_values(["scheduled_at", "delivery_id"], kind="stable", na_position="first")


def _recorded(warehouse: Warehouse, delivery_ids: pd.Series) -> set[str]:
    planned = ibis.memtable(pd.DataFrame({"delivery_id": delivery_ids.astype(str)}))
    d = warehouse.table("deliveries")
    hits = d.semi_join(planned, d.delivery_id == planned.delivery_id).select("delivery_id")
    return set(warehouse.execute(hits).delivery_id)


# -- content ---------------------------------------------------------------------------------------
def _render_all(warehouse: Warehouse, frame: pd.DataFrame, templates: TemplateSet, links: Links,
                fields: ir.Table | None) -> dict[str, RenderedMessage]:
    """Every non-control message rendered, by delivery id (a missing field raises before anything is sent)."""
    live = frame[frame.arm != CONTROL]
    profiles = _profile_fields(warehouse, fields, live.profile_id)
    out = {}
    for row in live.to_dict("records"):
        did = row["delivery_id"]
        context = {
            "profile": profiles.get(row["profile_id"], {"profile_id": row["profile_id"]}),
            "offer": _structured(row.get("offer"), None),
            "recommendations": _structured(row.get("recommendations"), []),
            "campaign_id": row["campaign_id"], "arm": row["arm"], "channel": row["channel"], "delivery_id": did,
            "track": lambda url, _did=did: links.click(_did, url),
            "survey": lambda questionnaire_id, _did=did: links.survey(_did, questionnaire_id),
            "unsubscribe_url": links.unsubscribe(did),
            "pixel_url": links.pixel(did),
        }
        message = templates.render(row["template"], context)
        if message.html is not None:
            message = RenderedMessage(message.template, message.subject, message.text,
                                      _with_pixel(message.html, context["pixel_url"]))
        out[did] = message
    return out


def _profile_fields(warehouse: Warehouse, fields: ir.Table | None, profile_ids: pd.Series) -> dict[str, dict]:
    if fields is None or profile_ids.empty:  # a batch of the control arm alone renders nothing
        return {}
    wanted = ibis.memtable(pd.DataFrame({"profile_id": sorted(set(profile_ids))}, dtype=object))
    rows = warehouse.execute(fields.semi_join(wanted, fields.profile_id == wanted.profile_id))
    return {r["profile_id"]: {k: _plain(v) for k, v in r.items()} for r in rows.to_dict("records")}


def _plain(value: Any) -> Any:
    """A pandas/numpy cell as a plain Python value; missing values as None."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def _structured(value: Any, default: Any) -> Any:
    """An offer or a recommendation list given as a Python object or as JSON text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise PlanError(f"offer or recommendations must be JSON, got {value[:60]!r}: {exc}") from exc
    return value


_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def _with_pixel(html: str, url: str) -> str:
    img = f'<img src="{html_lib.escape(url, quote=True)}" width="1" height="1" alt="" style="display:none">'
    ends = list(_BODY_END.finditer(html))
    if not ends:
        return html + img
    at = ends[-1].start()
    return html[:at] + img + html[at:]


# -- sending ---------------------------------------------------------------------------------------
def _deliver_batch(warehouse: Warehouse, batch: pd.DataFrame, rendered: dict[str, RenderedMessage],
                   connectors: Mapping[str, Connector], links: Links, caps: FrequencyCap | None, now: datetime,
                   report: DeliveryReport) -> None:
    """Judge, claim, send and confirm one batch at the moment ``now``."""
    final: dict[str, tuple[str, str | None]] = {}  # delivery id -> (status, detail) for messages not sent
    held = batch.arm == CONTROL
    for did in batch.delivery_id[held]:
        final[did] = (HELD_OUT, "control group: no message")
    allowed = _consented_ids(warehouse, batch[~held], now)
    for row in batch[~held].itertuples(index=False):
        if row.delivery_id not in allowed:
            final[row.delivery_id] = (SUPPRESSED_NO_CONSENT,
                                      f"no {row.purpose} consent on {row.channel} at {now.isoformat()}")
    candidates = batch[~batch.delivery_id.isin(final)]
    for did, why in _over_cap(warehouse, candidates, caps, now).items():
        final[did] = (SUPPRESSED_FREQUENCY_CAP, why)
    to_send = batch[~batch.delivery_id.isin(final)]
    messages, no_address = _messages(warehouse, to_send, rendered, connectors, links)
    for did, kind in no_address.items():
        final[did] = (SUPPRESSED_NO_ADDRESS, f"no {kind} address in the vault for this person")
    with warehouse.transaction():  # the claim: withheld messages are final now, the rest are 'sending'
        warehouse.append("deliveries", _rows(batch, {**final, **{m.delivery_id: (SENDING, None) for ms in
                                                                   messages.values() for m in ms}}, now))
    outcomes: list[Outcome] = []
    started = utc_now()
    for channel, ms in messages.items():
        outcomes += connectors[channel].send(ms)
    # sent_at on deliver's clock: the batch's moment plus the time the connector took to this message
    _confirm(warehouse, batch, outcomes, {o.delivery_id: now + (o.at - started) for o in outcomes if o.status == SENT})
    report.counts.update(status for status, _ in final.values())
    report.counts.update(o.status for o in outcomes)


def _consented_ids(warehouse: Warehouse, batch: pd.DataFrame, now: datetime) -> set[str]:
    """Delivery ids of the batch whose person has consent on the message's channel and purpose now."""
    ok: set[str] = set()
    for (channel, purpose), group in batch.groupby(["channel", "purpose"]):
        people = ibis.memtable(pd.DataFrame({"profile_id": sorted(set(group.profile_id))}))
        allowed = set(warehouse.execute(consented(warehouse, people, channel, now, purpose)).profile_id)
        ok |= set(group.delivery_id[group.profile_id.isin(allowed)])
    return ok


def _over_cap(warehouse: Warehouse, batch: pd.DataFrame, caps: FrequencyCap | None, now: datetime) -> dict[str, str]:
    """Delivery ids that would take a person over a cap, with the reason. Messages already recorded
    (earlier batches of this run included) count; within the batch, earlier messages come first."""
    if caps is None or batch.empty:
        return {}
    limits = [(n, timedelta(days=days), label) for n, days, label in
              ((caps.per_day, 1, "day"), (caps.per_week, 7, "week")) if n is not None]
    if not limits:
        return {}
    counts = {label: _sent_since(warehouse, batch.profile_id, now - span) for _, span, label in limits}
    over = {}
    for row in batch.itertuples(index=False):
        full = [f"{n} per {label}" for n, _, label in limits if counts[label].get(row.profile_id, 0) >= n]
        if full:
            over[row.delivery_id] = "frequency cap reached: " + ", ".join(full)
            continue
        for _, _, label in limits:
            counts[label][row.profile_id] = counts[label].get(row.profile_id, 0) + 1
    return over


def _sent_since(warehouse: Warehouse, profile_ids: pd.Series, since: datetime) -> dict[str, int]:
    people = ibis.memtable(pd.DataFrame({"profile_id": sorted(set(profile_ids))}))
    d = warehouse.table("deliveries")
    d = d.filter(d.status.isin(list(_COUNTED)) & (d.sent_at >= as_utc_literal(since)))
    d = d.semi_join(people, d.profile_id == people.profile_id)
    counted = warehouse.execute(d.group_by("profile_id").aggregate(n=d.count()))
    return dict(zip(counted.profile_id, counted.n.astype(int)))


def _messages(warehouse: Warehouse, batch: pd.DataFrame, rendered: dict[str, RenderedMessage],
              connectors: Mapping[str, Connector], links: Links) -> tuple[dict[str, list[Message]], dict[str, str]]:
    """The batch's messages per channel, with raw addresses for connectors that need one; and the
    delivery ids left without an address (by the kind that was missing)."""
    by_channel: dict[str, list[Message]] = {}
    no_address: dict[str, str] = {}
    for channel, group in batch.groupby("channel", sort=True):
        kind = connectors[channel].address_kind
        book = addresses(warehouse, group.profile_id, kind) if kind else {}
        for row in group.itertuples(index=False):
            to = book.get(row.profile_id) if kind else None
            if kind and to is None:
                no_address[row.delivery_id] = kind
                continue
            content = rendered[row.delivery_id]
            by_channel.setdefault(channel, []).append(Message(
                delivery_id=row.delivery_id, campaign_id=row.campaign_id, profile_id=row.profile_id, arm=row.arm,
                channel=channel, scheduled_at=None if pd.isna(row.scheduled_at) else row.scheduled_at.to_pydatetime(),
                subject=content.subject, text=content.text, html=content.html,
                unsubscribe_url=links.unsubscribe(row.delivery_id), to=to,
            ))
    return by_channel, no_address


def _confirm(warehouse: Warehouse, batch: pd.DataFrame, outcomes: list[Outcome], sent_at: dict[str, datetime]) -> None:
    """Rewrite the claimed rows with what the connectors answered."""
    if not outcomes:
        return
    ids = [o.delivery_id for o in outcomes]
    done = ibis.memtable(pd.DataFrame({"delivery_id": ids}))
    rows = _rows(batch[batch.delivery_id.isin(ids)], {o.delivery_id: (o.status, o.detail) for o in outcomes},
                 None, sent_at)
    with warehouse.transaction():
        staged = warehouse.stage(done)
        warehouse.delete_where("deliveries", lambda d: d.delivery_id.isin(staged.delivery_id) & (d.status == SENDING))
        warehouse.append("deliveries", rows)
    failed = sum(o.status == FAILED for o in outcomes)
    if failed:
        log.warning("%d of %d messages failed; see deliveries.detail", failed, len(outcomes))


def _rows(batch: pd.DataFrame, statuses: dict[str, tuple[str, str | None]], claimed_at: datetime | None,
          sent_at: dict[str, datetime] | None = None) -> pd.DataFrame:
    """``deliveries`` rows for the batch's messages named in ``statuses``. A claim's ``sent_at`` is the
    claim time (so caps count it); a confirmed message's is when the connector reported it sent."""
    rows = batch[batch.delivery_id.isin(statuses)]
    status = rows.delivery_id.map(lambda d: statuses[d][0])
    detail = rows.delivery_id.map(lambda d: statuses[d][1])
    if sent_at is not None:
        when = rows.delivery_id.map(lambda d: sent_at.get(d))
    else:
        when = pd.Series([claimed_at if s == SENDING else None for s in status], index=rows.index)
    return pd.DataFrame({
        "delivery_id": rows.delivery_id, "campaign_id": rows.campaign_id, "profile_id": rows.profile_id,
        "arm": rows.arm, "channel": rows.channel, "scheduled_at": rows.scheduled_at,
        "sent_at": pd.to_datetime(when, utc=True), "status": status, "detail": detail.astype(object),
    })
