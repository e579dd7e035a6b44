"""The contact-lens case in the simulated shop: lenses bring solution along (the simulator plants it in 60%
of lens lines), so the lens sub-category's rule to solution is strong and its audiences compile."""

from __future__ import annotations

import pytest

from jingzhun.config import Settings
from jingzhun.identity import resolve
from jingzhun.pipeline import load_source
from jingzhun.pipeline.demo import write_simulation
from jingzhun.rules import MiningOptions, cross_sell_audience, mine_rules
from jingzhun.segment import audience, context_from_warehouse
from jingzhun.warehouse import Warehouse

pytestmark = pytest.mark.slow
LENSES, SOLUTION = "眼镜 > 隐形眼镜", "眼镜 > 护理液"
AS_OF = "2025-01-01"


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    mapping = write_simulation(root / "world", customers=1500, seed=21)
    wh = Warehouse.duckdb(root / "w.duckdb")
    wh.ensure_schema()
    load_source(wh, mapping, secret="3c" * 32, settings=Settings())
    resolve(wh, Settings().identity)
    yield wh
    wh.close()


def test_lenses_bring_solution(shop):
    result = mine_rules(shop, MiningOptions(level="category", category_depth=2, min_support=0.005,
                                            min_confidence=0.0, min_lift=0.0, max_len=2))
    rules = result.rules
    lens_to_solution = rules[(rules.antecedent == (LENSES,)) & (rules.consequent == (SOLUTION,))].iloc[0]
    # 60% of lens lines add a solution line; with solution bought on its own too, confidence is above that
    assert lens_to_solution.confidence > 0.6
    assert lens_to_solution.lift > 3
    # no other sub-category is as likely to come with lenses
    from_lenses = result.rules[result.rules.antecedent == (LENSES,)]
    assert from_lenses.iloc[0].consequent == (SOLUTION,)
    assert from_lenses.confidence.max() == lens_to_solution.confidence


def test_lens_and_solution_audiences(shop):
    to_lenses = cross_sell_audience(shop, (SOLUTION,), (LENSES,), "category", as_of=AS_OF)
    to_solution = cross_sell_audience(shop, (LENSES,), (SOLUTION,), "category", as_of=AS_OF)
    assert to_lenses.text.startswith("(bought product 'SKU") and " and not (bought product " in to_lenses.text
    ctx = context_from_warehouse(shop, as_of=AS_OF)
    people = lambda text: set(shop.execute(audience(text, ctx)).profile_id)  # noqa: E731
    lens_buyers = people(" or ".join(f"bought product '{p}'" for p in _products(shop, LENSES)))
    solution_buyers = people(" or ".join(f"bought product '{p}'" for p in _products(shop, SOLUTION)))
    assert people(to_lenses.text) == solution_buyers - lens_buyers
    assert people(to_solution.text) == lens_buyers - solution_buyers
    assert to_lenses.size == len(solution_buyers - lens_buyers) > 0
    assert to_solution.size == len(lens_buyers - solution_buyers) > 0


def _products(wh, path: str) -> list[str]:
    p = wh.table("products")
    return sorted(wh.execute(p.filter(p.category_path.startswith(path + " > ")).select("product_id")).product_id)
