"""Business rules: what a person must never see, what comes back when due, and the list's shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from jingzhun.recommend import (
    BusinessRules,
    PopularityRecommender,
    load_interactions,
    recommend_all,
    write_recommendations,
)
from jingzhun.recommend.rules import apply_rules, pick_diverse
from tests.recommend import synthetic
from tests.recommend.shop import AS_OF

BOUGHT_DURABLE = {("pA", "P1"), ("pB", "P4"), ("pB", "P5"), ("pC", "P1"), ("pC", "P6"), ("pD", "P4")}


@pytest.fixture
def shop_recs(shop):
    inter = load_interactions(shop, end=AS_OF)
    model = PopularityRecommender().fit(inter)
    return shop, inter, model


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame.profile_id, frame.product_id))


def test_rules_honoured_in_the_shop(shop_recs):
    shop, inter, model = shop_recs
    recs = recommend_all(model, inter, n=5)
    pairs = _pairs(recs)
    assert not pairs & BOUGHT_DURABLE  # no durable item the person already bought
    assert "P6" not in set(recs.product_id)  # out of stock
    assert ("pB", "P2") not in pairs  # bought 9.6 days ago on a 30-day cycle: not yet
    assert ("pC", "P2") not in pairs  # five cycles late: she has stopped
    assert ("pD", "P7") not in pairs  # a consumable without a cycle is held back like a durable
    first = recs[(recs.profile_id == "pA") & (recs["rank"] == 1)].iloc[0]
    assert (first.product_id, first.source) == ("P2", "restock")  # due: comes back, first
    assert first.reason == "time to restock: you bought it 41 days ago"
    for _, mine in recs.groupby("profile_id"):
        assert list(mine["rank"]) == list(range(1, len(mine) + 1))
    assert set(recs[recs.source == "popularity"].reason) == {"a best seller"}


def test_without_rules_the_same_model_proposes_them(shop_recs):
    shop, inter, model = shop_recs
    recs = recommend_all(model, inter, n=7, rules=BusinessRules.none())
    pairs = _pairs(recs)
    assert pairs & BOUGHT_DURABLE and "P6" in set(recs.product_id) and ("pB", "P2") in pairs


def test_recommendations_table_written_whole(shop_recs):
    shop, inter, model = shop_recs
    recs = recommend_all(model, inter, n=3)
    assert write_recommendations(shop, recs, model_id="m1") == len(recs)
    again = write_recommendations(shop, recs.head(2), model_id="m2")
    table = shop.execute(shop.table("recommendations")).sort_values(["profile_id", "rank"])
    assert again == 2 and len(table) == 2 and set(table.model_id) == {"m2"}
    cols = ["profile_id", "product_id"]
    assert table[cols].values.tolist() == recs.head(2)[cols].values.tolist()


def test_diversity_cap_and_price_band():
    train, _, _ = synthetic.world(n_users=60, seed=5)
    model = PopularityRecommender().fit(train)
    users = np.arange(60)
    cat = train.catalogue
    rules = BusinessRules(max_per_category=1, price_band_tolerance=None)
    picked, _, _ = apply_rules(model, train, users, 4, rules)
    for row in picked:
        assert len(set(cat["category"].to_numpy()[row])) == 4
    # a person who buys only in the cheapest band sees nothing more than one band above it
    cheap = np.flatnonzero(cat["price_band"].to_numpy() == 0)[:4]
    row = sp.csr_matrix((np.ones(4, np.float32), ([0] * 4, cheap)), shape=(1, train.n_items))
    one = synthetic.interactions_from(row, cat)
    picked, _, _ = apply_rules(model, one, np.array([0]), 25, BusinessRules(max_per_category=None))
    assert cat["price_band"].to_numpy()[picked[0][picked[0] >= 0]].max() <= 1
    picked, _, _ = apply_rules(model, one, np.array([0]), 25, BusinessRules.none())
    assert cat["price_band"].to_numpy()[picked[0]].max() > 1


def _greedy(candidates, categories, n, cap, taken):
    out = []
    counts = {}
    for item in taken:
        if item >= 0:
            counts[categories[item]] = counts.get(categories[item], 0) + 1
    for item in candidates:
        if len(out) == n:
            break
        if item < 0:
            continue
        c = categories[item]
        if c >= 0 and counts.get(c, 0) >= cap:
            continue
        counts[c] = counts.get(c, 0) + 1
        out.append(item)
    return out + [-1] * (n - len(out))


def test_pick_diverse_is_the_greedy_walk():
    rng = np.random.default_rng(0)
    categories = rng.integers(-1, 4, 50)
    candidates = np.array([rng.permutation(50)[:20] for _ in range(30)])
    candidates[rng.random(candidates.shape) < 0.1] = -1
    taken = rng.integers(-1, 50, (30, 2))
    n = rng.integers(3, 9, 30)
    got = pick_diverse(candidates, categories, n, 2, taken)
    for r in range(30):
        want = _greedy(candidates[r], categories, int(n[r]), 2, taken[r])
        assert got[r, :n[r]].tolist() == want and (got[r, n[r]:] == -1).all()
