"""Interactions built in memory with a planted structure: people buy mostly in their two favourite categories.

Used by the unit tests that need no warehouse. Deterministic by seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from jingzhun.recommend.interactions import Interactions, TimeSplit

CATEGORIES = ("a", "b", "c", "d")


def catalogue(n_items: int = 40) -> pd.DataFrame:
    ids = [f"I{i:03d}" for i in range(n_items)]
    cat = [CATEGORIES[i % len(CATEGORIES)] for i in range(n_items)]
    price = [10.0 + 5 * (i // len(CATEGORIES)) for i in range(n_items)]
    frame = pd.DataFrame({"name": [f"item {i}" for i in ids], "category": cat,
                          "category_path": [f"{c} > sub{i % 3}" for i, c in enumerate(cat)],
                          "brand": [f"brand{i % 5}" for i in range(n_items)], "price": price,
                          "is_consumable": False, "repurchase_days": np.nan, "in_stock": True,
                          "attributes": None}, index=pd.Index(ids, name="product_id"))
    frame["price_band"] = (frame.groupby("category")["price"].rank(pct=True) * 5 - 1e-9).astype(int)
    return frame


def _draw(rng, tastes, n_items, per_person):
    cats = np.arange(n_items) % len(CATEGORIES)
    rows, cols = [], []
    for u, taste in enumerate(tastes):
        p = taste[cats] * (1.0 + (np.arange(n_items) < n_items // 2))  # the first half sells better
        p /= p.sum()
        items = rng.choice(n_items, size=per_person, replace=True, p=p)
        rows += [u] * len(items)
        cols += list(items)
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(tastes), n_items))
    m.sum_duplicates()
    return m


def interactions_from(matrix: sp.csr_matrix, cat: pd.DataFrame, groups=None) -> Interactions:
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    matrix.sort_indices()
    n = matrix.nnz
    users = np.array([f"p{u:04d}" for u in range(matrix.shape[0])], dtype=object)
    return Interactions(matrix=matrix, users=users, items=cat.index.to_numpy(dtype=object), catalogue=cat,
                        durable=np.ones(n, bool), due=np.zeros(n, bool), days_since=np.full(n, 10.0),
                        groups=dict(groups or {}))


def tastes(n_users: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.full((n_users, len(CATEGORIES)), 0.05)
    for u in range(n_users):
        fav = rng.choice(len(CATEGORIES), 2, replace=False)
        out[u, fav] = [0.6, 0.3]
    return out


def world(n_users: int = 300, n_items: int = 40, seed: int = 0) -> tuple[Interactions, Interactions, np.ndarray]:
    """Training and test interactions of the same people (same tastes), and the tastes."""
    rng = np.random.default_rng(seed)
    t = tastes(n_users, seed)
    cat = catalogue(n_items)
    city = np.array(["north", "south"], dtype=object)[np.arange(n_users) % 2]
    train = interactions_from(_draw(rng, t, n_items, 6), cat, {"city": city})
    test = interactions_from(_draw(rng, t, n_items, 3), cat, {"city": city})
    return train, test, t


def split(n_users: int = 300, seed: int = 0) -> TimeSplit:
    train, test, _ = world(n_users, seed=seed)
    return TimeSplit(train, test, pd.Timestamp("2024-01-01", tz="UTC"))
