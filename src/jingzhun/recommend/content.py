"""Content-based: items like the ones a person buys, by what the catalogue says about them.

Each product becomes a vector of weighted features: its top category and each level of its category
path, its brand, its price band within its category (quintiles), its attributes (``key=value``) and
the words of its name. Every feature is weighted by its kind's weight times its inverse document
frequency over the catalogue, and each product's vector has unit length. A person's profile is the sum
of the vectors of what she bought (weighted by log(1 + orders)); an item's score is its cosine with it.

It needs no other buyer of the item, so it scores new products the day they enter the catalogue.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from jingzhun.recommend.base import Recommender
from jingzhun.recommend.factors import confidence
from jingzhun.recommend.interactions import Interactions, attribute_tokens, name_words

__all__ = ["ContentRecommender", "item_features"]


def item_features(catalogue: pd.DataFrame, weights: dict[str, float]) -> tuple[sp.csr_matrix, np.ndarray]:
    """Unit-length TF-IDF feature rows of the catalogue's items and the feature names."""
    rows, names, values = [], [], []
    for pos, item in enumerate(catalogue.itertuples(index=False)):
        tokens: dict[str, float] = {}

        def add(kind: str, token: str) -> None:
            if weights.get(kind, 0) > 0:
                tokens[f"{kind}:{token}"] = weights[kind]

        category = item.category if isinstance(item.category, str) else None
        if category:
            add("category", category)
        if isinstance(item.category_path, str):
            levels = [level.strip() for level in item.category_path.split(">")]
            for depth in range(2, len(levels) + 1):
                add("category", " > ".join(levels[:depth]))
        if isinstance(item.brand, str) and item.brand:
            add("brand", item.brand)
        if item.price_band >= 0:
            add("price", f"{category or ''}|{item.price_band}")
        for token in attribute_tokens(item.attributes):
            add("attribute", token)
        for word in name_words(item.name):
            add("name", word)
        for token, weight in tokens.items():
            rows.append(pos)
            names.append(token)
            values.append(weight)
    vocab, cols = np.unique(np.asarray(names, dtype=object), return_inverse=True) if names else (np.array([]), [])
    matrix = sp.csr_matrix((np.asarray(values, dtype=np.float32), (np.asarray(rows), np.asarray(cols))),
                           shape=(len(catalogue), len(vocab)))
    df = np.asarray((matrix > 0).sum(axis=0)).ravel()
    idf = np.log((1 + len(catalogue)) / (1 + df)) + 1.0
    matrix = normalize(matrix @ sp.diags(idf.astype(np.float32)), norm="l2", axis=1)
    return sp.csr_matrix(matrix, dtype=np.float32), vocab.astype(str)


class ContentRecommender(Recommender):
    """Cosine between a person's bought-item profile and each item's catalogue features."""

    name: ClassVar[str] = "content"
    _arrays = ("features_", "feature_names_", "categories_")

    def __init__(self, category_weight: float = 1.0, brand_weight: float = 0.5, price_weight: float = 0.5,
                 attribute_weight: float = 0.5, name_weight: float = 0.3) -> None:
        self.category_weight = category_weight
        self.brand_weight = brand_weight
        self.price_weight = price_weight
        self.attribute_weight = attribute_weight
        self.name_weight = name_weight

    def _fit(self, interactions: Interactions, **context: Any) -> None:
        weights = {"category": self.category_weight, "brand": self.brand_weight, "price": self.price_weight,
                   "attribute": self.attribute_weight, "name": self.name_weight}
        self.features_, self.feature_names_ = item_features(interactions.catalogue, weights)
        self.categories_ = interactions.catalogue["category"].fillna("").to_numpy(dtype=str)

    def _scores(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        profile = normalize(confidence(rows) @ self.features_, norm="l2", axis=1)
        return (profile @ self.features_.T).toarray()

    def _reasons(self, users, rows, items, catalogue) -> np.ndarray:
        category = self.categories_[items]
        brand = catalogue["brand"].to_numpy(dtype=object)[items]
        out = []
        for cat, br in zip(category, brand):
            if cat:
                out.append(f"matches your taste for {cat}")
            elif isinstance(br, str) and br:
                out.append(f"from {br}, a brand you buy")
            else:
                out.append("like the things you buy")
        return np.asarray(out, dtype=object)
