"""MovieLens (ml-latest-small) as implicit feedback, straight from its CSV files (a benchmark set, not a source).

Protocol: a rating of 4 or more is a positive; each user's positives are ordered by time and the last
20% (at least one) are held out; users with fewer than 5 positives are left out. Movies are the
catalogue, their first genre the category and every genre an attribute.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from jingzhun.recommend.interactions import Interactions, TimeSplit, _price_band


def _interactions(pairs: pd.DataFrame, users: np.ndarray, catalogue: pd.DataFrame) -> Interactions:
    u = pd.Index(users).get_indexer(pairs.userId)
    i = pd.Index(catalogue.index).get_indexer(pairs.movieId.astype(str))
    m = sp.csr_matrix((np.ones(len(pairs), np.float32), (u, i)), shape=(len(users), len(catalogue)))
    m.sum_duplicates()
    m.sort_indices()
    n = m.nnz
    return Interactions(matrix=m, users=users, items=catalogue.index.to_numpy(dtype=object), catalogue=catalogue,
                        durable=np.ones(n, bool), due=np.zeros(n, bool), days_since=np.zeros(n))


def movielens_split(folder: Path, holdout: float = 0.2, min_positives: int = 5) -> TimeSplit:
    movies = pd.read_csv(folder / "movies.csv", dtype={"movieId": str})
    genres = movies.genres.str.split("|")
    catalogue = pd.DataFrame({
        "name": movies.title, "category": genres.str[0], "category_path": None, "brand": None, "price": np.nan,
        "is_consumable": False, "repurchase_days": np.nan, "in_stock": True,
        "attributes": [json.dumps({g: True for g in gs}) for gs in genres]}, index=movies.movieId.rename("product_id"))
    catalogue["price_band"] = _price_band(catalogue)
    ratings = pd.read_csv(folder / "ratings.csv")
    pos = ratings[ratings.rating >= 4.0].sort_values(["userId", "timestamp", "movieId"], kind="stable")
    counts = pos.groupby("userId").movieId.transform("size")
    pos = pos[counts >= min_positives].copy()
    pos["rank"] = pos.groupby("userId").cumcount()
    n = pos.groupby("userId").movieId.transform("size")
    held = pos["rank"] >= n - np.maximum(1, np.floor(holdout * n)).astype(int)
    users = np.sort(pos.userId.unique())
    return TimeSplit(_interactions(pos[~held], users, catalogue), _interactions(pos[held], users, catalogue),
                     pd.Timestamp(0, tz="UTC"))
