"""Profile features: jingzhun's Ibis build on DuckDB against a straightforward pandas version, and the
incremental refresh against the full build.

    python -m benchmarks.bench_features [--customers N] [--events-per-customer E]

The simulated world is written straight into the canonical tables (loading a million customers through
``load_source`` would time the ingest, not the features): identifier values are used as their own keys
(the features only join keys, so hashing them changes no timing that matters here), the identity map
comes from the simulator's truth (one profile per true person; shared values are shared), and bot
events carry the ``bot`` flag as quality would set it. The printout says so.

Three timings, one run, one warehouse:

1. the full feature build (every column of profile_features) on DuckDB;
2. pandas computing the core features (RFM, order value, tenure, category shares, peak hour, discount
   share) from the same tables, attaching people to rows the same way;
3. an incremental refresh after 1% of the customers got new orders and events.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from jingzhun.profile import build_features  # noqa: E402
from jingzhun.profile.behaviour import ENGAGEMENT_NAMES  # noqa: E402
from jingzhun.sim import simulate  # noqa: E402
from jingzhun.warehouse import Warehouse  # noqa: E402

AS_OF = "2025-01-07T16:00:00Z"  # a week after the simulated window: room for the new data
_ORDER_IDS = ("user_id", "crm_id", "loyalty_card", "phone", "email", "wechat_openid", "anonymous_id")


def _with_load(t: pa.Table, source: str, load_id: str, flags: pa.Array | None = None) -> pa.Table:
    n = t.num_rows
    t = t.append_column("source", pa.array([source] * n)) if "source" not in t.column_names else t
    t = t.append_column("load_id", pa.array([load_id] * n))
    return t.append_column("quality_flags", flags if flags is not None else pa.array([""] * n))


def write_world(wh: Warehouse, world) -> None:
    truth = world.identifiers.to_pandas()
    truth = truth[truth.kind != "record_id"].drop_duplicates(["kind", "value"])
    shared = truth.person_id.isna()
    imap = pd.DataFrame({"kind": truth.kind, "key": truth.value,
                         "profile_id": np.where(shared, "s" + truth.value.astype(str), truth.person_id),
                         "is_shared": shared})
    wh.append("identity_map", imap)
    wh.append("stores", _with_load(world.stores, "sim", "l1"))
    wh.append("products", _with_load(world.products, "sim", "l1"))
    cust = world.customers.drop_columns([c for c in ("system", "name") if c in world.customers.column_names])
    wh.append("customers", _with_load(cust, "sim", "l1"))
    wh.append("orders", _with_load(world.orders, "sim", "l1"))
    wh.append("order_lines", _with_load(world.order_lines, "sim", "l1"))
    ev = world.events
    bots = pa.array(world.bots.column("anonymous_id").to_pylist())
    flags = pc.if_else(pc.is_in(ev.column("anonymous_id"), value_set=bots), "bot", "")
    wh.append("events", _with_load(ev, "sim", "l1", flags))


def add_new_data(wh: Warehouse, world, share: float, seed: int = 0) -> tuple[int, int]:
    """New orders and events (load l2) for ``share`` of the people, dated in the week after the window."""
    rng = np.random.default_rng(seed)
    orders = world.orders.to_pandas()
    buyers = orders[orders.user_id.notna() & ~orders.is_return]
    people = buyers.user_id.unique()
    chosen = rng.choice(people, size=max(1, int(len(people) * share)), replace=False)
    new = buyers[buyers.user_id.isin(chosen)].drop_duplicates("user_id").copy()
    new["order_id"] = new.order_id + "-N"
    new["ordered_at"] = pd.Timestamp("2025-01-02 03:00", tz="UTC")
    lines = world.order_lines.to_pandas()
    new_lines = lines[lines.order_id.isin(new.order_id.str[:-2])].copy()
    new_lines["order_id"] = new_lines.order_id + "-N"
    events = world.events.to_pandas()
    new_events = events[events.user_id.isin(chosen) & (events.type == "track")].copy()
    new_events["message_id"] = new_events.message_id + "n"
    new_events["timestamp"] = new_events.timestamp + pd.Timedelta(days=7)
    for name, df in (("orders", new), ("order_lines", new_lines), ("events", new_events)):
        wh.append(name, df.assign(source="sim", load_id="l2", quality_flags=""))
    return len(chosen), len(new_events)


def pandas_core(wh: Warehouse, as_of: pd.Timestamp, offset_hours: int) -> pd.DataFrame:
    """RFM, order value, tenure, category shares, peak hour and discount share, the plain pandas way."""
    read = lambda name, cols: wh.con.table(name).select(*cols).to_pyarrow().to_pandas()  # noqa: E731
    imap = read("identity_map", ["kind", "key", "profile_id", "is_shared"])
    imap = imap[~imap.is_shared]
    lookup = {k: g.set_index("key").profile_id for k, g in imap.groupby("kind")}

    def attach(df: pd.DataFrame, kinds) -> pd.Series:
        pid = pd.Series(pd.NA, index=df.index, dtype="object")
        for k in kinds:
            if k in lookup:
                pid = pid.fillna(df[k].map(lookup[k]))
        return pid

    o = read("orders", ["source", "order_id", "ordered_at", "is_return", "status", "amount", "discount",
                        "coupon_code", *_ORDER_IDS])
    o["profile_id"] = attach(o, _ORDER_IDS)
    o = o[o.profile_id.notna() & (o.ordered_at < as_of)]
    buy = o[~o.is_return & (o.status.str.lower() != "cancelled") & (o.amount > 0)].copy()
    buy["has_discount"] = (buy.discount.fillna(0) > 0) | buy.coupon_code.fillna("").ne("")
    g = buy.groupby("profile_id")
    out = pd.DataFrame({
        "last": g.ordered_at.max(), "first": g.ordered_at.min(), "frequency": g.size(),
        "monetary_total": g.amount.sum(), "discount_share": g.has_discount.mean(),
    })
    out["avg_order_value"] = out.monetary_total / out.frequency
    out["recency_days"] = (as_of - out["last"]).dt.days
    out["tenure_days"] = (as_of - out["first"]).dt.days

    lines = read("order_lines", ["source", "order_id", "product_id", "amount", "is_return"])
    prods = read("products", ["source", "product_id", "category"])
    ln = lines[~lines.is_return].merge(buy[["source", "order_id", "profile_id"]], on=["source", "order_id"])
    ln = ln.merge(prods, on=["source", "product_id"])
    spend = ln[ln.amount > 0].groupby(["profile_id", "category"]).amount.sum()
    shares = spend / spend.groupby(level=0).transform("sum")
    top = shares.reset_index().sort_values(["profile_id", "amount", "category"], ascending=[True, False, True])
    out = out.join(top.drop_duplicates("profile_id").set_index("profile_id").category.rename("top_category"))

    ev = read("events", ["type", "event", "timestamp", "quality_flags", "user_id", "anonymous_id", "device_id"])
    names = ev.event.fillna("").str.lower().str.replace("_", " ").str.strip()
    ev = ev[~ev.quality_flags.str.contains("bot") & (ev.type == "track") & names.isin(ENGAGEMENT_NAMES)
            & (ev.timestamp < as_of)]
    ev["profile_id"] = attach(ev, ("user_id", "anonymous_id", "device_id"))
    acts = pd.concat([buy[["profile_id", "ordered_at"]].rename(columns={"ordered_at": "ts"}),
                      ev.loc[ev.profile_id.notna(), ["profile_id", "timestamp"]].rename(columns={"timestamp": "ts"})])
    acts["hour"] = (acts.ts + pd.Timedelta(hours=offset_hours)).dt.hour
    counts = acts.groupby(["profile_id", "hour"]).size().rename("n").reset_index()
    counts = counts.sort_values(["profile_id", "n", "hour"], ascending=[True, False, True])
    out = out.join(counts.drop_duplicates("profile_id").set_index("profile_id").hour.rename("peak_hour"), how="outer")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events-per-customer", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    t = time.perf_counter()
    world = simulate(args.customers, seed=args.seed, events_per_customer=args.events_per_customer)
    print(f"simulated {args.customers:,} customers: {world.orders.num_rows:,} orders, "
          f"{world.order_lines.num_rows:,} lines, {world.events.num_rows:,} events in {time.perf_counter() - t:.1f}s")
    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse.duckdb(Path(tmp) / "bench.duckdb")
        wh.ensure_schema()
        t = time.perf_counter()
        write_world(wh, world)
        print(f"written straight to the canonical tables (identifier values as keys, identity from the truth) "
              f"in {time.perf_counter() - t:.1f}s")

        t = time.perf_counter()
        full = build_features(wh, as_of=AS_OF, timezone="Asia/Shanghai", full=True)
        ours = time.perf_counter() - t
        print(f"jingzhun full build (DuckDB, {len(wh.table('profile_features').columns)} columns, "
              f"{full.profiles:,} profiles): {ours:.1f}s  {full.seconds}")

        t = time.perf_counter()
        ref = pandas_core(wh, pd.Timestamp(AS_OF), 8)
        naive = time.perf_counter() - t
        print(f"pandas core features ({len(ref):,} profiles): {naive:.1f}s")
        print(f"ratio pandas / jingzhun: {naive / ours:.1f}x (target >= 10x)")

        got = wh.execute(wh.table("profile_features").select("profile_id", "frequency", "monetary_total",
                                                              "peak_hour")).set_index("profile_id")
        both = ref.join(got, rsuffix="_ours", how="inner")
        same = ((both.frequency == both.frequency_ours).mean(), (both.peak_hour == both.peak_hour_ours).mean())
        print(f"agreement on {len(both):,} profiles: frequency {same[0]:.4f}, peak hour {same[1]:.4f}")

        people, n_events = add_new_data(wh, world, 0.01)
        t = time.perf_counter()
        inc = build_features(wh, as_of=AS_OF, timezone="Asia/Shanghai")
        refresh = time.perf_counter() - t
        print(f"incremental refresh after new data for {people:,} people ({n_events:,} events): {refresh:.1f}s, "
              f"{inc.recomputed:,} profiles recomputed  {inc.seconds}")
        print(f"ratio full / incremental: {ours / refresh:.1f}x (target >= 10x)")
        wh.close()


if __name__ == "__main__":
    main()
