"""How good a probability is: ranking (AUC), accuracy (Brier), calibration, lift and gain.

Everything takes a 0/1 outcome per person and a predicted probability (or any score, for the ranking
measures) and returns plain numbers or small pandas frames, so a report, a test or the registry can
use them as they are. Definitions:

- **AUC**: the probability that a random positive scores above a random negative, ties counting one
  half (Mann-Whitney U / (n1 n0), from average ranks).
- **Brier score**: mean of (p - y)^2.
- **Expected calibration error (ECE)**: predictions cut into `bins` equal-width bins on [0, 1]
  (closed on the right, like scikit-learn's ``calibration_curve``); the
  mean over bins of |mean prediction - observed rate|, weighted by the bin's share of people
  (Naeini, Cooper & Hauskrecht 2015, AAAI).
- **Calibration table**: the same comparison by deciles of the prediction (equal-count groups).
- **Lift and gain table**: people sorted by score, best first, cut into `groups` equal-count groups
  (deciles): each group's response rate, its lift over the overall rate, and the cumulative share of
  all positives reached (the gain curve).

Groups of equal count are cut by position after a stable sort on the score (ties keep input order),
so the tables are deterministic; `np.array_split` sizes them (the first groups take one extra person
when the count does not divide).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from jingzhun.models.validation import ModelInputError, as_float_array, fail_where

__all__ = ["auc", "brier_score", "expected_calibration_error", "calibration_table", "lift_table",
           "classification_report"]


def _outcomes_and_scores(y_true: Any, score: Any, *, probabilities: bool) -> tuple[np.ndarray, np.ndarray]:
    y = as_float_array("y_true", y_true)
    s = as_float_array("score", score)
    if y.ndim != 1 or s.ndim != 1 or y.shape != s.shape:
        raise ModelInputError(f"y_true and score need one value per person each, got shapes {y.shape} and {s.shape}")
    if y.size == 0:
        raise ModelInputError("nothing to evaluate: no people")
    fail_where((y != 0) & (y != 1), "y_true is not 0 or 1", field="y_true", source=y_true)
    if probabilities:
        fail_where((s < 0) | (s > 1), "score is not a probability in [0, 1]", field="score", source=score)
    return y, s


def auc(y_true: Any, score: Any) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    y, s = _outcomes_and_scores(y_true, score, probabilities=False)
    n1 = float(y.sum())
    n0 = float(y.size - n1)
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(s, method="average")
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier_score(y_true: Any, probability: Any) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    y, p = _outcomes_and_scores(y_true, probability, probabilities=True)
    return float(np.mean((p - y) ** 2))


def _uniform_bins(p: np.ndarray, bins: int) -> np.ndarray:
    """Bin of each probability among `bins` equal-width bins [0, 1/b], (1/b, 2/b], ... (closed on the
    right, as scikit-learn's calibration_curve cuts them)."""
    if int(bins) != bins or bins < 1:
        raise ModelInputError(f"bins must be a positive whole number, got {bins!r}", field="bins")
    edges = np.linspace(0.0, 1.0, int(bins) + 1)
    return np.searchsorted(edges[1:-1], p, side="left")


def expected_calibration_error(y_true: Any, probability: Any, *, bins: int = 10) -> float:
    """ECE over `bins` equal-width probability bins, weighted by the people in each bin."""
    y, p = _outcomes_and_scores(y_true, probability, probabilities=True)
    which = _uniform_bins(p, bins)
    count = np.bincount(which, minlength=bins)
    mean_p = np.bincount(which, weights=p, minlength=bins)
    mean_y = np.bincount(which, weights=y, minlength=bins)
    filled = count > 0
    gap = np.abs(mean_p[filled] / count[filled] - mean_y[filled] / count[filled])
    return float((gap * count[filled]).sum() / y.size)


def _ranked_groups(score: np.ndarray, groups: int, *, descending: bool) -> list[np.ndarray]:
    if int(groups) != groups or groups < 1:
        raise ModelInputError(f"groups must be a positive whole number, got {groups!r}", field="groups")
    order = np.argsort(-score if descending else score, kind="stable")
    return [g for g in np.array_split(order, int(groups)) if g.size]


def calibration_table(y_true: Any, probability: Any, *, groups: int = 10) -> pd.DataFrame:
    """Mean prediction against the observed rate per group of people of equal count, lowest first.

    Columns: group (1 = lowest predictions), n, mean_predicted, observed_rate, min_predicted,
    max_predicted.
    """
    y, p = _outcomes_and_scores(y_true, probability, probabilities=True)
    rows = []
    for i, members in enumerate(_ranked_groups(p, groups, descending=False), start=1):
        rows.append({"group": i, "n": int(members.size), "mean_predicted": float(p[members].mean()),
                     "observed_rate": float(y[members].mean()), "min_predicted": float(p[members].min()),
                     "max_predicted": float(p[members].max())})
    return pd.DataFrame(rows)


def lift_table(y_true: Any, score: Any, *, groups: int = 10) -> pd.DataFrame:
    """Response, lift and cumulative gain per group of equal count, best scores first.

    Columns: group (1 = highest scores), n, positives, rate, lift (rate / overall rate),
    cumulative_n, cumulative_share (of all people), cumulative_positives, cumulative_rate,
    cumulative_lift, gain (cumulative share of all positives).
    """
    y, s = _outcomes_and_scores(y_true, score, probabilities=False)
    base = y.mean()
    total_pos = y.sum()
    rows = []
    cum_n = cum_pos = 0.0
    for i, members in enumerate(_ranked_groups(s, groups, descending=True), start=1):
        n = float(members.size)
        pos = float(y[members].sum())
        cum_n += n
        cum_pos += pos
        rate = pos / n
        cum_rate = cum_pos / cum_n
        rows.append({
            "group": i, "n": int(n), "positives": int(pos), "rate": rate,
            "lift": rate / base if base > 0 else float("nan"),
            "cumulative_n": int(cum_n), "cumulative_share": cum_n / y.size, "cumulative_positives": int(cum_pos),
            "cumulative_rate": cum_rate, "cumulative_lift": cum_rate / base if base > 0 else float("nan"),
            "gain": cum_pos / total_pos if total_pos > 0 else float("nan"),
        })
    return pd.DataFrame(rows)


def classification_report(y_true: Any, probability: Any, *, bins: int = 10, groups: int = 10) -> dict[str, Any]:
    """The figures the registry keeps for a probability model: n, base rate, AUC, Brier, ECE, the top
    group's lift, the gain of the top 10% and 30%, and both tables as lists of records."""
    y, p = _outcomes_and_scores(y_true, probability, probabilities=True)
    lifts = lift_table(y, p, groups=groups)
    return {
        "n": int(y.size),
        "base_rate": float(y.mean()),
        "mean_predicted": float(p.mean()),
        "auc": auc(y, p),
        "brier": brier_score(y, p),
        "ece": expected_calibration_error(y, p, bins=bins),
        "top_group_lift": float(lifts.lift.iloc[0]),
        "gain_at_10pct": _gain_at(y, p, 0.1),
        "gain_at_30pct": _gain_at(y, p, 0.3),
        "calibration": calibration_table(y, p, groups=groups).to_dict("records"),
        "lift": lifts.to_dict("records"),
    }


def _gain_at(y: np.ndarray, score: np.ndarray, share: float) -> float:
    """Share of all positives among the best-scored `share` of people (stable order on ties)."""
    if y.sum() == 0:
        return float("nan")
    top = np.argsort(-score, kind="stable")[: int(round(share * y.size))]
    return float(y[top].sum() / y.sum())
