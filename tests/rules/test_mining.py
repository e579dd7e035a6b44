"""Itemsets and rules on hand-worked baskets, on each engine, and against a brute-force count."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from jingzhun.errors import ConfigError, JingzhunError
from jingzhun.rules import MiningOptions, basket_items, fpgrowth_itemsets, mine_rules, rules_from_itemsets
from tests.rules.world import BASKETS, load_baskets


def _rule(rules: pd.DataFrame, left: str, right: str) -> pd.Series:
    hit = rules[(rules.antecedent == tuple(left)) & (rules.consequent == tuple(right))]
    assert len(hit) == 1, f"{left} -> {right} not found once"
    return hit.iloc[0]


def test_baskets_count_paid_purchase_lines_only(warehouse):
    load_baskets(warehouse)
    pairs = warehouse.execute(basket_items(warehouse, "product"))
    got = pairs.groupby("basket").item.apply(lambda s: "".join(sorted(s))).to_dict()
    assert got == {f"test/{o}": items for o, items in BASKETS.items()}


@pytest.mark.parametrize("depth, names", [
    (1, {"A": "drinks", "B": "snacks", "D": "household"}),
    (2, {"A": "food > drinks", "B": "food > snacks", "D": "home > cleaning"}),
    (3, {"A": "food > drinks > tea", "C": "food > snacks > crisps", "D": "home > cleaning"}),
])
def test_category_baskets_at_each_depth(warehouse, depth, names):
    load_baskets(warehouse)
    pairs = warehouse.execute(basket_items(warehouse, "category", category_depth=depth))
    by_basket = pairs.groupby("basket").item.apply(set).to_dict()
    for product, name in names.items():
        holding = {f"test/{o}" for o, items in BASKETS.items() if product in items}
        assert {b for b, items in by_basket.items() if name in items} >= holding
    assert len(by_basket) == len(BASKETS)


def test_hand_worked_itemsets_and_rules(warehouse):
    load_baskets(warehouse)
    result = mine_rules(warehouse, MiningOptions(min_support=0.2, min_confidence=0.0, min_lift=0.0, max_len=3))
    assert result.n_baskets == 10
    counts = dict(zip(result.itemsets["items"], result.itemsets["count"]))
    assert counts == {("A",): 6, ("B",): 6, ("C",): 5, ("D",): 4, ("A", "B"): 4, ("A", "C"): 3, ("B", "C"): 3,
                      ("B", "D"): 2, ("C", "D"): 2, ("A", "B", "C"): 2}
    # 5 pairs x 2 directions + 1 triple x 6 splits
    assert len(result.rules) == 16
    ab = _rule(result.rules, "A", "B")
    assert ab.support == pytest.approx(0.4)
    assert ab.confidence == pytest.approx(4 / 6)
    assert ab.lift == pytest.approx((4 / 6) / 0.6)
    assert ab.leverage == pytest.approx(0.4 - 0.6 * 0.6)
    assert ab.conviction == pytest.approx(0.4 / (1 / 3))
    abc = _rule(result.rules, "AB", "C")
    assert (abc.support, abc.confidence, abc.lift, abc.leverage) == pytest.approx((0.2, 0.5, 1.0, 0.0))
    db = _rule(result.rules, "D", "B")
    assert (db.confidence, db.lift, db.conviction) == pytest.approx((0.5, 0.5 / 0.6, 0.4 / 0.5))
    assert (db.antecedent_support, db.consequent_support) == pytest.approx((0.4, 0.6))


def test_category_level_rules(warehouse):
    load_baskets(warehouse)
    result = mine_rules(warehouse, MiningOptions(level="category", min_support=0.2, min_confidence=0.0, min_lift=0.0))
    assert result.n_baskets == 10
    ds = _rule(result.rules, ["drinks"], ["snacks"])
    assert (ds.support, ds.confidence, ds.lift) == pytest.approx((0.5, 5 / 6, (5 / 6) / 0.8))
    hs = _rule(result.rules, ["household"], ["snacks"])
    assert (hs.support, hs.confidence, hs.lift) == pytest.approx((0.3, 0.75, 0.75 / 0.8))


def test_thresholds_filter_and_order(warehouse):
    load_baskets(warehouse)
    result = mine_rules(warehouse, MiningOptions(min_support=0.3, min_confidence=0.6, min_lift=1.05, max_len=2))
    # pairs in >= 3 baskets: AB 4, AC 3, BC 3; confidence >= 0.6: A->B, B->A (4/6), C->A, C->B (3/5)
    got = [("".join(r.antecedent), "".join(r.consequent)) for r in result.rules.itertuples()]
    # lifts: C->A and C->B 0.6/0.6 = 1.0 fall under 1.05; A->B and B->A 1.111 stay, tied: by text
    assert got == [("A", "B"), ("B", "A")]


def test_nothing_to_mine_says_what_to_do(warehouse):
    with pytest.raises(JingzhunError, match="load orders"):
        mine_rules(warehouse)
    load_baskets(warehouse)
    warehouse.replace("products", warehouse.table("products").mutate(category=None, category_path=None))
    with pytest.raises(JingzhunError, match="fill products.category"):
        mine_rules(warehouse, MiningOptions(level="category"))


@pytest.mark.parametrize("bad", [dict(level="brand"), dict(min_support=0), dict(min_support=1.5),
                                 dict(max_len=1), dict(min_confidence=2), dict(category_depth=0)])
def test_bad_options_are_refused(bad):
    with pytest.raises(ConfigError):
        MiningOptions(**bad)


def test_a_certain_rule_has_no_conviction():
    itemsets = pd.DataFrame({"items": [("x",), ("y",), ("x", "y")], "count": [3, 5, 3]})
    rules = rules_from_itemsets(itemsets, 10)
    xy = _rule(rules, "x", "y")
    assert xy.confidence == 1.0 and np.isnan(xy.conviction)
    assert _rule(rules, "y", "x").conviction == pytest.approx((1 - 0.3) / (1 - 0.6))


def _brute_force(baskets: list[set], min_baskets: int, max_len: int) -> dict[tuple, int]:
    items = sorted(set().union(*baskets))
    out = {}
    for k in range(1, max_len + 1):
        for combo in itertools.combinations(items, k):
            n = sum(1 for b in baskets if set(combo) <= b)
            if n >= min_baskets:
                out[combo] = n
    return out


def test_fpgrowth_matches_a_brute_force_count_on_random_baskets():
    rng = np.random.default_rng(3)
    popularity = 1 / np.arange(1, 16)  # Zipf-like: a few items in many baskets
    names = [f"i{k:02d}" for k in range(15)]
    baskets = []
    for _ in range(400):
        size = 1 + rng.poisson(2)
        baskets.append(set(rng.choice(names, size=min(size, 15), replace=False, p=popularity / popularity.sum())))
    # planted pair: i10 brings i12 along
    for b in baskets:
        if "i10" in b and rng.random() < 0.7:
            b.add("i12")
    pairs = pd.DataFrame([(n, i) for n, b in enumerate(baskets) for i in b], columns=["basket", "item"])
    min_baskets = math.ceil(0.03 * len(baskets))
    got = fpgrowth_itemsets(pairs, len(baskets), min_baskets, 3)
    assert dict(zip(got["items"], got["count"])) == _brute_force(baskets, min_baskets, 3)
    rules = rules_from_itemsets(got, len(baskets))
    planted = _rule(rules, ["i10"], ["i12"])
    n10 = sum("i10" in b for b in baskets)
    n12 = sum("i12" in b for b in baskets)
    both = sum({"i10", "i12"} <= b for b in baskets)
    assert (planted.support, planted.confidence, planted.lift) == pytest.approx(
        (both / 400, both / n10, (both / n10) / (n12 / 400)))
    assert planted.lift > 2
