"""What every recommender shares: one interface, batch scoring, reasons, and npz persistence.

A recommender learns item-side state from an :class:`~jingzhun.recommend.interactions.Interactions`
and scores a person from her row of purchases (as implicit's recommenders do), so the same fitted
model scores anyone whose history is at hand::

    model = ALSRecommender(factors=64).fit(interactions)
    items, scores = model.recommend(users, interactions.matrix[users], n=10)   # arrays in, arrays out
    item, score = model.recommend(7, interactions.matrix[7], n=10)             # a scalar in: 1-D out

``users`` are positions among the training profiles (``-1`` or beyond for someone the model never saw:
models that keep per-person state fall back to what the row says). Scoring runs ``batch_size`` people
at a time on a dense block of scores, so memory stays flat for any number of people.

A fitted model is written as one ``.npz`` file of plain arrays (no pickle) with its parameters and
metadata as a JSON string inside; ``load_recommender`` reads any of them back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from jingzhun import __version__
from jingzhun.errors import InputError
from jingzhun.models.base import Model
from jingzhun.recommend.interactions import Interactions

__all__ = ["Recommender", "FORMAT", "top_n", "standardise_rows"]

FORMAT = "jingzhun.recommender"
FORMAT_VERSION = 1


def top_n(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Column positions and values of the ``n`` largest finite scores per row, best first (-1 pads)."""
    n_rows, n_cols = scores.shape
    k = min(n, n_cols)
    if k == 0:
        return np.full((n_rows, n), -1, dtype=np.int64), np.full((n_rows, n), -np.inf)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
    vals = np.take_along_axis(vals, order, axis=1)
    idx[~np.isfinite(vals)] = -1
    if k < n:
        idx = np.pad(idx, ((0, 0), (0, n - k)), constant_values=-1)
        vals = np.pad(vals, ((0, 0), (0, n - k)), constant_values=-np.inf)
    return idx, vals


def standardise_rows(scores: np.ndarray) -> np.ndarray:
    """Each row minus its mean over its finite entries, divided by their standard deviation (1 when 0).

    Recommenders score on different scales (co-occurrence sums, dot products, buyer shares); on this
    common scale a hybrid can weigh them.
    """
    finite = np.isfinite(scores)
    filled = np.where(finite, scores, 0.0)
    count = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    mean = filled.sum(axis=1, keepdims=True) / count
    var = (np.where(finite, scores - mean, 0.0) ** 2).sum(axis=1, keepdims=True) / count
    sd = np.sqrt(var)
    sd[sd == 0] = 1.0
    return np.where(finite, (scores - mean) / sd, -np.inf).astype(np.float32)


class Recommender(Model):
    """Base of the recommenders. Subclasses set ``name``, implement ``_fit`` and ``_scores``, and say in
    ``_reasons`` why they proposed an item; arrays to save are listed in ``_arrays``."""

    name: ClassVar[str] = ""
    #: fitted array attributes written to the npz file
    _arrays: ClassVar[tuple[str, ...]] = ()

    @property
    def is_fitted(self) -> bool:
        return getattr(self, "item_ids_", None) is not None

    def fit(self, interactions: Interactions, **context: Any) -> Recommender:
        """Learn from ``interactions``; returns self."""
        if not isinstance(interactions, Interactions):
            raise InputError("fit takes an Interactions (see jingzhun.recommend.load_interactions)",
                             field="interactions")
        if interactions.matrix.nnz == 0:
            raise InputError("there are no purchases to learn from in this window: widen it or load orders",
                             field="interactions")
        self._fit(interactions, **context)
        self.item_ids_ = np.asarray(interactions.items, dtype=str)
        self.user_ids_ = np.asarray(interactions.users, dtype=str)
        self.n_users_ = int(interactions.n_users)
        return self

    def user_positions(self, profile_ids) -> np.ndarray:
        """Positions of ``profile_ids`` among the profiles the model was fitted on (-1: not among them)."""
        self._check_fitted()
        return pd.Index(self.user_ids_).get_indexer(np.asarray(profile_ids, dtype=str))

    def _fit(self, interactions: Interactions, **context: Any) -> None:
        raise NotImplementedError

    def _scores(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        """Scores of every item for each of ``users`` (dense, len(users) x items)."""
        raise NotImplementedError

    def scores(self, users, rows: sp.csr_matrix) -> np.ndarray:
        """Every item's score for each person (``users`` positions, ``rows`` their purchases)."""
        self._check_fitted()
        users = np.atleast_1d(np.asarray(users, dtype=np.int64))
        rows = sp.csr_matrix(rows, dtype=np.float32)
        if rows.shape != (len(users), len(self.item_ids_)):
            raise InputError(f"rows must be {len(users)} people x {len(self.item_ids_)} items, got {rows.shape}",
                             field="rows")
        return np.asarray(self._scores(users, rows), dtype=np.float32)

    def recommend(self, users, rows: sp.csr_matrix, n: int = 10, *, exclude: sp.csr_matrix | str | None = "rows",
                  allowed: np.ndarray | None = None, batch_size: int = 2_000) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` best items and their scores for each person, best first (item -1 pads short lists).

        ``exclude``: items never to propose, per person: ``"rows"`` (default) leaves out what the rows
        hold, a CSR matrix like ``rows`` leaves out its stored entries, None nothing. ``allowed``: a
        boolean mask over items (e.g. in stock). A scalar ``users`` gives 1-D arrays.
        """
        self._check_fitted()
        scalar = np.isscalar(users)
        users = np.atleast_1d(np.asarray(users, dtype=np.int64))
        rows = sp.csr_matrix(rows, dtype=np.float32)
        excluded = rows if isinstance(exclude, str) and exclude == "rows" else exclude
        items = np.empty((len(users), n), dtype=np.int64)
        values = np.empty((len(users), n), dtype=np.float32)
        for lo in range(0, len(users), batch_size):
            hi = min(lo + batch_size, len(users))
            block = self.scores(users[lo:hi], rows[lo:hi])
            mask_scores(block, excluded[lo:hi] if excluded is not None else None, allowed)
            items[lo:hi], values[lo:hi] = top_n(block, n)
        if scalar:
            return items[0], values[0]
        return items, values

    def reasons(self, users: np.ndarray, rows: sp.csr_matrix, items: np.ndarray,
                catalogue) -> np.ndarray:
        """Why each (person, item) pair was proposed, in words a marketer can show (one per pair).

        ``users``, ``items``: equal-length arrays of pairs; ``rows``: each pair's person's purchases.
        """
        self._check_fitted()
        return self._reasons(np.asarray(users), sp.csr_matrix(rows), np.asarray(items), catalogue)

    def _reasons(self, users, rows, items, catalogue) -> np.ndarray:
        raise NotImplementedError

    def explain(self, users, rows: sp.csr_matrix, picked: np.ndarray, catalogue) -> tuple[np.ndarray, np.ndarray]:
        """Source and reason of each recommended item of a block of people.

        ``users``, ``rows``: the people (positions, purchases); ``picked``: people x n items (-1 empty).
        Returns two arrays over the non-empty slots in row-major order: which recommender proposed the
        item (a hybrid names its leading component) and why.
        """
        self._check_fitted()
        users = np.atleast_1d(np.asarray(users))
        person, slot = np.nonzero(np.asarray(picked) >= 0)
        items = np.asarray(picked)[person, slot]
        rows = sp.csr_matrix(rows)
        sources = np.full(len(items), self.name, dtype=object)
        return sources, self._reasons(users[person], rows[person], items, catalogue)

    # -- persistence -------------------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        """Fitted scalars and small structures to keep beside the arrays."""
        return {"n_users": self.n_users_}

    def _set_meta(self, meta: dict[str, Any]) -> None:
        self.n_users_ = int(meta["n_users"])

    def _array_state(self) -> dict[str, np.ndarray]:
        state = {"item_ids_": self.item_ids_, "user_ids_": self.user_ids_}
        for name in self._arrays:
            value = getattr(self, name)
            if sp.issparse(value):
                value = sp.csr_matrix(value)
                state.update({f"{name}.data": value.data, f"{name}.indices": value.indices,
                              f"{name}.indptr": value.indptr, f"{name}.shape": np.asarray(value.shape)})
            else:
                state[name] = np.asarray(value)
        return state

    def _set_array_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_ids_ = arrays["item_ids_"]
        self.user_ids_ = arrays["user_ids_"]
        for name in self._arrays:
            if f"{name}.data" in arrays:
                setattr(self, name, sp.csr_matrix((arrays[f"{name}.data"], arrays[f"{name}.indices"],
                                                   arrays[f"{name}.indptr"]), shape=tuple(arrays[f"{name}.shape"])))
            else:
                setattr(self, name, arrays[name])

    def _document(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "model": type(self).__name__,
                "name": self.name, "jingzhun_version": __version__, "init_params": self.get_params(),
                "fitted": self._meta()}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted model to ``path`` (an ``.npz`` of plain arrays, metadata as JSON inside)."""
        self._check_fitted()
        path = Path(path)
        arrays = {f"a/{k}": v for k, v in self._array_state().items()}
        with path.open("wb") as handle:
            np.savez_compressed(handle, __meta__=np.asarray(json.dumps(self._document())), **arrays)
        return path

    @classmethod
    def _from_parts(cls, document: dict[str, Any], arrays: dict[str, np.ndarray]) -> Recommender:
        # JSON has no tuples: parameters given as tuples come back as lists
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in document.get("init_params", {}).items()}
        model = cls(**params)
        model._set_meta(document.get("fitted") or {})
        model._set_array_state(arrays)
        return model

    def __repr__(self) -> str:
        config = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        fitted = f" fitted on {self.n_users_:,} profiles x {len(self.item_ids_):,} products" if self.is_fitted else ""
        return f"{type(self).__name__}({config}){fitted}"


def mask_scores(block: np.ndarray, excluded: sp.csr_matrix | None, allowed: np.ndarray | None) -> None:
    """Set the scores of excluded pairs and of items not allowed to -inf, in place."""
    if excluded is not None and excluded.nnz:
        excluded = sp.csr_matrix(excluded)
        r = np.repeat(np.arange(excluded.shape[0]), np.diff(excluded.indptr))
        block[r, excluded.indices] = -np.inf
    if allowed is not None:
        block[:, ~np.asarray(allowed, dtype=bool)] = -np.inf


def read_document(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and arrays of a saved recommender (no pickle is ever loaded)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            document = json.loads(str(npz["__meta__"]))
            arrays = {k[2:]: npz[k] for k in npz.files if k.startswith("a/")}
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read a recommender from it: {exc}", file=str(path)) from exc
    if document.get("format") != FORMAT:
        raise InputError("not a jingzhun recommender file", file=str(path))
    if document.get("format_version", 0) > FORMAT_VERSION:
        raise InputError(f"recommender format {document['format_version']} is newer than this jingzhun reads: "
                         "upgrade jingzhun", file=str(path))
    return document, arrays
