"""Building ``profile_features``: in full, or refreshed for the profiles that changed.

**State.** Every build appends one row to ``runs`` with step ``profile_features``; its ``detail`` JSON
holds the as_of, the time zone, and the load ids present in each source table the features read. The
latest such row with status ok is the state the next incremental build starts from.

**Incremental refresh** recomputes the profiles *touched* since that state and keeps everyone else's
row. A profile is touched when

1. a new load (a load id not in the state) wrote an order, an order line, an event or a customer
   record that attaches to it, or a product of a leaf category it bought (new catalogue data changes its
   shares and the leaf's typical repurchase cycle);
2. identity changed it: its profile id is new, or its number of identifiers in identity_map differs
   from the stored ``n_identifiers`` (profile ids that disappeared lose their row);
3. as_of moved and it has an order or event between the old and the new as_of, or an engagement event
   that entered or left the 90-day window.

The touched profiles' features are computed from scratch (the same expressions as a full build) and
replace their rows in one transaction. When as_of moved, the time-relative columns (recency, tenure,
repurchase due, age, age band) of everyone else are recomputed from their stored reference columns,
which needs no history. A new load of ``stores``, a different time zone or no previous state makes
the build a full one. An incremental build therefore gives the same table as a full build at the
same as_of; tests check it on both engines.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import asdict, dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.profile.behaviour import WINDOW_DAYS
from jingzhun.profile.clock import SECONDS_PER_DAY, Clock, epoch_seconds
from jingzhun.profile.features import (
    feature_table, population, prepare_inputs, time_relative,
)
from jingzhun.profile.keys import keyed_customers, keyed_events, keyed_orders
from jingzhun.schema.tables import table as table_spec
from jingzhun.warehouse import Warehouse

__all__ = ["FeatureResult", "build_features", "last_state", "STATE_STEP", "TRACKED_TABLES"]

log = logging.getLogger(__name__)

STATE_STEP = "profile_features"
TRACKED_TABLES = ("orders", "order_lines", "events", "customers", "products", "stores")
_TABLE = "profile_features"


@dataclass
class FeatureResult:
    """What a feature build did."""

    mode: str  # "full" or "incremental"
    as_of: str
    profiles: int  # rows in profile_features after the build
    recomputed: int  # profiles whose features were computed
    removed: int  # rows dropped for profile ids that no longer exist
    reason: str = ""  # why a build asked to be incremental ran in full
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _load_ids(warehouse: Warehouse) -> dict[str, list[str]]:
    out = {}
    for name in TRACKED_TABLES:
        t = warehouse.table(name)
        ids = warehouse.execute(t.select("load_id").distinct())
        out[name] = sorted(str(x) for x in ids.load_id)
    return out


def last_state(warehouse: Warehouse) -> dict | None:
    """The state the latest successful feature build recorded, or None."""
    runs = warehouse.table("runs")
    rows = warehouse.execute(
        runs.filter((runs.step == STATE_STEP) & (runs.status == "ok"))
        .order_by([ibis.desc("finished_at"), ibis.desc("run_id")]).limit(1).select("detail"))
    if rows.empty:
        return None
    return json.loads(rows.detail.iloc[0])


def _record(warehouse: Warehouse, state: dict, result: FeatureResult, started: pd.Timestamp) -> None:
    row = pd.DataFrame({
        "run_id": [time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]],
        "step": [STATE_STEP], "status": ["ok"], "started_at": [started],
        "finished_at": [pd.Timestamp.now(tz="UTC")], "data_version": [state["version"]],
        "rows_in": [result.recomputed], "rows_out": [result.profiles],
        "detail": [json.dumps({**state, "result": result.to_dict()}, default=str)],
    })
    warehouse.append("runs", row)


def _version(loads: dict[str, list[str]]) -> str:
    import hashlib

    text = json.dumps(loads, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _touched(warehouse: Warehouse, clock: Clock, previous: Clock, new_loads: dict[str, list[str]],
             pop: ir.Table) -> ir.Table:
    """profile_id of every profile a refresh must recompute (see the module docstring); ``pop`` is the
    population now."""
    parts: list[ir.Table] = []
    orders, events, customers = (warehouse.table(n) for n in ("orders", "events", "customers"))

    def new(t: ir.Table, name: str) -> ir.Table | None:
        ids = new_loads.get(name) or []
        return t.filter(t.load_id.isin(ids)) if ids else None

    if (o := new(orders, "orders")) is not None:
        parts.append(keyed_orders(warehouse, o).select("profile_id"))
    lines = warehouse.table("order_lines")
    changed_lines = []
    if (ln := new(lines, "order_lines")) is not None:
        changed_lines.append(ln.select("source", "order_id"))
    if ids := new_loads.get("products"):
        # a new product changes its buyers' shares, and its leaf's typical cycle for every buyer of the leaf
        prods = warehouse.table("products")
        prods = prods.mutate(leaf=ibis.coalesce(prods.category_path, prods.product_id))
        leaves = prods.filter(prods.load_id.isin(ids)).select("leaf")
        siblings = prods.semi_join(leaves, "leaf").select("source", "product_id")
        changed_lines.append(lines.semi_join(siblings, ["source", "product_id"]).select("source", "order_id"))
    for sel in changed_lines:
        o = orders.join(sel.distinct(), ["source", "order_id"]).select(*orders.columns)
        parts.append(keyed_orders(warehouse, o).select("profile_id"))
    if (e := new(events, "events")) is not None:
        parts.append(keyed_events(warehouse, e).select("profile_id"))
    if (c := new(customers, "customers")) is not None:
        parts.append(keyed_customers(warehouse, c).select("profile_id"))

    # identity: new profile ids and profiles whose identifiers changed in number
    stored = warehouse.table(_TABLE).select("profile_id", old=warehouse.table(_TABLE).n_identifiers)
    cmp = pop.join(stored, "profile_id", how="left")
    parts.append(cmp.filter(cmp.old.isnull() | (cmp.old != cmp.n_identifiers)).select("profile_id"))

    # as_of moved: rows between the two moments, and engagement events crossing the 90-day edge
    if previous.as_of_epoch != clock.as_of_epoch:
        lo, hi = sorted((previous.as_of_epoch, clock.as_of_epoch))
        w = WINDOW_DAYS * SECONDS_PER_DAY
        os_ = epoch_seconds(orders.ordered_at)
        parts.append(keyed_orders(warehouse, orders.filter((os_ >= lo) & (os_ < hi))).select("profile_id"))
        es = epoch_seconds(events.timestamp)
        crossing = ((es >= lo) & (es < hi)) | ((es >= lo - w) & (es < hi - w))
        parts.append(keyed_events(warehouse, events.filter(crossing)).select("profile_id"))

    touched = ibis.union(*parts, distinct=True) if len(parts) > 1 else parts[0].distinct()
    return touched.filter(touched.profile_id.notnull())


def build_features(warehouse: Warehouse, *, as_of, full: bool = False, timezone: str = "UTC") -> FeatureResult:
    """Build ``profile_features`` as of ``as_of`` (required: nothing here uses "now").

    ``full=True`` recomputes every profile; otherwise only the profiles touched since the last build
    (falling back to a full build when there is no usable previous state). ``timezone`` (IANA name)
    sets the local hours, weekdays and days.
    """
    clock = Clock.at(as_of, timezone)
    started = pd.Timestamp.now(tz="UTC")
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    loads = _load_ids(warehouse)
    state = {"as_of": clock.as_of.isoformat(), "timezone": timezone, "loads": loads, "version": _version(loads)}
    seconds["state"] = time.perf_counter() - t0

    previous = None if full else last_state(warehouse)
    reason = ""
    if not full:
        if previous is None:
            reason = "no previous feature build"
        elif previous.get("timezone") != timezone:
            reason = f"time zone changed from {previous.get('timezone')} to {timezone}"
        else:
            new_loads = {n: sorted(set(ids) - set(previous["loads"].get(n, []))) for n, ids in loads.items()}
            if new_loads.get("stores"):
                reason = "new store data: every distance may change"
    try:
        with warehouse.unordered_writes():  # nothing here depends on row order
            if full or reason:
                result = _full(warehouse, clock, seconds)
                result.reason = reason
            else:
                result = _incremental(warehouse, clock, Clock.at(previous["as_of"], timezone), new_loads, seconds)
        _record(warehouse, state, result, started)
    finally:
        warehouse.drop_stages()
    seconds["total"] = time.perf_counter() - t0
    result.seconds = {k: round(v, 3) for k, v in seconds.items()}
    log.info("profile features (%s) as of %s: %d profiles, %d computed, %.1fs", result.mode, result.as_of,
             result.profiles, result.recomputed, seconds["total"])
    return result


def _full(warehouse: Warehouse, clock: Clock, seconds: dict) -> FeatureResult:
    t = time.perf_counter()
    inputs = prepare_inputs(warehouse, clock)
    seconds["inputs"] = time.perf_counter() - t
    t = time.perf_counter()
    with warehouse.transaction():  # the features are computed straight into the table, not staged first
        warehouse.replace(_TABLE, feature_table(inputs))
    seconds["features"] = time.perf_counter() - t
    n = warehouse.count(_TABLE)
    return FeatureResult(mode="full", as_of=clock.as_of.isoformat(), profiles=n, recomputed=n, removed=0)


def _incremental(warehouse: Warehouse, clock: Clock, previous: Clock, new_loads: dict[str, list[str]],
                 seconds: dict) -> FeatureResult:
    t = time.perf_counter()
    pop = warehouse.stage(population(warehouse))
    touched = warehouse.stage(_touched(warehouse, clock, previous, new_loads, pop))
    existing = warehouse.table(_TABLE)
    gone = warehouse.stage(existing.select("profile_id").anti_join(pop, "profile_id"))
    n_touched, n_gone = int(warehouse.execute(touched.count())), int(warehouse.execute(gone.count()))
    seconds["touched"] = time.perf_counter() - t

    t = time.perf_counter()
    if n_touched:
        rows = warehouse.stage(feature_table(prepare_inputs(warehouse, clock, profiles=touched)))
    else:  # nothing to compute: an empty table of the right shape
        rows = existing.filter(ibis.literal(False))
    n_rows = int(warehouse.execute(rows.count()))
    seconds["features"] = time.perf_counter() - t

    t = time.perf_counter()
    drop = ibis.union(touched.select(profile_id=touched.profile_id.cast("string")),
                      gone.select(profile_id=gone.profile_id.cast("string")), distinct=True)
    drop = warehouse.stage(drop)
    with warehouse.transaction():
        if previous.as_of_epoch == clock.as_of_epoch:
            if n_touched or n_gone:
                warehouse.delete_where(_TABLE, lambda f: f.profile_id.isin(drop.profile_id))
                warehouse.append(_TABLE, rows)
        else:
            kept = existing.anti_join(drop, "profile_id")
            kept = kept.mutate(**time_relative(kept, clock)).select(*table_spec(_TABLE).column_names)
            both = ibis.union(warehouse.conform(_TABLE, kept), warehouse.conform(_TABLE, rows), distinct=False)
            warehouse.replace(_TABLE, both)
    seconds["write"] = time.perf_counter() - t
    n = warehouse.count(_TABLE)
    return FeatureResult(mode="incremental", as_of=clock.as_of.isoformat(), profiles=n, recomputed=n_rows,
                         removed=n_gone)
