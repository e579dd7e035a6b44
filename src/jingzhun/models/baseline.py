"""The plain RFM baselines a propensity model has to beat, on the same frames.

- :func:`rfm_score`: recency, frequency and monetary each scored 1 to 5 by quintile among the people
  of the frame (5 = most recent, most frequent, highest spend) and summed (3 to 15): the marketer's
  classic RFM cell score. A ranking, not a probability.
- :class:`RFMLogistic`: a logistic regression on the same three measures (recency in days, log of
  1 + frequency, log of 1 + monetary total, standardised), fitted on the training frame: the best a
  straight line through RFM can do, with probabilities to compare calibration against.

Quintiles are cut by rank with ties broken by position (frames are sorted by profile_id), so the
scores are deterministic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from jingzhun.errors import NotFittedError
from jingzhun.models.tabular import binary_outcome, check_rows, feature_matrix

__all__ = ["rfm_score", "RFMLogistic", "RFM_COLUMNS"]

RFM_COLUMNS = ("recency_days", "frequency", "monetary_total")


def _quintile(values: pd.Series) -> np.ndarray:
    """Score 1..5 by rank (ties in input order), 5 for the largest values."""
    ranks = values.rank(method="first").to_numpy()
    return np.ceil(ranks * 5 / len(values)).astype(np.int64).clip(1, 5)


def rfm_score(frame: pd.DataFrame) -> np.ndarray:
    """R + F + M quintile scores (3..15) of each row of a frame with the RFM columns."""
    x, _ = feature_matrix(frame, columns=list(RFM_COLUMNS), allow_missing=False)
    r = _quintile(pd.Series(-x[:, 0]))
    f = _quintile(pd.Series(x[:, 1]))
    m = _quintile(pd.Series(x[:, 2]))
    return (r + f + m).astype(np.float64)


def _design(frame: pd.DataFrame) -> np.ndarray:
    x, _ = feature_matrix(frame, columns=list(RFM_COLUMNS), allow_missing=False)
    return np.column_stack([x[:, 0], np.log1p(np.maximum(x[:, 1], 0)), np.log1p(np.maximum(x[:, 2], 0))])


class RFMLogistic:
    """Logistic regression on recency, log frequency and log monetary (standardised)."""

    def fit(self, frame: pd.DataFrame, label: Any) -> RFMLogistic:
        from sklearn.linear_model import LogisticRegression  # only fitting needs scikit-learn

        x = _design(frame)
        y = binary_outcome("label", label)
        check_rows(x.shape[0], label=y)
        self.mean_ = x.mean(axis=0)
        self.scale_ = np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
        self.regression_ = LogisticRegression(max_iter=1000).fit((x - self.mean_) / self.scale_, y)
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "regression_"):
            raise NotFittedError("this RFMLogistic is not fitted yet: call fit(frame, label) first")
        return self.regression_.predict_proba((_design(frame) - self.mean_) / self.scale_)[:, 1]
