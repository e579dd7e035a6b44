"""The contract every recommender keeps, and each one's scores against an independent computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from jingzhun.errors import InputError, NotFittedError
from jingzhun.recommend import (
    ALSRecommender,
    ContentRecommender,
    HybridRecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    load_recommender,
)
from jingzhun.recommend.factors import confidence, solve_user_factors
from jingzhun.recommend.neighbours import strongest_link
from tests.recommend import synthetic

CASES = {
    "popularity": lambda: PopularityRecommender(),
    "popularity_by_city": lambda: PopularityRecommender(by="city"),
    "item_knn": lambda: ItemKNNRecommender(),
    "bm25": lambda: ItemKNNRecommender(similarity="bm25"),
    "als": lambda: ALSRecommender(factors=8, iterations=5),
    "content": lambda: ContentRecommender(),
    "hybrid": lambda: HybridRecommender(components=("popularity", "item_knn", "content"),
                                        weights={"popularity": 0.5, "item_knn": 0.3, "content": 0.2}),
}


@pytest.fixture(scope="module")
def data():
    return synthetic.world(n_users=200, seed=3)


@pytest.fixture(params=list(CASES), ids=list(CASES))
def make(request):
    return CASES[request.param]


def test_constructor_only_stores_parameters(make):
    model = make()
    assert vars(model) == model.get_params()
    assert type(model)(**model.get_params()).get_params() == model.get_params()


def test_use_before_fit_says_so(make, data):
    train = data[0]
    with pytest.raises(NotFittedError, match="fit"):
        make().recommend(np.arange(3), train.matrix[:3])


def test_fit_returns_self_and_refits_identically(make, data):
    train = data[0]
    users = np.arange(20)
    a = make()
    assert a.fit(train) is a and a.is_fitted and "fitted" in repr(a)
    b = make().fit(train)
    np.testing.assert_array_equal(a.scores(users, train.matrix[users]), b.scores(users, train.matrix[users]))


def test_save_and_load_round_trip(make, data, tmp_path):
    train = data[0]
    users = np.arange(30)
    model = make().fit(train)
    path = model.save(tmp_path / "model.npz")
    again = load_recommender(path)
    assert type(again) is type(model) and again.get_params() == model.get_params()
    rows = train.matrix[users]
    np.testing.assert_array_equal(again.scores(users, rows), model.scores(users, rows))
    items, _ = model.recommend(users, rows, n=5)
    pair_users, pair_items = np.repeat(users, 5), items.ravel()
    pair_rows = train.matrix[pair_users]
    assert list(again.reasons(pair_users, pair_rows, pair_items, train.catalogue)) == list(
        model.reasons(pair_users, pair_rows, pair_items, train.catalogue))


def test_batches_scalars_and_exclusion(make, data):
    train = data[0]
    users = np.arange(50)
    model = make().fit(train)
    rows = train.matrix[users]
    items, scores = model.recommend(users, rows, n=7, batch_size=13)
    whole, whole_scores = model.recommend(users, rows, n=7, batch_size=1000)
    np.testing.assert_array_equal(items, whole)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first
    one, one_scores = model.recommend(5, train.matrix[5], n=7)
    assert one.shape == (7,) and np.array_equal(one, items[5])
    bought = rows.toarray() > 0
    assert not bought[np.repeat(np.arange(50), 7), items.ravel()].any()  # what the rows hold is left out
    allowed = np.ones(train.n_items, bool)
    allowed[items[0, 0]] = False
    assert items[0, 0] not in model.recommend(0, train.matrix[0], n=7, allowed=allowed)[0]
    reasons = model.reasons(np.repeat(users, 7), train.matrix[np.repeat(users, 7)], items.ravel(), train.catalogue)
    assert all(isinstance(r, str) and r for r in reasons)


def test_fit_refuses_an_empty_window(make, data):
    train = data[0]
    empty = synthetic.interactions_from(sp.csr_matrix(train.matrix.shape, dtype=np.float32), train.catalogue,
                                        train.groups)
    with pytest.raises(InputError, match="no purchases"):
        make().fit(empty)


def test_item_knn_cosine_is_the_cosine_of_buyer_columns(data):
    train = data[0]
    model = ItemKNNRecommender(neighbours=train.n_items).fit(train)
    x = train.matrix.toarray().astype(np.float64)
    norms = np.linalg.norm(x, axis=0)
    sim = (x.T @ x) / np.outer(norms, norms)
    np.fill_diagonal(sim, 0.0)
    np.testing.assert_allclose(model.similarity_.toarray(), sim, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.scores(np.arange(10), train.matrix[:10]), x[:10] @ sim, rtol=1e-4, atol=1e-5)


def test_strongest_link_against_brute_force(data):
    train = data[0]
    model = ItemKNNRecommender().fit(train)
    users = np.arange(40)
    items = np.arange(40) % train.n_items
    got = strongest_link(train.matrix[users], model.similarity_, np.arange(40), items)
    x, s = train.matrix[users].toarray(), model.similarity_.toarray()
    for k in range(40):
        contrib = x[k] * s[:, items[k]]
        assert got[k] == (np.argmax(contrib) if contrib.max() > 0 else -1)


def test_popularity_by_group_against_pandas(data):
    train = data[0]
    model = PopularityRecommender(by="city", prior=10.0).fit(train)
    coo = train.matrix.tocoo()
    pairs = pd.DataFrame({"user": coo.row, "item": coo.col})
    pairs["city"] = train.groups["city"][pairs.user]
    overall = pairs.groupby("item").user.nunique().reindex(range(train.n_items), fill_value=0) / train.n_users
    size = pd.Series(train.groups["city"]).value_counts()
    north = pairs[pairs.city == "north"].groupby("item").user.nunique().reindex(range(train.n_items), fill_value=0)
    want = (north + 10.0 * overall) / (size["north"] + 10.0)
    np.testing.assert_allclose(model.scores([0], train.matrix[0])[0], want.to_numpy(), rtol=1e-6)  # person 0: north
    np.testing.assert_allclose(model.scores([-1], train.matrix[0])[0], overall.to_numpy(), rtol=1e-6)


def test_als_factors_of_a_new_person_match_implicit(data):
    from implicit.cpu.als import AlternatingLeastSquares

    train = data[0]
    reference = AlternatingLeastSquares(factors=8, regularization=0.05, alpha=10.0, iterations=5, random_state=0,
                                        num_threads=1)
    reference.fit(confidence(train.matrix), show_progress=False)
    rows = confidence(train.matrix[:5])
    ours = solve_user_factors(reference.item_factors, rows, 10.0, 0.05)
    theirs = reference.recalculate_user(np.arange(5), rows)
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-4)


def test_als_scores_an_unseen_person_from_her_row(data):
    train = data[0]
    model = ALSRecommender(factors=8, iterations=10).fit(train)
    known = model.scores([3], train.matrix[3])
    solved = model.scores([-1], train.matrix[3])
    # the solved factors are the stored ones re-estimated once more: close, not equal
    assert np.corrcoef(known[0], solved[0])[0, 1] > 0.9


def test_content_prefers_the_category_a_person_buys(data):
    train = data[0]
    model = ContentRecommender().fit(train)
    cat = train.catalogue["category"].to_numpy()
    row = sp.csr_matrix((np.ones(3, np.float32), ([0, 0, 0], np.flatnonzero(cat == "b")[:3])), shape=(1, train.n_items))
    items, _ = model.recommend(-1, row, n=5)
    assert set(cat[items]) == {"b"}
    assert model.reasons([-1], row, items[:1], train.catalogue)[0] == "matches your taste for b"


def test_a_new_product_gets_content_scores_but_no_collaborative_ones(data):
    train = data[0]
    cat = train.catalogue
    new = synthetic.interactions_from(sp.hstack([train.matrix, sp.csr_matrix((train.n_users, 1))]).tocsr(),
                                      pd.concat([cat, cat.iloc[[1]].rename(index={cat.index[1]: "NEW"})]),
                                      train.groups)
    content = ContentRecommender().fit(new).scores([0], new.matrix[0])[0]
    knn = ItemKNNRecommender().fit(new).scores([0], new.matrix[0])[0]
    assert content[-1] == pytest.approx(content[1]) and content[-1] > 0
    assert knn[-1] == 0
