"""Writing a level's rules replaces that level only; reading applies the filters; bundles follow the rules."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from jingzhun.errors import ConfigError
from jingzhun.rules import MiningOptions, RuleQuery, mine_rules, read_rules, suggest_bundles, write_rules
from tests.rules.world import load_baskets

ALL = dict(min_support=0.2, min_confidence=0.0, min_lift=0.0)


def test_rules_round_trip_and_levels_are_replaced_separately(warehouse):
    load_baskets(warehouse)
    products = mine_rules(warehouse, MiningOptions(**ALL))
    assert write_rules(warehouse, products, mined_at="2024-07-01") == 16
    categories = mine_rules(warehouse, MiningOptions(level="category", **ALL))
    write_rules(warehouse, categories)
    stored = warehouse.execute(warehouse.table("rules"))
    assert sorted(stored.level.unique()) == ["category", "product"]
    row = stored[(stored.antecedent == '["A"]') & (stored.consequent == '["B"]')].iloc[0]
    assert row.n_baskets == 10 and row.support == pytest.approx(0.4) and row.lift == pytest.approx(10 / 9)
    assert json.loads(stored[stored.level == "product"].antecedent.iloc[0])  # a JSON array
    # mining the product level again with a higher threshold replaces the product rules only
    write_rules(warehouse, mine_rules(warehouse, MiningOptions(min_support=0.4, min_confidence=0.0, min_lift=0.0)))
    again = warehouse.execute(warehouse.table("rules"))
    assert len(again[again.level == "product"]) == 2  # A->B and B->A
    assert len(again[again.level == "category"]) == len(categories.rules)


def test_read_rules_filters(warehouse):
    load_baskets(warehouse)
    write_rules(warehouse, mine_rules(warehouse, MiningOptions(**ALL)))
    rules = read_rules(warehouse, RuleQuery(level="product", items=("D",)))
    assert {("".join(r.antecedent), "".join(r.consequent)) for r in rules.itertuples()} == \
        {("B", "D"), ("D", "B"), ("C", "D"), ("D", "C")}
    pairs = read_rules(warehouse, RuleQuery(level="product", max_len=2))
    assert len(pairs) == 10
    to_c = read_rules(warehouse, RuleQuery(consequent=("C",), antecedent=("A",)))
    # lifts 10/9, then 1.0 twice: the tie goes to the larger support
    assert [("".join(r.antecedent), "".join(r.consequent)) for r in to_c.itertuples()] == \
        [("A", "BC"), ("A", "C"), ("AB", "C")]
    confident = read_rules(warehouse, RuleQuery(min_confidence=0.6, sort="confidence", top=1))
    assert len(confident) == 1 and confident.iloc[0].confidence == pytest.approx(4 / 6)
    with pytest.raises(ConfigError):
        RuleQuery(sort="surprise")


def test_bundles_need_every_member_lifted():
    # x, y, z: xy strongly together; z with x a little; the triple's weakest member decides
    rules = pd.DataFrame({
        "antecedent": [("x",), ("y",), ("x",), ("z",), ("x", "y"), ("x", "z"), ("y", "z")],
        "consequent": [("y",), ("x",), ("z",), ("x",), ("z",), ("y",), ("x",)],
        "support": [0.2, 0.2, 0.1, 0.1, 0.05, 0.05, 0.05],
        "confidence": [0.8, 0.67, 0.4, 0.5, 0.25, 0.5, 1.0],
        "lift": [2.7, 2.7, 1.6, 1.6, 1.25, 1.7, 4.0],
    })
    found = suggest_bundles(rules, n_baskets=1000, min_lift=1.5, names={"x": "tea"})
    assert [b.items for b in found] == [("x", "y"), ("x", "z")]  # the triple: z given xy has lift 1.25
    assert found[0].baskets == 200 and found[0].lift == pytest.approx(2.7)
    assert "tea (x)" in found[0].reason and "80%" in found[0].reason
    assert [b.items for b in suggest_bundles(rules, n_baskets=1000, min_lift=1.2)] == \
        [("x", "y"), ("x", "z"), ("x", "y", "z")]
