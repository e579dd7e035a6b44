"""What an audience is evaluated over: :class:`AudienceContext`, and how to build one from a warehouse."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.errors import JingzhunError

__all__ = ["AudienceContext", "context_from_warehouse", "as_utc", "ORDER_ID_KINDS", "EVENT_ID_KINDS"]

log = logging.getLogger(__name__)

# which identifier on a row decides its profile, first non-null wins
EVENT_ID_KINDS = ("user_id", "anonymous_id")
ORDER_ID_KINDS = ("user_id", "crm_id", "loyalty_card", "phone", "email", "wechat_openid", "anonymous_id")
CUSTOMER_ID_KINDS = ("user_id", "crm_id", "loyalty_card", "email", "phone", "wechat_openid", "device_id")
_CUSTOMER_FIELDS = ("gender", "birth_date", "city", "region", "country", "postcode", "latitude", "longitude",
                    "education", "occupation", "marital_status", "signed_up_at")


def as_utc(when) -> dt.datetime:
    """``when`` (datetime, date, ISO text or pandas Timestamp) as an aware UTC datetime; naive means UTC."""
    ts = pd.Timestamp(when)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


@dataclass(frozen=True, eq=False)
class AudienceContext:
    """The tables an audience reads, and the moment it is evaluated at.

    * ``base``: one row per profile: ``profile_id`` and the profile fields (home ``latitude`` and
      ``longitude`` where known);
    * ``events``: profile_id, event, timestamp, properties (JSON text);
    * ``purchases``: order lines bought: profile_id, order_id, ordered_at, product_id, category, brand,
      is_return;
    * ``tags``: profile_id, tag; ``scores``: profile_id, score, value (and reason); ``stores``: store_id, latitude,
      longitude;
    * ``as_of``: "in last 30 days" means after ``as_of`` minus 30 days, and nothing after ``as_of``
      counts. Required: an audience never depends on the clock.
    * ``catalog``: the names that exist (None: fields from ``base``, other names unchecked).
    """

    base: ir.Table
    as_of: dt.datetime
    events: ir.Table | None = None
    purchases: ir.Table | None = None
    tags: ir.Table | None = None
    scores: ir.Table | None = None
    stores: ir.Table | None = None
    catalog: object | None = None

    def __post_init__(self) -> None:
        if self.as_of is None:
            raise JingzhunError("an audience context needs as_of: the moment the audience is evaluated at")
        object.__setattr__(self, "as_of", as_utc(self.as_of))
        if "profile_id" not in self.base.columns:
            raise JingzhunError(f"the base table of an audience needs a profile_id column; it has {self.base.columns}")


def _profile_of(table: ir.Table, imap: ir.Table, kinds: tuple[str, ...]) -> ir.Table:
    """``table`` with ``profile_id``: the profile of the first of ``kinds`` that the identity map knows."""
    imap = imap.filter(~imap.is_shared.fill_null(False))
    out = table
    pids = []
    for kind in kinds:
        if kind not in table.columns:
            continue
        m = imap.filter(imap.kind == kind).select(**{f"_key_{kind}": "key", f"_pid_{kind}": "profile_id"})
        out = out.left_join(m, out[kind] == m[f"_key_{kind}"]).drop(f"_key_{kind}")
        pids.append(f"_pid_{kind}")
    # select rather than drop: Ibis orders a multi-column drop by a set, which makes the SQL vary by run
    return out.select(*[c for c in table.columns if c != "profile_id"],
                      profile_id=ibis.coalesce(*[out[p] for p in pids]))


# profile_features columns that are not audience fields: bookkeeping, or hours kept as reference columns
_NOT_FIELDS = ("as_of",)


def _age(birth: ir.DateValue, as_of: dt.datetime) -> ir.IntegerValue:
    """Whole years from ``birth`` to ``as_of`` (calendar arithmetic: same on every engine)."""
    before_birthday = (birth.month() > as_of.month) | ((birth.month() == as_of.month) & (birth.day() > as_of.day))
    return (ibis.literal(as_of.year) - birth.year() - before_birthday.cast("int64")).cast("int64")


def _base(warehouse, imap: ir.Table, as_of: dt.datetime) -> ir.Table:
    profiles = warehouse.table("profiles")
    customers = warehouse.table("customers")
    fields = [c for c in _CUSTOMER_FIELDS if c not in profiles.columns]
    cust = _profile_of(customers, imap, CUSTOMER_ID_KINDS).filter(lambda t: t.profile_id.notnull())
    # one record per profile: the latest sign-up, then the smallest record id
    rank = ibis.row_number().over(ibis.window(group_by=cust.profile_id,
                                              order_by=[cust.signed_up_at.desc(nulls_first=False), cust.source,
                                                        cust.record_id]))
    cust = cust.mutate(_rank=rank)
    cust = cust.filter(cust._rank == 0).select(_cust_pid=cust.profile_id, **{f: cust[f] for f in fields})
    base = profiles.left_join(cust, profiles.profile_id == cust._cust_pid).drop("_cust_pid")
    if "birth_date" in base.columns and "age" not in base.columns:
        base = base.mutate(age=_age(base.birth_date, as_of))
    # the profile features (recency_days, monetary_total, peak_hour, ...) as fields, where they were built;
    # a name the base already has keeps the base's value (demographics of the latest record, age at as_of)
    pf = warehouse.table("profile_features")
    extra = [c for c in pf.columns if c not in base.columns and c not in _NOT_FIELDS]
    pf = pf.select(_pf_pid=pf.profile_id, **{c: pf[c] for c in extra})
    base = base.left_join(pf, base.profile_id == pf._pf_pid).drop("_pf_pid")
    return base


def context_from_warehouse(warehouse, *, as_of, catalog=None) -> AudienceContext:
    """The audience context of a warehouse's canonical tables, evaluated at ``as_of``.

    Events and orders get their ``profile_id`` through ``identity_map`` (events: user_id, then
    anonymous_id; orders: the first of user_id, crm_id, loyalty_card, phone, email, wechat_openid,
    anonymous_id that the map knows; shared identifiers attach nobody). Bot-flagged events are left out;
    purchases are the order lines of orders that are not returns, with the product's category and brand.
    The base is ``profiles`` with the attributes of each profile's latest customer record, ``age`` at
    ``as_of``, and the columns of ``profile_features`` (as of that table's own build) that it lacks.
    """
    as_of = as_utc(as_of)
    imap = warehouse.table("identity_map")

    ev = warehouse.table("events")
    flags = ibis.literal(",") + ev.quality_flags.fill_null("") + ibis.literal(",")
    ev = ev.filter(~flags.contains(",bot,"))
    ev = _profile_of(ev, imap, EVENT_ID_KINDS)
    events = ev.filter(ev.profile_id.notnull()).select("profile_id", "event", "timestamp", "properties")

    orders = warehouse.table("orders")
    orders = _profile_of(orders.filter(~orders.is_return), imap, ORDER_ID_KINDS)
    orders = orders.filter(orders.profile_id.notnull()).select(
        _o_source="source", _o_id="order_id", profile_id="profile_id", ordered_at="ordered_at")
    lines = warehouse.table("order_lines")
    lines = lines.filter(~lines.is_return)
    products = warehouse.table("products")
    products = products.group_by(_p_id=products.product_id).aggregate(
        category=products.category.max(), brand=products.brand.max())
    bought = lines.join(orders, (lines.source == orders._o_source) & (lines.order_id == orders._o_id))
    bought = bought.left_join(products, bought.product_id == products._p_id)
    purchases = bought.select(
        "profile_id", order_id=bought.source + ibis.literal("/") + bought.order_id, ordered_at=bought.ordered_at,
        product_id=bought.product_id, category=bought.category, brand=bought.brand,
        is_return=ibis.literal(False))

    tags = warehouse.table("tags").select("profile_id", "tag")
    scores = warehouse.table("scores").select("profile_id", "score", "value", "reason")
    stores = warehouse.table("stores").select("store_id", "latitude", "longitude")
    return AudienceContext(base=_base(warehouse, imap, as_of), as_of=as_of, events=events, purchases=purchases,
                           tags=tags, scores=scores, stores=stores, catalog=catalog)
