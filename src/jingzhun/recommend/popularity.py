"""Popularity: what most people bought, overall or within the person's group (city, store, segment).

The score of an item is the share of people who bought it. Within a group the share is shrunk
towards the overall share with a prior worth ``prior`` people, (buyers in group + prior x overall
share) / (group size + prior), so a small group's one-off purchases do not dominate, and a person
with no group (or one the model never saw) gets the overall list.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from jingzhun.errors import InputError
from jingzhun.recommend.base import Recommender
from jingzhun.recommend.interactions import Interactions

__all__ = ["PopularityRecommender", "LOCAL_GROUPS"]

#: groupings that describe where a person shops: their reason says "near your store"
LOCAL_GROUPS = ("nearest_store_id", "top_store_id", "city", "region", "store")


class PopularityRecommender(Recommender):
    """Most bought items, overall (``by=None``) or by the group ``interactions.groups[by]`` names."""

    name: ClassVar[str] = "popularity"
    _arrays = ("overall_", "group_scores_", "group_labels_", "user_group_")

    def __init__(self, by: str | None = None, prior: float = 50.0) -> None:
        self.by = by
        self.prior = prior

    def _fit(self, interactions: Interactions, **context: Any) -> None:
        bought = (interactions.matrix > 0).astype(np.float32)
        n_users = max(interactions.n_users, 1)
        self.overall_ = np.asarray(bought.sum(axis=0)).ravel() / n_users
        if self.by is None:
            self.group_labels_ = np.array([], dtype=str)
            self.group_scores_ = np.zeros((0, interactions.n_items), dtype=np.float32)
            self.user_group_ = np.full(interactions.n_users, -1, dtype=np.int32)
            return
        if self.by not in interactions.groups:
            raise InputError(f"no grouping {self.by!r} on these interactions; attach one with "
                             "jingzhun.recommend.attach_groups(warehouse, interactions, by)", field="by")
        labels = pd.Series(interactions.groups[self.by], dtype=object)
        codes, uniques = pd.factorize(labels, use_na_sentinel=True)
        known = codes >= 0
        indicator = sp.csr_matrix((np.ones(known.sum(), dtype=np.float32), (codes[known], np.flatnonzero(known))),
                                  shape=(len(uniques), interactions.n_users))
        counts = np.asarray((indicator @ bought).todense())
        sizes = np.asarray(indicator.sum(axis=1)).ravel()
        prior = float(self.prior)
        self.group_scores_ = ((counts + prior * self.overall_) / (sizes + prior)[:, None]).astype(np.float32)
        self.group_labels_ = np.asarray(uniques, dtype=str)
        self.user_group_ = codes.astype(np.int32)

    def _groups_of(self, users: np.ndarray) -> np.ndarray:
        known = (users >= 0) & (users < len(self.user_group_))
        return np.where(known, self.user_group_[np.where(known, users, 0)], -1)

    def _scores(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        out = np.broadcast_to(self.overall_.astype(np.float32), (len(users), len(self.overall_))).copy()
        groups = self._groups_of(users)
        has = groups >= 0
        if has.any():
            out[has] = self.group_scores_[groups[has]]
        return out

    def _reasons(self, users, rows, items, catalogue) -> np.ndarray:
        groups = self._groups_of(users)
        if self.by is None:
            grouped = "a best seller"
        elif self.by in LOCAL_GROUPS:
            grouped = "popular near your store"
        else:
            grouped = "popular with customers like you"
        return np.where(groups >= 0, grouped, "a best seller").astype(object)
