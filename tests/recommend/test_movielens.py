"""movielens_small (ml-latest-small): ALS and item-kNN against popularity under the protocol of
tests/recommend/movielens.py. Figures in docs/recommendations.md."""

from __future__ import annotations

import pytest

from jingzhun.recommend import evaluate, make_recommender
from tests.recommend.movielens import movielens_split


@pytest.mark.slow
def test_als_and_item_knn_beat_popularity_on_movielens(datasets):
    split = movielens_split(datasets / "movielens_small")
    assert split.train.matrix.shape == (603, 9_742)
    models = {name: make_recommender(name).fit(split.train) for name in ("popularity", "item_knn", "als")}
    result = evaluate(models, split, k=10)
    print(result.markdown())
    table = result.table.set_index("model")
    assert len(result.users) == 603
    assert table.loc["als", "ndcg"] > 1.2 * table.loc["popularity", "ndcg"]
    assert table.loc["item_knn", "ndcg"] > 1.1 * table.loc["popularity", "ndcg"]
