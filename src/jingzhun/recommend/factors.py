"""Matrix factorisation for implicit feedback: ALS from the `implicit` package, and its Spark counterpart.

Hu, Koren & Volinsky (2008), "Collaborative filtering for implicit feedback datasets", ICDM: a person
u and an item i get factor vectors x_u, y_i minimising
sum over all pairs of c_ui (p_ui - x_u . y_i)^2 + regularization (|x|^2 + |y|^2), with p_ui = 1 when u
bought i and confidence c_ui = 1 + alpha x log(1 + orders) for those pairs (1 elsewhere). The score of an
item is x_u . y_i. A person the model never saw gets x_u from her row by the paper's closed form
(its equation 4), so the fitted item factors serve anyone whose purchases are at hand.

:class:`SparkALSRecommender` fits the same model with ``pyspark.ml.recommendation.ALS``
(``implicitPrefs``) when the warehouse runs on Spark; its factors come back as arrays and score
exactly as :class:`ALSRecommender` does.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from jingzhun.recommend.base import Recommender
from jingzhun.recommend.interactions import Interactions

__all__ = ["ALSRecommender", "SparkALSRecommender", "confidence", "solve_user_factors"]

log = logging.getLogger(__name__)


def confidence(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """log(1 + orders) per pair: a second order of an item says less than the first."""
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.data = np.log1p(out.data)
    return out


def solve_user_factors(item_factors: np.ndarray, rows: sp.csr_matrix, alpha: float, regularization: float,
                       *, offset: float = 0.0, scale_regularization: bool = False) -> np.ndarray:
    """x_u = (Y'Y + Y' (C_u - I) Y + lambda I)^-1 Y' C_u p_u for each row (Hu et al. 2008, eq. 4).

    ``rows`` hold log-confidences before ``alpha`` (as :func:`confidence` gives them); c = offset +
    alpha x row: offset 0 is the `implicit` package's weighting, offset 1 with lambda scaled by the
    person's number of items is Spark's.
    """
    y = item_factors.astype(np.float64)
    yty = y.T @ y
    reg = regularization * np.eye(y.shape[1])
    out = np.zeros((rows.shape[0], y.shape[1]), dtype=np.float32)
    for r in range(rows.shape[0]):
        lo, hi = rows.indptr[r], rows.indptr[r + 1]
        if lo == hi:
            continue
        yj = y[rows.indices[lo:hi]]
        c = offset + alpha * rows.data[lo:hi].astype(np.float64)
        a = yty + (yj.T * (c - 1.0)) @ yj + reg * ((hi - lo) if scale_regularization else 1)
        out[r] = np.linalg.solve(a, yj.T @ c)
    return out


class ALSRecommender(Recommender):
    """Implicit-feedback ALS (the `implicit` package's CPU solver, conjugate gradient)."""

    name: ClassVar[str] = "als"
    _arrays = ("user_factors_", "item_factors_")
    #: confidence = offset + alpha x log(1 + orders), and whether lambda grows with a person's items
    _offset: ClassVar[float] = 0.0
    _scale_regularization: ClassVar[bool] = False

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 10.0, iterations: int = 15,
                 random_state: int = 0, num_threads: int = 2) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.num_threads = num_threads

    def _fit(self, interactions: Interactions, **context: Any) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        # BLAS threads fight implicit's own threads (2 cores: both at once is far slower)
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # implicit's check of the process-wide BLAS setting
            als = AlternatingLeastSquares(factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                                          iterations=self.iterations, random_state=self.random_state,
                                          num_threads=self.num_threads, calculate_training_loss=False)
            als.fit(confidence(interactions.matrix), show_progress=False)
        self.user_factors_ = np.asarray(als.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(als.item_factors, dtype=np.float32)

    def user_factors(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        """Stored factors of known people; factors solved from their rows for the others."""
        known = (users >= 0) & (users < len(self.user_factors_))
        out = np.empty((len(users), self.item_factors_.shape[1]), dtype=np.float32)
        out[known] = self.user_factors_[users[known]]
        if (~known).any():
            out[~known] = solve_user_factors(self.item_factors_, confidence(rows[np.flatnonzero(~known)]),
                                             self.alpha, self.regularization, offset=self._offset,
                                             scale_regularization=self._scale_regularization)
        return out

    def _scores(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        return self.user_factors(users, rows) @ self.item_factors_.T

    def _reasons(self, users, rows, items, catalogue) -> np.ndarray:
        return np.full(len(items), "people with your tastes bought it", dtype=object)


class SparkALSRecommender(ALSRecommender):
    """The same model fitted by ``pyspark.ml.recommendation.ALS`` on the Spark session of the warehouse.

    Spark's implicit ALS uses confidence 1 + alpha x rating; the ratings are the same
    log(1 + orders), so both solvers minimise the same loss (Spark scales the regularisation by each
    person's and item's number of ratings, so equal quality needs its own ``regularization``).
    """

    name: ClassVar[str] = "als"
    _offset = 1.0
    _scale_regularization = True

    def __init__(self, factors: int = 64, regularization: float = 0.01, alpha: float = 10.0, iterations: int = 15,
                 random_state: int = 0, num_threads: int = 2) -> None:
        super().__init__(factors=factors, regularization=regularization, alpha=alpha, iterations=iterations,
                         random_state=random_state, num_threads=num_threads)

    def _fit(self, interactions: Interactions, session=None, **context: Any) -> None:
        from pyspark.ml.recommendation import ALS

        if session is None:
            from pyspark.sql import SparkSession

            session = SparkSession.builder.getOrCreate()
        coo = confidence(interactions.matrix).tocoo()
        frame = pd.DataFrame({"user": coo.row.astype(np.int32), "item": coo.col.astype(np.int32),
                              "rating": coo.data.astype(np.float32)})
        ratings = session.createDataFrame(frame)
        als = ALS(rank=self.factors, maxIter=self.iterations, regParam=self.regularization, alpha=self.alpha,
                  implicitPrefs=True, userCol="user", itemCol="item", ratingCol="rating", seed=self.random_state,
                  nonnegative=False, coldStartStrategy="drop")
        model = als.fit(ratings)
        self.user_factors_ = _factors(model.userFactors.toPandas(), interactions.n_users, self.factors)
        self.item_factors_ = _factors(model.itemFactors.toPandas(), interactions.n_items, self.factors)
        log.info("Spark ALS fitted: %d people, %d items, rank %d", interactions.n_users, interactions.n_items,
                 self.factors)


def _factors(frame, n: int, rank: int) -> np.ndarray:
    """Spark's (id, features) rows as an n x rank array; ids Spark never saw get zeros."""
    out = np.zeros((n, rank), dtype=np.float32)
    if len(frame):
        out[frame["id"].to_numpy()] = np.stack(frame["features"].to_numpy()).astype(np.float32)
    return out
