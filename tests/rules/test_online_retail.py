"""Association rules on UCI Online Retail at the product and category level, checked against a direct
count of the raw CSV's baskets in pandas."""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.config import Settings
from jingzhun.pipeline import load_source
from jingzhun.rules import MiningOptions, mine_rules
from jingzhun.warehouse import Warehouse
from tests.rules.online_retail import categorise_products, product_type, raw_baskets

pytestmark = pytest.mark.slow
SECRET = "7a" * 32


@pytest.fixture(scope="module")
def shop(datasets, tmp_path_factory):
    wh = Warehouse.duckdb(tmp_path_factory.mktemp("retail") / "w.duckdb")
    wh.ensure_schema()
    load_source(wh, "online_retail", secret=SECRET, settings=Settings())
    categorise_products(wh)
    yield wh
    wh.close()


@pytest.fixture(scope="module")
def raw(datasets) -> pd.DataFrame:
    return raw_baskets(datasets / "online_retail" / "online_retail.csv.gz")


def _direct(baskets: dict[str, set], left: tuple, right: tuple) -> tuple[float, float, float]:
    """Support, confidence and lift of left -> right by counting baskets, nothing else."""
    n = len(baskets)
    n_left = sum(1 for items in baskets.values() if set(left) <= items)
    n_right = sum(1 for items in baskets.values() if set(right) <= items)
    n_both = sum(1 for items in baskets.values() if set(left) | set(right) <= items)
    return n_both / n, n_both / n_left, (n_both / n_left) / (n_right / n)


def _check_top_rules(result, baskets: dict[str, set], k: int = 8) -> None:
    assert result.n_baskets == len(baskets)
    picked = pd.concat([result.rules.head(k), result.rules.sort_values("support", ascending=False).head(k)])
    for r in picked.itertuples():
        support, confidence, lift = _direct(baskets, r.antecedent, r.consequent)
        assert r.support == pytest.approx(support, rel=1e-12), (r.antecedent, r.consequent)
        assert r.confidence == pytest.approx(confidence, rel=1e-12), (r.antecedent, r.consequent)
        assert r.lift == pytest.approx(lift, rel=1e-12), (r.antecedent, r.consequent)


def test_product_rules_match_a_direct_count(shop, raw):
    result = mine_rules(shop, MiningOptions(level="product", min_support=0.01, min_confidence=0.3, min_lift=1.0))
    baskets = raw.groupby("basket")["product"].apply(set).to_dict()
    _check_top_rules(result, baskets)
    assert len(result.rules) > 100
    # the shop's best-known pair: the green and the roses Regency teacups and saucers (22697, 22699)
    tea = result.rules[(result.rules.antecedent == ("22697",)) & (result.rules.consequent == ("22699",))]
    assert len(tea) == 1 and tea.iloc[0].confidence > 0.6 and tea.iloc[0].lift > 10


def test_category_rules_match_a_direct_count(shop, raw):
    result = mine_rules(shop, MiningOptions(level="category", min_support=0.05, min_confidence=0.3, min_lift=1.0))
    # each product's category as the catalogue holds it (its type from the description loaded)
    catalogue = shop.execute(shop.table("products").select("product_id", "name", "category"))
    assert (catalogue.name.map(product_type).fillna("-") == catalogue.category.fillna("-")).all()
    typed = raw.assign(category=raw["product"].map(catalogue.set_index("product_id")["category"]))
    typed = typed.dropna(subset=["category"])
    baskets = typed.groupby("basket")["category"].apply(set).to_dict()
    _check_top_rules(result, baskets)
    assert len(result.rules) > 10
