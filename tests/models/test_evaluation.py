"""Probability metrics against scikit-learn and a hand-worked lift table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from jingzhun.models import ModelInputError
from jingzhun.models.evaluation import (
    auc, brier_score, calibration_table, classification_report, expected_calibration_error, lift_table,
)


@pytest.fixture
def scored():
    rng = np.random.default_rng(5)
    p = rng.beta(2, 3, 2_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    p[:50] = np.round(p[:50], 1)  # some ties
    return y, p


def test_auc_and_brier_match_scikit_learn(scored):
    y, p = scored
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-15)
    assert auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert np.isnan(auc([1, 1], [0.2, 0.3]))


def test_ece_matches_scikit_learn_calibration_curve(scored):
    y, p = scored
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    # scikit-learn's bins are the same equal-width bins; weight each non-empty one by its people
    edges = np.linspace(0, 1, 11)
    which = np.searchsorted(edges[1:-1], p)
    counts = np.bincount(which, minlength=10)
    weights = counts[counts > 0] / p.size
    want = float(np.sum(weights * np.abs(observed - predicted)))
    assert expected_calibration_error(y, p) == pytest.approx(want, abs=1e-12)


def test_ece_of_a_hand_worked_example():
    # bin (0.1, 0.2]: predictions 0.15, 0.15, outcomes 0, 1 -> |0.15 - 0.5| = 0.35, weight 1/2
    # bin (0.9, 1.0]: predictions 0.92, 0.98, outcomes 1, 1 -> |0.95 - 1| = 0.05, weight 1/2
    assert expected_calibration_error([0, 1, 1, 1], [0.15, 0.15, 0.92, 0.98]) == pytest.approx(0.2)
    # an edge belongs to the bin below it: 0.2 is in (0.1, 0.2] with 0.15
    assert expected_calibration_error([0, 1], [0.15, 0.2]) == pytest.approx(abs(0.175 - 0.5))


def test_calibration_table_is_deciles_of_the_prediction(scored):
    y, p = scored
    table = calibration_table(y, p)
    assert list(table.n) == [200] * 10 and table.group.tolist() == list(range(1, 11))
    assert table.mean_predicted.is_monotonic_increasing
    order = np.argsort(p, kind="stable")
    for i in range(10):
        members = order[i * 200:(i + 1) * 200]
        assert table.observed_rate[i] == pytest.approx(y[members].mean())
        assert table.mean_predicted[i] == pytest.approx(p[members].mean())


def test_lift_and_gain_by_hand():
    y = [1, 0, 1, 0, 0, 1, 0, 0, 0, 0]
    score = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    table = lift_table(y, score, groups=5)
    # groups of two, best first: (1,0) (1,0) (0,1) (0,0) (0,0); base rate 0.3
    assert table.positives.tolist() == [1, 1, 1, 0, 0]
    assert table.lift.tolist() == pytest.approx([0.5 / 0.3, 0.5 / 0.3, 0.5 / 0.3, 0.0, 0.0])
    assert table.gain.tolist() == pytest.approx([1 / 3, 2 / 3, 1.0, 1.0, 1.0])
    assert table.cumulative_lift.tolist() == pytest.approx([0.5 / 0.3, 0.5 / 0.3, 0.5 / 0.3, 0.375 / 0.3, 1.0])


def test_report_gathers_the_figures(scored):
    y, p = scored
    report = classification_report(y, p)
    assert report["auc"] == pytest.approx(roc_auc_score(y, p))
    assert report["n"] == 2_000 and len(report["calibration"]) == 10 and len(report["lift"]) == 10
    top = pd.Series(p).sort_values(ascending=False, kind="stable").index[:200]
    assert report["gain_at_10pct"] == pytest.approx(y[top].sum() / y.sum())


@pytest.mark.parametrize("y, p, words", [
    ([0, 2, 1], [0.1, 0.2, 0.3], "y_true is not 0 or 1 for 1 customer: positions 1"),
    ([0, 1, 1], [0.1, 1.2, 0.3], "not a probability"),
    ([0, 1], [0.1, np.nan], "NaN"),
    ([0, 1], [0.1], "shapes"),
])
def test_bad_inputs_are_refused(y, p, words):
    with pytest.raises(ModelInputError, match=words):
        brier_score(y, p)
