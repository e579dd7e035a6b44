"""The simulator as referee: recommendations recover each person's planted category tastes.

10,000 simulated customers (seed 7); every person's ten recommendations (already bought items left
out) are compared with her true top three categories (truth/persons.parquet). Figures in
docs/recommendations.md.
"""

from __future__ import annotations

import pytest

from jingzhun.recommend import load_interactions, make_recommender, time_split
from jingzhun.warehouse import Warehouse
from tests.recommend.simworld import END, build, category_hits


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    path, truth = build(tmp_path_factory.mktemp("sim"), customers=10_000, seed=7)
    wh = Warehouse.duckdb(path)
    try:
        inter = load_interactions(wh, end=END)
        validation = time_split(wh, "2024-10-01T16:00:00Z", END)
    finally:
        wh.close()
    pos = inter.user_index(truth.profile_id.to_numpy())
    return inter, validation, truth[pos >= 0].reset_index(drop=True), pos[pos >= 0]


@pytest.mark.slow
def test_recommendations_recover_planted_tastes(world):
    inter, validation, truth, pos = world
    assert len(truth) > 9_000
    categories = inter.catalogue["category"].to_numpy(dtype=object)
    shares = {}
    for name in ("popularity", "bm25", "als", "content", "hybrid"):
        model = make_recommender(name)
        model.fit(inter, validation=validation) if name == "hybrid" else model.fit(inter)
        recommended, _ = model.recommend(pos, inter.matrix[pos], n=10)
        shares[name] = category_hits(recommended, categories, truth)["top3_share"].mean()
    # popularity ignores tastes: about 3 of 8 categories by chance
    assert 0.25 < shares["popularity"] < 0.45, shares
    assert shares["hybrid"] > shares["popularity"] + 0.35, shares
    assert min(shares["bm25"], shares["content"]) > 0.8, shares
    assert shares["als"] > shares["popularity"] + 0.2, shares
