"""Item-item similarity: items bought by the same people, cosine or BM25 weighted (the `implicit` package).

The similarity matrix keeps each item's ``neighbours`` most similar items. A person's score for an
item is the sum, over the items she bought, of her purchase count times their similarity, so the
reason names the bought item that contributed most: "often bought with X".
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from jingzhun.errors import InputError
from jingzhun.recommend.base import Recommender
from jingzhun.recommend.interactions import Interactions

__all__ = ["ItemKNNRecommender", "strongest_link"]

SIMILARITIES = ("cosine", "bm25")


def strongest_link(rows: sp.csr_matrix, similarity: sp.csr_matrix, users: np.ndarray,
                   items: np.ndarray) -> np.ndarray:
    """For each pair (rows[users[k]], items[k]): the bought item with the largest contribution
    rows[u, j] x similarity[j, item] (-1 when none contributes)."""
    rows = sp.csr_matrix(rows)
    starts, ends = rows.indptr[users], rows.indptr[users + 1]
    lengths = ends - starts
    pair = np.repeat(np.arange(len(items)), lengths)
    if pair.size == 0:
        return np.full(len(items), -1, dtype=np.int64)
    offsets = np.arange(pair.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    positions = np.repeat(starts, lengths) + offsets
    bought = rows.indices[positions]
    contrib = rows.data[positions] * np.asarray(similarity[bought, items[pair]]).ravel()
    order = np.lexsort((-contrib, pair))
    first = np.r_[True, pair[order][1:] != pair[order][:-1]]
    best = np.full(len(items), -1, dtype=np.int64)
    winners = order[first]
    ok = contrib[winners] > 0
    best[pair[winners][ok]] = bought[winners][ok]
    return best


class ItemKNNRecommender(Recommender):
    """Item-item nearest neighbours on cosine or BM25 similarity of the items' buyers."""

    name: ClassVar[str] = "item_knn"
    _arrays = ("similarity_",)

    def __init__(self, similarity: str = "cosine", neighbours: int = 100, k1: float = 1.2, b: float = 0.75,
                 num_threads: int = 2) -> None:
        self.similarity = similarity
        self.neighbours = neighbours
        self.k1 = k1
        self.b = b
        self.num_threads = num_threads

    def _fit(self, interactions: Interactions, **context: Any) -> None:
        from implicit.nearest_neighbours import BM25Recommender, CosineRecommender
        from implicit.utils import ParameterWarning

        if self.similarity == "cosine":
            knn = CosineRecommender(K=self.neighbours, num_threads=self.num_threads)
        elif self.similarity == "bm25":
            knn = BM25Recommender(K=self.neighbours, K1=self.k1, B=self.b, num_threads=self.num_threads)
        else:
            raise InputError(f"similarity must be one of {', '.join(SIMILARITIES)}, got {self.similarity!r}",
                             field="similarity")
        with warnings.catch_warnings():  # implicit converts its own normalised matrix and warns about it
            warnings.simplefilter("ignore", ParameterWarning)
            knn.fit(sp.csr_matrix(interactions.matrix, dtype=np.float64), show_progress=False)
        similarity = sp.csr_matrix(knn.similarity, dtype=np.float32)
        similarity.setdiag(0)  # an item never recommends itself
        similarity.eliminate_zeros()
        self.similarity_ = similarity

    def _scores(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        return (rows @ self.similarity_).toarray()

    def _reasons(self, users, rows, items, catalogue) -> np.ndarray:
        link = strongest_link(rows, self.similarity_, np.arange(rows.shape[0]), items)
        names = _display_names(catalogue)
        return np.array([f"often bought with {names[j]}" if j >= 0 else "often bought together" for j in link],
                        dtype=object)


def _display_names(catalogue) -> np.ndarray:
    """Product names for reasons, falling back to the product id."""
    names = catalogue["name"].astype(object).to_numpy()
    ids = catalogue.index.to_numpy(dtype=object)
    blank = np.array([not isinstance(n, str) or not n.strip() for n in names])
    return np.where(blank, ids, np.array([n.strip() if isinstance(n, str) else n for n in names], dtype=object))
