"""Features per profile as of a moment, written once in Ibis (one row per profile_id).

:func:`prepare_inputs` attaches profiles to the rows the features read (orders, order lines with
their products, engagement events, customer records) and keeps only what happened before as_of;
:func:`feature_table` joins the feature families onto the population (every profile in identity_map)
and adds the time-relative columns. docs/features.md defines every column.

Time-relative columns (``as_of``, ``recency_days``, ``tenure_days``, ``repurchase_due_days``, ``age``,
``age_band``) are derived from reference columns stored beside them (``last_purchase_at``,
``customer_since``, ``next_repurchase_at``, ``birth_date``) by :func:`time_relative`, so a refresh at a
new as_of can recompute them for everyone without reading the history again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from jingzhun.profile import assortment, behaviour, demographics, geo, price, rfm
from jingzhun.profile.clock import SECONDS_PER_DAY, Clock, epoch_seconds
from jingzhun.profile.keys import (
    CUSTOMER_KEY_ORDER, EVENT_KEY_ORDER, ORDER_KEY_ORDER, attach_profiles, identity_of, is_bot, left_join,
    profile_identifiers,
)
from jingzhun.schema.tables import table as table_spec
from jingzhun.warehouse import Warehouse

__all__ = ["FeatureInputs", "prepare_inputs", "feature_table", "features_as_of", "time_relative", "population",
           "TIME_RELATIVE"]

log = logging.getLogger(__name__)

TIME_RELATIVE = ("as_of", "recency_days", "tenure_days", "repurchase_due_days", "age", "age_band")

_ORDER_COLUMNS = ("source", "order_id", "ordered_at", "status", "is_return", "channel", "store_id", "amount",
                  "discount", "coupon_code", "n_lines")


@dataclass(frozen=True)
class FeatureInputs:
    """The rows features read, each with ``profile_id`` (rows of nobody left out), before as_of."""

    clock: Clock
    population: ir.Table  # profile_id, n_identifiers
    orders: ir.Table
    lines: ir.Table  # purchase lines with ordered_at and product fields
    events: ir.Table  # non-bot events that may be engagement (a superset of it): profile_id, type, event, timestamp
    customers: ir.Table
    stores: ir.Table
    products: ir.Table  # the catalogue


def population(warehouse: Warehouse) -> ir.Table:
    """Every profile in identity_map (shared identifiers excluded) with its number of identifiers."""
    ids = profile_identifiers(warehouse.table("identity_map"))
    return ids.group_by("profile_id").aggregate(n_identifiers=ids.count())


def _only(rows: ir.Table, kinds: tuple[str, ...], keys: ir.Table | None) -> ir.Table:
    """Rows with at least one identifier among ``keys`` (kind, key): the only ones that can attach to them."""
    if keys is None:
        return rows
    cond = None
    for kind in kinds:
        if kind in rows.columns:
            c = rows[kind].isin(keys.filter(keys.kind == kind).key)
            cond = c if cond is None else cond | c
    return rows.filter(cond)


def _maybe_engagement(warehouse: Warehouse, events: ir.Table) -> ir.BooleanValue:
    """A cheap test that keeps every engagement event (and drops the browsing and bookkeeping rows).

    Engagement is decided on the normalised event name, a string computation per row; the events table
    holds few distinct (type, event) pairs, so the test runs on those pairs and the rows are matched to
    the pairs that pass by plain equality. The families still apply :func:`behaviour.engagement`
    themselves, so this only has to keep at least the engagement rows.
    """
    pairs = events.select("type", "event").distinct()
    passing = warehouse.execute(behaviour.engagement(pairs))
    types = sorted({str(x) for x in passing.type.dropna()})
    names = sorted({str(x) for x in passing.event.dropna()})
    if not types or not names:
        return ibis.literal(False)
    return events.type.isin(types) & events.event.isin(names)


def prepare_inputs(warehouse: Warehouse, clock: Clock, *, profiles: ir.Table | None = None,
                   stage: bool = True) -> FeatureInputs:
    """Attach profiles to the source rows and cut them at as_of.

    ``profiles`` (a table with ``profile_id``) limits everything to those people: rows are first narrowed
    to the ones carrying one of their identifiers, then attached as usual (so a row goes where a full
    build would put it), then kept when they land on one of the people. ``stage`` materialises each
    input once (the families read them several times).

    Rows are cut at as_of by comparing timestamps directly (``t < as_of`` is ``floor(epoch(t)) < as_of``
    for a whole-second as_of), which the engines answer from their column statistics. In a full build,
    events are cut to the possible engagement events before they are attached, as no feature reads the
    others; a narrowed build has few rows left and lets the families' own test do it.
    """
    imap = warehouse.table("identity_map")
    keys = None
    pop = population(warehouse)
    if profiles is not None:
        theirs = profile_identifiers(imap).semi_join(profiles.select("profile_id").distinct(), "profile_id")
        if stage:
            theirs = warehouse.stage(theirs)
        keys = theirs.select("kind", "key")
        pop = theirs.group_by("profile_id").aggregate(n_identifiers=theirs.count())
    if stage:
        pop = warehouse.stage(pop)

    def attach(rows: ir.Table, kinds: tuple[str, ...]) -> ir.Table:
        """``rows`` (narrowed to ``keys`` when given) with their profile, kept when it is one of ``pop``."""
        if keys is None:
            return attach_profiles(rows, imap, kinds).filter(lambda t: t.profile_id.notnull())
        rows = _only(rows, kinds, keys)
        lookup = imap
        if stage:  # the few narrowed rows need only the identity rows of their own identifiers
            rows = warehouse.stage(rows)
            lookup = warehouse.stage(identity_of(imap, rows, kinds))
        attached = attach_profiles(rows, lookup, kinds)
        return attached.filter(attached.profile_id.notnull()).semi_join(pop, "profile_id")

    before = clock.as_of_literal
    o = warehouse.table("orders")
    o = o.filter(o.ordered_at < before).select(*_ORDER_COLUMNS, *ORDER_KEY_ORDER)
    orders = attach(o, ORDER_KEY_ORDER).select("profile_id", *_ORDER_COLUMNS)

    e = warehouse.table("events")
    e = e.filter((e.timestamp < before) & ~is_bot(e))
    if profiles is None:
        e = e.filter(_maybe_engagement(warehouse, e))
    e = e.select("type", "event", "timestamp", *EVENT_KEY_ORDER)
    events = attach(e, EVENT_KEY_ORDER).select("profile_id", "type", "event", "timestamp")

    c = warehouse.table("customers")
    customers = attach(c, CUSTOMER_KEY_ORDER).select(
        "profile_id", "signed_up_at", "latitude", "longitude", *demographics.TRAITS)

    if stage:
        orders, events, customers = (warehouse.stage(x) for x in (orders, events, customers))

    buys = orders.filter(rfm.is_purchase(orders)).select("profile_id", "source", "order_id", "ordered_at")
    ln = warehouse.table("order_lines")
    ln = ln.filter(~ln.is_return)
    ln = ln.join(buys, ["source", "order_id"]).select(
        "profile_id", "source", "order_id", "ordered_at", "product_id", "quantity", "amount")
    p = warehouse.table("products").select(
        "source", "product_id", "category", "category_path", "brand", "is_consumable", "repurchase_days")
    lines = left_join(ln, p, ["source", "product_id"])
    if stage:
        lines = warehouse.stage(lines)
    return FeatureInputs(clock=clock, population=pop, orders=orders, lines=lines, events=events, customers=customers,
                         stores=warehouse.table("stores"), products=warehouse.table("products"))


def time_relative(t: ir.Table, clock: Clock) -> dict[str, ir.Value]:
    """The columns that depend on as_of alone, from the reference columns of ``t``."""
    now = ibis.literal(clock.as_of_epoch)

    def whole_days(ts: ir.TimestampValue) -> ir.IntegerValue:
        return ((now - epoch_seconds(ts)) // SECONDS_PER_DAY).cast("int64")

    due = (epoch_seconds(t.next_repurchase_at) - now).cast("float64") / SECONDS_PER_DAY
    return {
        "as_of": clock.as_of_literal,
        "recency_days": whole_days(t.last_purchase_at),
        "tenure_days": whole_days(t.customer_since),
        "repurchase_due_days": due,
        **demographics.age_columns(t.birth_date, clock),
    }


_ZERO_FILLED = ("frequency", "purchase_days", "monetary_total", "returns", "returned_amount", "n_categories",
                "n_brands", "n_records", "n_events", "events_90d", *behaviour.HOURS, *behaviour.WEEKDAYS,
                *behaviour.ENGAGEMENT_EVENTS)


def _assemble(population: ir.Table, parts: list[ir.Table]) -> ir.Table:
    """The population with every part's columns: one chain of left joins on profile_id.

    Each part's key gets its own name so that the joins extend one chain and the keys go in one final
    projection (a projection after every join nests them, and Ibis then takes seconds to compile).
    """
    joined = population
    keys = []
    for i, part in enumerate(parts):
        key = f"_pid{i}"
        part = part.rename({key: "profile_id"})
        joined = joined.left_join(part, population.profile_id == part[key])
        keys.append(key)
    return joined.drop(*keys)


def feature_table(inputs: FeatureInputs) -> ir.Table:
    """One row per profile of the population, with every column of ``profile_features``."""
    clock = inputs.clock
    parts = [
        rfm.purchase_features(inputs.orders, clock),
        price.price_features(inputs.orders),
        rfm.interval_features(inputs.orders, clock),
        rfm.basket_units(inputs.lines),
        assortment.share_features(inputs.lines),
        assortment.repurchase_features(inputs.lines, clock, inputs.products),
        behaviour.activity_features(inputs.orders, inputs.events, clock),
        behaviour.engagement_features(inputs.events, clock),
        demographics.demographic_features(inputs.customers),
    ]
    homes = geo.home_features(inputs.customers)
    buys = inputs.orders.filter(rfm.is_purchase(inputs.orders))
    parts += [homes, geo.store_features(homes, buys, inputs.stores)]
    c = inputs.customers
    signed = c.group_by("profile_id").aggregate(
        _signed_up=c.signed_up_at.min(where=c.signed_up_at < clock.as_of_literal))
    parts.append(signed)

    out = _assemble(inputs.population, parts)
    since = ibis.ifelse(
        out._signed_up.notnull() & (out.first_purchase_at.isnull() | (out._signed_up < out.first_purchase_at)),
        out._signed_up, out.first_purchase_at)
    spec = table_spec("profile_features")
    fills = {name: out[name].fill_null(ibis.literal(0, type=spec.column(name).ibis_type)) for name in _ZERO_FILLED}
    out = out.mutate(customer_since=since, **fills)
    derived = time_relative(out, clock)
    return out.select(**{name: derived[name] if name in derived else out[name] for name in spec.column_names})


def features_as_of(warehouse: Warehouse, as_of, *, timezone: str = "UTC") -> ir.Table:
    """The features of every profile as of ``as_of``, staged, without touching ``profile_features``.

    Point-in-time features for model training: only data before ``as_of`` is read, so labels taken
    from after it cannot leak in. The staged tables live until ``warehouse.drop_stages()``.
    """
    return warehouse.stage(feature_table(prepare_inputs(warehouse, Clock.at(as_of, timezone))))
