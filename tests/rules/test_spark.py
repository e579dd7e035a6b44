"""Spark's FPGrowth and mlxtend's FP-growth give the same itemsets and rules on the same baskets."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from jingzhun.rules import MiningOptions, mine_rules
from jingzhun.warehouse import Warehouse
from tests.rules.world import line, load, order

pytestmark = pytest.mark.spark


def _random_shop(wh, seed: int = 5, n: int = 3000) -> None:
    rng = np.random.default_rng(seed)
    names = np.array([f"SKU{k:03d}" for k in range(60)])
    popularity = 1 / np.arange(1, 61) ** 0.8
    popularity /= popularity.sum()
    orders, lines = [], []
    for b in range(n):
        items = set(rng.choice(names, size=1 + min(rng.poisson(1.8), 8), replace=False, p=popularity))
        if "SKU020" in items and rng.random() < 0.6:  # a planted companion
            items.add("SKU041")
        orders.append(order(f"o{b}"))
        lines += [line(f"o{b}", k + 1, p) for k, p in enumerate(sorted(items))]
    load(wh, "orders", orders)
    load(wh, "order_lines", lines)
    load(wh, "products", [dict(product_id=p, category=f"c{int(p[3:]) % 7}") for p in names])


@pytest.mark.parametrize("level", ["product", "category"])
def test_both_engines_give_the_same_rules(spark_session, tmp_path, level):
    duck = Warehouse.duckdb(tmp_path / "w.duckdb")
    spark = Warehouse.spark(spark_session, database=f"t_{uuid.uuid4().hex[:10]}")
    options = MiningOptions(level=level, min_support=0.01, min_confidence=0.05, min_lift=0.0, max_len=3)
    try:
        for wh in (duck, spark):
            wh.ensure_schema()
            _random_shop(wh)
        local, distributed = mine_rules(duck, options), mine_rules(spark, options)
    finally:
        duck.close()
        spark.close()
    assert (local.engine, distributed.engine) == ("duckdb", "pyspark")
    assert local.n_baskets == distributed.n_baskets == 3000
    as_dict = lambda r: dict(zip(r.itemsets["items"], r.itemsets["count"]))  # noqa: E731
    assert as_dict(local) == as_dict(distributed)
    assert len(local.rules) > 20
    pd.testing.assert_frame_equal(local.rules.head(20), distributed.rules.head(20))
    pd.testing.assert_frame_equal(local.rules, distributed.rules)
