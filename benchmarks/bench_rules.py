"""FP-growth on 500k simulated baskets, side by side with counting pairs in pandas.

    python -m benchmarks.bench_rules [--baskets 500000] [--min-support 0.001]

The baskets are the simulator's purchase orders (item popularity from its customers' category tastes
and price levels, lenses bringing solution along), taken from as many simulated customers as it takes.
Three timings, one run:

* ``fpgrowth``: :func:`jingzhun.rules.fpgrowth_itemsets` (mlxtend on a sparse one-hot) plus
  :func:`jingzhun.rules.rules_from_itemsets`, itemsets of up to 3 products;
* ``pandas pairs``: the straightforward way for pairs only: drop infrequent products, self-join the
  (basket, product) rows on the basket, count each pair (the same pair counts are checked);
* ``warehouse``: :func:`jingzhun.rules.mine_rules` end to end on a DuckDB warehouse holding the orders
  (baskets in Ibis, FP-growth, rules), at the product and the sub-category level.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from jingzhun.rules import MiningOptions, fpgrowth_itemsets, mine_rules, rules_from_itemsets  # noqa: E402
from jingzhun.sim import simulate  # noqa: E402
from jingzhun.warehouse import Warehouse  # noqa: E402

log = logging.getLogger(__name__)
ORDERS_PER_CUSTOMER = 3.1  # the simulator's default world, about


def simulated_shop(n_baskets: int, seed: int = 11) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Orders (purchases, the first ``n_baskets``), their lines, and the catalogue."""
    world = simulate(max(1_000, int(n_baskets / ORDERS_PER_CUSTOMER * 1.1)), seed=seed, events_per_customer=1)
    orders = world.orders.filter(pc.invert(world.orders["is_return"]))
    orders = orders.sort_by("order_id").slice(0, n_baskets)
    keep = pc.is_in(world.order_lines["order_id"], value_set=orders["order_id"])
    return orders, world.order_lines.filter(keep), world.products


def pandas_pair_counts(pairs: pd.DataFrame, min_baskets: int) -> dict[tuple[str, str], int]:
    """Pairs of products in at least ``min_baskets`` baskets, by a self-join in pandas."""
    counts = pairs["item"].value_counts()
    kept = pairs[pairs["item"].isin(counts.index[counts >= min_baskets])]
    joined = kept.merge(kept, on="basket")
    joined = joined[joined["item_x"] < joined["item_y"]]
    together = joined.groupby(["item_x", "item_y"]).size()
    together = together[together >= min_baskets]
    return {k: int(v) for k, v in together.items()}


def _warehouse_with(orders: pa.Table, lines: pa.Table, products: pa.Table, folder: Path) -> Warehouse:
    wh = Warehouse.duckdb(folder / "bench.duckdb")
    wh.ensure_schema()
    for name, table in (("orders", orders), ("order_lines", lines), ("products", products)):
        frame = table.to_pandas()
        wanted = [c for c in wh.table(name).columns if c in frame.columns]
        wh.append(name, frame[wanted].assign(source="sim", load_id="bench", quality_flags=""))
    return wh


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baskets", type=int, default=500_000)
    parser.add_argument("--min-support", type=float, default=0.001)
    args = parser.parse_args(argv)

    t = time.perf_counter()
    orders, lines, products = simulated_shop(args.baskets)
    print(f"simulated {len(orders):,} purchase orders, {len(lines):,} lines in {time.perf_counter() - t:.1f} s")
    paid = lines.filter(pc.and_(pc.invert(lines["is_return"]), pc.greater(lines["quantity"], 0)))
    pairs = (paid.select(["order_id", "product_id"]).to_pandas()
             .rename(columns={"order_id": "basket", "product_id": "item"}).drop_duplicates())
    n = int(pairs["basket"].nunique())
    need = max(1, math.ceil(args.min_support * n - 1e-9))
    print(f"{n:,} baskets, {len(pairs):,} (basket, product) pairs, {pairs['item'].nunique():,} products; "
          f"min support {args.min_support} = {need:,} baskets")

    t = time.perf_counter()
    itemsets = fpgrowth_itemsets(pairs, n, need, 3)
    rules = rules_from_itemsets(itemsets, n, min_confidence=0.0)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    naive = pandas_pair_counts(pairs, need)
    plain = time.perf_counter() - t
    fp_pairs = {tuple(i): int(c) for i, c in zip(itemsets["items"], itemsets["count"]) if len(i) == 2}
    same = "same pairs and counts" if fp_pairs == naive else "PAIRS DIFFER"
    sizes = itemsets["items"].map(len).value_counts().sort_index().to_dict()
    print(f"fpgrowth     {ours:6.2f} s  itemsets by size {sizes}, {len(rules):,} rules")
    print(f"pandas pairs {plain:6.2f} s  {len(naive):,} pairs ({same}); pairs only, no triples")
    print(f"ratio pandas/fpgrowth {plain / ours:.2f}x")

    with tempfile.TemporaryDirectory() as folder:
        wh = _warehouse_with(orders, lines, products, Path(folder))
        try:
            for label, options in (
                ("product", MiningOptions(level="product", min_support=args.min_support, min_confidence=0.0)),
                ("sub-category", MiningOptions(level="category", category_depth=2, min_support=args.min_support,
                                               min_confidence=0.0)),
            ):
                t = time.perf_counter()
                result = mine_rules(wh, options)
                took = time.perf_counter() - t
                parts = ", ".join(f"{k} {v:.2f}" for k, v in result.seconds.items())
                print(f"warehouse {label:12s} {took:6.2f} s ({parts}): {result.n_baskets:,} baskets, "
                      f"{len(result.itemsets):,} itemsets, {len(result.rules):,} rules")
                if label == "sub-category":
                    top = result.rules.head(3)
                    for r in top.itertuples():
                        print(f"    {' + '.join(r.antecedent)} -> {' + '.join(r.consequent)}: support {r.support:.4f}, "
                              f"confidence {r.confidence:.3f}, lift {r.lift:.2f}")
        finally:
            wh.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
