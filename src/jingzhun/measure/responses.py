"""Responses that orders reveal: conversions, coupon redemptions and store visits, linked to deliveries.

Opens, clicks and unsubscribes arrive through tracked links (:func:`jingzhun.activation.record_response`).
What people then *did* is in ``orders``; :func:`link_responses` reads it and writes ``responses`` rows:

* **conversion**: the person's first purchase (returns, cancellations and zero-value orders excluded;
  at least the campaign's ``conversion.min_amount``) placed within the conversion window after the
  message; ``value`` is the order amount, ``detail`` the order id;
* **redemption**: the first purchase in the window that carries the coupon code of the message's offer
  (compared without case or surrounding blanks); ``value`` the order amount, ``detail`` the code;
* **visit**: the first purchase in the window placed in a store (``orders.channel`` = ``store``);
  ``value`` the order amount, ``detail`` the order id. (Events carry no store visits today.)

The window of a message is ``(t, t + conversion.window_days]`` (default 14 days) where ``t`` is its
*reference time*: when it was sent; for a message not sent (control's ``held_out``, a suppressed or
failed one) when it was due (``scheduled_at``); when no time was planned either, the campaign's first
send. Messages that never went are linked too, because the comparison with control is by intention to
treat: control's people get no message, and counting only the reachable people of the other arms
would compare the reachable against everyone.

One order and several messages:

* **within a campaign** an order counts once, for the latest of the person's messages whose window holds
  it (a second step is credited with what follows it, not the first step);
* **across campaigns** each campaign whose window holds the order claims it. Every campaign compares its
  arms with its own control group, drawn independently of other campaigns, so each campaign's
  incremental figure stays unbiased; adding revenue up across campaigns counts such orders more than
  once, and the overview report says so.

Each delivery has at most one response of each of these kinds, and a recorded one stands: linking again
adds nothing, and later data adds only the responses of deliveries that had none of that kind. Only
orders placed before ``at`` and messages whose reference time is before ``at`` are considered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.activation.consent import as_utc_literal
from jingzhun.profile.clock import epoch_seconds
from jingzhun.profile.keys import keyed_orders, left_join
from jingzhun.profile.rfm import is_purchase
from jingzhun.warehouse import Warehouse

__all__ = ["CONVERSION", "REDEMPTION", "VISIT", "ORDER_RESPONSES", "DEFAULT_WINDOW_DAYS", "CampaignTerms",
           "campaign_terms", "offer_of", "reference_times", "link_responses"]

log = logging.getLogger(__name__)

CONVERSION, REDEMPTION, VISIT = "conversion", "redemption", "visit"
ORDER_RESPONSES = (CONVERSION, REDEMPTION, VISIT)
DEFAULT_WINDOW_DAYS = 14
STORE_CHANNEL = "store"


class CampaignTerms:
    """What measurement needs from a campaign's definition, read defensively.

    Missing keys take defaults: a 14-day window, no minimum amount, no channel costs, no offers, arms
    from the data. ``offers`` maps offer id -> {"cost", "coupon_code", "kind", "title"}.
    """

    def __init__(self, campaign_id: str, definition: Mapping[str, Any] | None) -> None:
        d = dict(definition or {})
        conversion = d.get("conversion") or {}
        self.campaign_id = campaign_id
        self.name = str(d.get("name") or campaign_id)
        self.window_days = float(_number(conversion.get("window_days"), DEFAULT_WINDOW_DAYS))
        self.min_amount = float(_number(conversion.get("min_amount"), 0.0))
        self.costs = {str(k): float(_number(v, 0.0)) for k, v in (d.get("costs") or {}).items()}
        self.offers = {}
        for offer in d.get("offers") or []:
            if isinstance(offer, Mapping) and offer.get("id") is not None:
                self.offers[str(offer["id"])] = {
                    "cost": float(_number(offer.get("cost"), 0.0)), "coupon_code": _code(offer.get("coupon_code")),
                    "kind": offer.get("kind"), "title": offer.get("title")}
        arms = d.get("arms") or {}
        if isinstance(arms, Mapping):  # {"control": 0.1, "A": 0.9}
            self.arms = {str(k): float(_number(v, 0.0)) for k, v in arms.items()}
        else:  # [{"name": "control", "share": 0.1}, ...]
            self.arms = {str(a["name"]): float(_number(a.get("share"), 0.0)) for a in arms
                         if isinstance(a, Mapping) and a.get("name")}
        self.purpose = d.get("purpose")
        self.definition = d

    @property
    def window_seconds(self) -> int:
        return int(round(self.window_days * 86_400))

    @property
    def only_offer(self) -> str | None:
        """The offer every message carries when the definition has exactly one."""
        return next(iter(self.offers)) if len(self.offers) == 1 else None


def _number(value: Any, default: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if out == out else default


def _code(value: Any) -> str | None:
    text = str(value).strip().upper() if value is not None else ""
    return text or None


def campaign_terms(warehouse: Warehouse, campaign_id: str | None = None) -> dict[str, CampaignTerms]:
    """Every campaign's terms (or one campaign's), by id; a definition that is not JSON reads as empty."""
    t = warehouse.table("campaigns")
    if campaign_id is not None:
        t = t.filter(t.campaign_id == campaign_id)
    rows = warehouse.execute(t.select("campaign_id", "definition"))
    out = {}
    for cid, text in zip(rows.campaign_id, rows.definition):
        try:
            definition = json.loads(text) if text else {}
        except json.JSONDecodeError:
            log.warning("campaign %s: the definition is not JSON; measuring with default terms", cid)
            definition = {}
        out[str(cid)] = CampaignTerms(str(cid), definition if isinstance(definition, dict) else {})
    return out


def offer_of(text: Any) -> tuple[str | None, str | None]:
    """(offer id, coupon code) of a message's offer JSON (``campaign_messages.offer``)."""
    if text is None or (isinstance(text, float) and text != text):
        return None, None
    try:
        offer = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        return None, None
    if not isinstance(offer, Mapping):
        return None, None
    oid = offer.get("id")
    return (None if oid is None else str(oid)), _code(offer.get("coupon_code"))


def reference_times(warehouse: Warehouse, terms: Mapping[str, CampaignTerms]) -> ir.Table:
    """Per delivery of the campaigns in ``terms``: delivery_id, campaign_id, profile_id, arm, channel,
    status, ref_at (the reference time, see the module's docstring), offer_id and coupon_code, window
    seconds and minimum amount."""
    d = warehouse.table("deliveries")
    d = d.filter(d.campaign_id.isin(list(terms)))
    first = d.group_by("campaign_id").aggregate(_first_send=d.sent_at.min())
    d = left_join(d, first, "campaign_id")
    d = d.mutate(ref_at=ibis.coalesce(d.sent_at, d.scheduled_at, d._first_send)).drop("_first_send")

    messages = warehouse.table("campaign_messages")
    messages = messages.filter(messages.campaign_id.isin(list(terms)))
    texts = warehouse.execute(messages.select("offer").distinct()).offer
    parsed = [(t, *offer_of(t)) for t in texts if t is not None]
    offers = ibis.memtable(pd.DataFrame(parsed, columns=["offer", "offer_id", "coupon_code"]).astype(object),
                           schema={"offer": "string", "offer_id": "string", "coupon_code": "string"})
    planned = messages.select("delivery_id", "offer").join(offers, "offer").select("delivery_id", "offer_id",
                                                                                    "coupon_code")
    per_campaign = ibis.memtable(pd.DataFrame([{
        "campaign_id": cid, "_window": t.window_seconds, "_min_amount": t.min_amount, "_default_offer": t.only_offer,
        "_default_code": t.offers[t.only_offer]["coupon_code"] if t.only_offer else None,
    } for cid, t in terms.items()]).astype({"_default_offer": object, "_default_code": object}),
        schema={"campaign_id": "string", "_window": "int64", "_min_amount": "float64", "_default_offer": "string",
                "_default_code": "string"})
    d = left_join(d, planned, "delivery_id").join(per_campaign, "campaign_id")
    return d.select(
        "delivery_id", "campaign_id", "profile_id", "arm", "channel", "status", "sent_at", "ref_at",
        offer_id=ibis.coalesce(d.offer_id, d._default_offer), coupon_code=ibis.coalesce(d.coupon_code, d._default_code),
        window_seconds=d._window, min_amount=d._min_amount)


def _candidates(warehouse: Warehouse, refs: ir.Table, at: ir.TimestampScalar) -> ir.Table:
    """Every (delivery, purchase) pair whose order lies in the delivery's window, with the kinds it may be."""
    orders = warehouse.table("orders")
    orders = orders.filter(is_purchase(orders) & (orders.ordered_at < at))
    buys = keyed_orders(warehouse, orders)
    buys = buys.filter(buys.profile_id.notnull()).select(
        _pid="profile_id", _source="source", order_id="order_id", ordered_at="ordered_at", amount="amount",
        _order_code=buys.coupon_code.strip().upper(), _store=buys.channel.fill_null("").lower() == STORE_CHANNEL,
        _t=epoch_seconds(buys.ordered_at))
    r = refs.mutate(_t0=epoch_seconds(refs.ref_at))
    pairs = r.join(buys, (r.profile_id == buys._pid) & (buys._t > r._t0) & (buys._t <= r._t0 + r.window_seconds))
    return pairs.mutate(
        is_conversion=pairs.amount >= pairs.min_amount,
        is_redemption=pairs.coupon_code.notnull() & (pairs._order_code == pairs.coupon_code),
        is_visit=pairs._store)


def _kind_rows(pairs: ir.Table, kind: str, flag: str) -> ir.Table:
    """The responses of one kind: each order to the campaign's latest message before it, then each
    message's first order."""
    p = pairs.filter(pairs[flag])
    latest = ibis.window(group_by=[p.campaign_id, p._source, p.order_id],
                         order_by=[ibis.desc(p._t0), ibis.desc(p.delivery_id)])
    p = p.mutate(_k=ibis.row_number().over(latest))
    p = p.filter(p._k == 0)
    first = ibis.window(group_by=p.delivery_id, order_by=[p._t, p._source, p.order_id])
    p = p.mutate(_k=ibis.row_number().over(first))
    p = p.filter(p._k == 0)
    detail = p.coupon_code if kind == REDEMPTION else p.order_id
    return p.select("delivery_id", "profile_id", response=ibis.literal(kind), value=p.amount.cast("float64"),
                    responded_at="ordered_at", detail=detail.cast("string"))


def link_responses(warehouse: Warehouse, campaign_id: str | None = None, *,
                   at: datetime | pd.Timestamp | str) -> dict[str, int]:
    """Write the conversions, redemptions and visits of one campaign's deliveries (or every campaign's)
    that orders placed before ``at`` reveal; returns the rows written per kind. Idempotent."""
    terms = campaign_terms(warehouse, campaign_id)
    if not terms:
        return {k: 0 for k in ORDER_RESPONSES}
    moment = as_utc_literal(at)
    refs = reference_times(warehouse, terms)
    refs = refs.filter(refs.ref_at.notnull() & (refs.ref_at < moment))
    pairs = warehouse.stage(_candidates(warehouse, refs, moment))
    found = ibis.union(*[_kind_rows(pairs, k, f"is_{k}") for k in ORDER_RESPONSES])
    known = warehouse.table("responses")
    known = known.filter(known.response.isin(list(ORDER_RESPONSES))).select(
        _did="delivery_id", _resp="response").distinct()
    fresh = found.anti_join(known, (found.delivery_id == known._did) & (found.response == known._resp))
    staged = warehouse.stage(fresh)
    counts = warehouse.execute(staged.group_by("response").aggregate(n=staged.count()))
    written = {k: 0 for k in ORDER_RESPONSES} | {str(r): int(n) for r, n in zip(counts.response, counts.n)}
    if sum(written.values()):
        with warehouse.transaction():
            warehouse.append("responses", staged)
    warehouse.drop_stage(staged.get_name())
    warehouse.drop_stage(pairs.get_name())
    log.info("linked responses for %s: %s", campaign_id or "every campaign", written)
    return written
