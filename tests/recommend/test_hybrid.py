"""The hybrid's weights are learned on a validation split, and the blend is never worse there than a part."""

from __future__ import annotations

import numpy as np
import pytest

from jingzhun.recommend import HybridRecommender, evaluate, make_recommender
from jingzhun.recommend.hybrid import simplex_grid
from tests.recommend import synthetic


def test_simplex_grid():
    grid = simplex_grid(3, 0.25)
    assert len(grid) == 15  # C(4 + 2, 2)
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert (grid >= 0).all() and (grid[:3] == np.eye(3)).all()  # single components first


def test_learned_weights_beat_every_single_component_on_validation():
    validation = synthetic.split(n_users=300, seed=1)
    names = ("popularity", "item_knn", "content")
    hybrid = HybridRecommender(components=names, step=0.25, k=5).fit(validation.train, validation=validation)
    assert hybrid.validation_["users"] > 100 and hybrid.validation_["grid_points"] == 15
    assert sum(hybrid.weights_.values()) == pytest.approx(1.0)
    singles = {n: make_recommender(n).fit(validation.train) for n in names}
    table = evaluate(singles, validation, k=5).table.set_index("model")
    assert hybrid.validation_["ndcg"] >= table["ndcg"].max() - 1e-9
    # components with no weight are not kept
    assert set(hybrid.components_) == set(hybrid.weights_) and all(w > 0 for w in hybrid.weights_.values())


def test_sources_name_the_leading_component():
    train, _, _ = synthetic.world(n_users=100, seed=2)
    hybrid = HybridRecommender(components=("popularity", "bm25"), weights={"popularity": 1.0, "bm25": 1.0}).fit(train)
    users = np.arange(30)
    items, _ = hybrid.recommend(users, train.matrix[users], n=5)
    sources, reasons = hybrid.explain(users, train.matrix[users], items, train.catalogue)
    assert len(sources) == items.size and set(sources) <= {"popularity", "item_knn"} and len(set(sources)) == 2
    knn = sources == "item_knn"
    assert all(r.startswith("often bought with item ") for r in reasons[knn])
    assert set(reasons[~knn]) == {"a best seller"}
    # the pair-level reasons say the same
    pair_users = np.repeat(users, 5)
    assert list(hybrid.reasons(pair_users, train.matrix[pair_users], items.ravel(), train.catalogue)) == list(reasons)
    only = HybridRecommender(components=("popularity", "bm25"), weights={"popularity": 1.0}).fit(train)
    assert set(only.components_) == {"popularity"}
