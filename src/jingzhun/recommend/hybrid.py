"""The hybrid: a weighted blend of the other recommenders, with weights learned on a validation split.

Each component's scores are standardised per person (:func:`~jingzhun.recommend.base.standardise_rows`)
and the hybrid's score is sum_k w_k z_k. The weights are learned, not guessed: the components are
fitted on an earlier window, every weight vector on a simplex grid (steps of ``step``) is tried on the
people of the validation window, and the one with the best mean NDCG@k wins (ties: the first on the
grid, which favours fewer components). Then the components with a positive weight are refitted on the
whole training window. A pair's reason is the reason of the component that contributed most to it,
w_k z_k.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from jingzhun.errors import InputError
from jingzhun.recommend.base import Recommender, mask_scores, standardise_rows, top_n
from jingzhun.recommend.evaluation import mean_metrics, relevant_new_items
from jingzhun.recommend.interactions import Interactions, TimeSplit

__all__ = ["HybridRecommender", "simplex_grid"]

log = logging.getLogger(__name__)

DEFAULT_COMPONENTS = ("als", "bm25", "popularity", "content")


def simplex_grid(n: int, step: float) -> np.ndarray:
    """Every weight vector of ``n`` non-negative multiples of ``step`` summing to 1, fewest components first."""
    units = int(round(1 / step))
    grid = [np.array(c) / units for c in itertools.product(range(units + 1), repeat=n) if sum(c) == units]
    grid.sort(key=lambda w: (int((w > 0).sum()), tuple(-w)))
    return np.array(grid)


class HybridRecommender(Recommender):
    """Blend of named components (see :data:`jingzhun.recommend.RECOMMENDERS`) with learned weights."""

    name: ClassVar[str] = "hybrid"

    def __init__(self, components: tuple[str, ...] = DEFAULT_COMPONENTS, params: dict[str, dict] | None = None,
                 weights: dict[str, float] | None = None, step: float = 0.1, k: int = 10,
                 max_validation_users: int = 3_000, random_state: int = 0) -> None:
        self.components = components
        self.params = params
        self.weights = weights
        self.step = step
        self.k = k
        self.max_validation_users = max_validation_users
        self.random_state = random_state

    def _make(self, name: str, context: dict[str, Any]) -> Recommender:
        """An unfitted component; with a Spark ``session`` in the fit context, ALS is Spark's."""
        from jingzhun.recommend.registry import make_recommender

        engine = "pyspark" if context.get("session") is not None else "duckdb"
        return make_recommender(name, engine=engine, **((self.params or {}).get(name, {})))

    def _fit(self, interactions: Interactions, validation: TimeSplit | None = None, **context: Any) -> None:
        names = list(self.components)
        if not names:
            raise InputError("a hybrid needs at least one component", field="components")
        if self.weights is not None:
            weights = {n: float(self.weights.get(n, 0.0)) for n in names}
            self.validation_ = {}
        elif validation is None:
            weights = {n: 1.0 / len(names) for n in names}
            self.validation_ = {}
        else:
            weights, self.validation_ = self._learn_weights(names, validation, **context)
        if sum(weights.values()) <= 0:
            raise InputError("the hybrid's weights are all zero: give at least one component a weight",
                             field="weights")
        self.weights_ = {n: w for n, w in weights.items() if w > 0}
        self.components_ = {n: self._make(n, context).fit(interactions, **context) for n in self.weights_}
        log.info("hybrid weights %s", self.weights_)

    def _learn_weights(self, names: list[str], validation: TimeSplit, **context: Any) -> tuple[dict, dict]:
        train, held = validation.train, validation.test
        relevant = relevant_new_items(train.matrix, held.matrix)
        users = np.flatnonzero((np.diff(relevant.indptr) > 0) & (np.diff(train.matrix.indptr) > 0))
        if len(users) == 0:
            raise InputError("the validation window has nobody who bought something new: choose a longer one",
                             field="validation")
        if len(users) > self.max_validation_users:
            rng = np.random.default_rng(self.random_state)
            users = np.sort(rng.choice(users, self.max_validation_users, replace=False))
        rows, rel = train.matrix[users], relevant[users]
        z = []
        for name in names:
            block = self._make(name, context).fit(train, **context).scores(users, rows)
            mask_scores(block, rows, None)
            z.append(standardise_rows(block))
        z = np.stack(z)
        finite = np.isfinite(z)
        z = np.where(finite, z, 0.0).astype(np.float32)
        seen = ~finite.all(axis=0)
        best, best_ndcg, tried = None, -1.0, 0
        for w in simplex_grid(len(names), self.step):
            blended = np.tensordot(w.astype(np.float32), z, axes=1)
            blended[seen] = -np.inf
            ndcg = mean_metrics(top_n(blended, self.k)[0], rel)["ndcg"]
            tried += 1
            if ndcg > best_ndcg + 1e-12:
                best, best_ndcg = w, ndcg
        weights = {n: float(v) for n, v in zip(names, best)}
        info = {"users": int(len(users)), "ndcg": float(best_ndcg), "k": self.k, "grid_points": tried,
                "cutoff": str(validation.cutoff)}
        return weights, info

    def _component_z(self, users: np.ndarray, rows: sp.csr_matrix) -> tuple[list[str], np.ndarray]:
        names = list(self.weights_)
        z = np.stack([self.weights_[n] * standardise_rows(self.components_[n].scores(users, rows)) for n in names])
        return names, z

    def _scores(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        _, z = self._component_z(users, rows)
        return np.where(np.isfinite(z), z, 0.0).sum(axis=0)

    def explain(self, users, rows, picked, catalogue) -> tuple[np.ndarray, np.ndarray]:
        """The leading component of each pair (largest w_k z_k) names the source and gives the reason.

        The components score the block of people once; only the reasons are per pair."""
        self._check_fitted()
        users = np.atleast_1d(np.asarray(users))
        rows = sp.csr_matrix(rows)
        names, z = self._component_z(users, rows)
        person, slot = np.nonzero(np.asarray(picked) >= 0)
        items = np.asarray(picked)[person, slot]
        at = z[:, person, items]
        lead = np.argmax(np.where(np.isfinite(at), at, -np.inf), axis=0)
        sources = np.empty(len(items), dtype=object)
        reasons = np.empty(len(items), dtype=object)
        for k, name in enumerate(names):
            mine = np.flatnonzero(lead == k)
            if mine.size:
                component = self.components_[name]
                sources[mine] = component.name
                reasons[mine] = component.reasons(users[person[mine]], rows[person[mine]], items[mine], catalogue)
        return sources, reasons

    def _reasons(self, users, rows, items, catalogue) -> np.ndarray:
        users = np.asarray(users)
        return self.explain(users, rows, np.asarray(items)[:, None], catalogue)[1]

    # -- persistence: each component's arrays under its name ----------------------------------------
    def _meta(self) -> dict[str, Any]:
        return {**super()._meta(), "weights": self.weights_, "validation": self.validation_,
                "components": {n: m._document() for n, m in self.components_.items()}}

    def _set_meta(self, meta: dict[str, Any]) -> None:
        super()._set_meta(meta)
        self.weights_ = {n: float(w) for n, w in meta["weights"].items()}
        self.validation_ = meta.get("validation") or {}
        self._component_documents = meta["components"]

    def _array_state(self) -> dict[str, np.ndarray]:
        state = {"item_ids_": self.item_ids_, "user_ids_": self.user_ids_}
        for n, model in self.components_.items():
            state.update({f"{n}/{k}": v for k, v in model._array_state().items() if k != "user_ids_"})
        return state

    def _set_array_state(self, arrays: dict[str, np.ndarray]) -> None:
        from jingzhun.recommend.registry import recommender_class

        self.item_ids_ = arrays["item_ids_"]
        self.user_ids_ = arrays["user_ids_"]
        self.components_ = {}
        for n, document in self._component_documents.items():
            mine = {k[len(n) + 1:]: v for k, v in arrays.items() if k.startswith(f"{n}/")}
            mine["user_ids_"] = self.user_ids_
            self.components_[n] = recommender_class(document["model"])._from_parts(document, mine)
        del self._component_documents
