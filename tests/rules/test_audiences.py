"""Cross-sell audiences from rules: the contact-lens case, worked out by hand on six people."""

from __future__ import annotations

import pytest

from jingzhun.rules import MiningOptions, cross_sell_audience, cross_sell_node, mine_rules
from jingzhun.segment import audience, context_from_warehouse, parse
from tests.rules.world import line, load, order

AS_OF = "2024-07-01"
# who bought what (one order per string; a string lists product ids)
PURCHASES = {
    "p1": ["S1", "S1"],          # solution only, twice
    "p2": ["L1"],                # lenses only
    "p3": ["L1S1", "L2S1"],      # lenses with solution
    "p4": ["F1"],                # frames only
    "p5": ["S1", "L2"],          # solution, then lenses
    "p6": [],                    # nothing yet
    "p7": ["Q"],                 # a product whose id holds a quote
}
PRODUCTS = {"L1": "lenses", "L2": "lenses", "S1": "solution", "F1": "frames", "Q": "frames"}
IDS = {"Q": "O'Neil 2"}


def _pid(code: str) -> str:
    return IDS.get(code, code)


def _load_shop(wh) -> None:
    load(wh, "identity_map", [dict(kind="user_id", key=f"u{p}", profile_id=p, is_shared=False) for p in PURCHASES])
    load(wh, "profiles", [dict(profile_id=p, n_identifiers=1, n_records=1) for p in PURCHASES])
    orders, lines = [], []
    for person, baskets in PURCHASES.items():
        for k, basket in enumerate(baskets):
            oid = f"{person}-{k}"
            orders.append(order(oid, f"2024-0{k + 3}-01 10:00", user_id=f"u{person}"))
            codes = [basket[i:i + 2] for i in range(0, len(basket), 2)] if basket != "Q" else ["Q"]
            lines += [line(oid, n + 1, _pid(c)) for n, c in enumerate(codes)]
    load(wh, "orders", orders)
    load(wh, "order_lines", lines)
    load(wh, "products", [dict(product_id=_pid(p), name=p, category=c, category_path=f"eyewear > {c}")
                          for p, c in PRODUCTS.items()])


def _members(wh, text: str) -> set[str]:
    ctx = context_from_warehouse(wh, as_of=AS_OF)
    return set(wh.execute(audience(text, ctx)).profile_id)


def test_the_contact_lens_case(warehouse):
    _load_shop(warehouse)
    result = mine_rules(warehouse, MiningOptions(level="category", min_support=0.1, min_confidence=0.0, min_lift=0.0))
    rules = {(r.antecedent, r.consequent) for r in result.rules.itertuples()}
    assert {(("solution",), ("lenses",)), (("lenses",), ("solution",))} <= rules
    # buyers of solution only -> lenses
    to_lenses = cross_sell_audience(warehouse, ("solution",), ("lenses",), "category", as_of=AS_OF)
    assert to_lenses.text == "bought category 'solution' but not category 'lenses'"
    assert to_lenses.size == 1 and _members(warehouse, to_lenses.text) == {"p1"}
    # buyers of lenses only -> solution
    to_solution = cross_sell_audience(warehouse, ("lenses",), ("solution",), "category", as_of=AS_OF)
    assert _members(warehouse, to_solution.text) == {"p2"} and to_solution.size == 1
    # never bought lenses -> a trial voucher: the language says it directly
    assert _members(warehouse, "never bought category 'lenses'") == {"p1", "p4", "p6", "p7"}


def test_sub_categories_become_their_products(warehouse):
    _load_shop(warehouse)
    found = cross_sell_audience(warehouse, ("eyewear > solution",), ("eyewear > lenses",), "category", as_of=AS_OF)
    assert found.text == "bought product 'S1' and not (bought product 'L1' or bought product 'L2')"
    assert found.size == 1 and _members(warehouse, found.text) == {"p1"}


def test_product_audiences_quote_what_they_name(warehouse):
    _load_shop(warehouse)
    found = cross_sell_audience(warehouse, ("O'Neil 2",), ("S1",), "product", as_of=AS_OF)
    assert found.text == "bought product 'O''Neil 2' but not product 'S1'"
    assert _members(warehouse, found.text) == {"p7"} and found.size == 1


def test_longer_rules_and_windows_read_back_as_built():
    node = cross_sell_node(("a", "b"), ("c", "d"), "product", window_days=90)
    assert node.to_text() == ("bought product 'a' in last 90 days and bought product 'b' in last 90 days and "
                              "never bought product 'c' in last 90 days and never bought product 'd' in last 90 days")
    assert parse(node.to_text()) == node
    tricky = cross_sell_node(("it's",), ("--; drop",), "category")
    assert tricky.to_text() == "bought category 'it''s' but not category '--; drop'"
    assert parse(tricky.to_text()) == tricky


def test_unknown_names_do_not_pass_the_check(warehouse):
    from jingzhun.segment import UnknownNameError

    _load_shop(warehouse)
    with pytest.raises(UnknownNameError):
        cross_sell_audience(warehouse, ("solution",), ("sunglasses",), "category", as_of=AS_OF)
