"""Summaries, splits, and evaluation tables on small hand-made transaction tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jingzhun.models import BetaGeoModel, ModelInputError
from jingzhun.models.btyd.data import calibration_holdout_split, summary_from_transactions
from jingzhun.models.btyd.evaluation import conditional_expectation_table, tracking_data


@pytest.fixture
def transactions():
    return pd.DataFrame({
        "cid": ["a", "a", "a", "a", "b", "c", "c"],
        "ts": ["2024-01-01 09:00", "2024-01-01 18:00", "2024-01-08", "2024-01-29", "2024-01-15",
               "2024-02-10", "2024-03-01"],
        "amount": [10.0, 5.0, 20.0, 30.0, 7.0, 3.0, 4.0],
    })


def test_summary(transactions):
    before = transactions.copy(deep=True)
    summary = summary_from_transactions(transactions, "cid", "ts", observation_end="2024-01-29",
                                        monetary_col="amount", time_unit="D")
    pd.testing.assert_frame_equal(transactions, before)  # the caller's frame is untouched
    assert list(summary.index) == ["a", "b"]  # c starts after the end
    a = summary.loc["a"]
    # same-day orders are one occasion; the last day is inclusive; the first occasion is not averaged
    assert (a.frequency, a.recency, a["T"], a.monetary_value) == (2, 28.0, 28.0, 25.0)
    b = summary.loc["b"]
    assert (b.frequency, b.recency, b["T"], b.monetary_value) == (0, 0.0, 14.0, 0.0)
    weeks = summary_from_transactions(transactions, "cid", "ts", observation_end="2024-01-29")
    assert weeks.loc["a", "T"] == 4.0 and "monetary_value" not in weeks


def test_split(transactions):
    split = calibration_holdout_split(transactions, "cid", "ts", calibration_end="2024-01-10",
                                      observation_end="2024-03-01", monetary_col="amount", time_unit="D")
    assert list(split.index) == ["a"]  # b and c are first seen in the holdout
    row = split.loc["a"]
    assert (row.frequency_cal, row.T_cal, row.frequency_holdout, row.monetary_value_holdout) == (1, 9.0, 1, 30.0)
    assert row.duration_holdout == 51.0
    with pytest.raises(ModelInputError, match="must come after"):
        calibration_holdout_split(transactions, "cid", "ts", calibration_end="2024-03-01", observation_end="2024-01-01")


def test_dates_are_required_and_checked(transactions):
    with pytest.raises(ModelInputError, match="today"):
        summary_from_transactions(transactions, "cid", "ts", observation_end=None)
    broken = transactions.assign(ts=["2024-01-01", "not a date", *transactions.ts[2:]])
    with pytest.raises(ModelInputError, match="1 transactions: rows 1"):
        summary_from_transactions(broken, "cid", "ts", observation_end="2024-02-01")
    with pytest.raises(ModelInputError, match="no column 'when'"):
        summary_from_transactions(transactions, "cid", "when", observation_end="2024-02-01")
    with pytest.raises(ModelInputError, match="time_unit"):
        summary_from_transactions(transactions, "cid", "ts", observation_end="2024-02-01", time_unit="M")


def _simulated_transactions(n, seed):
    """A cohort buying at Poisson rates with geometric lifetimes, as a transaction table in days."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(n):
        first = int(rng.integers(0, 84))
        lam = rng.gamma(0.5, 1 / 6.0) / 7  # per day
        p = rng.beta(0.8, 2.5)
        day, days = first, [first]
        while True:
            day += int(np.ceil(rng.exponential(1 / max(lam, 1e-9))))
            if day > 545:
                break
            days.append(day)
            if rng.random() < p:
                break
        rows += [(customer, d) for d in days]
    frame = pd.DataFrame(rows, columns=["customer", "day"])
    frame["date"] = pd.Timestamp("2023-01-01") + pd.to_timedelta(frame["day"], unit="D")
    return frame


def test_evaluation_tables_on_a_simulated_cohort():
    transactions = _simulated_transactions(3000, seed=4)
    split = calibration_holdout_split(transactions, "customer", "date", calibration_end="2023-09-30",
                                      observation_end="2024-06-29")
    model = BetaGeoModel().fit(split.frequency_cal, split.recency_cal, split.T_cal)
    table = conditional_expectation_table(model, split)
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+", "total"]
    assert table.loc["total", "n_customers"] == len(split)
    assert table.loc["total", "predicted"] == pytest.approx(table.loc["total", "actual"], rel=0.15)
    tracking = tracking_data(model, transactions, "customer", "date", calibration_end="2023-09-30",
                             observation_end="2024-06-29", start="2023-01-01")
    assert tracking.index[0] == 1 and tracking["period_end"].iloc[-1] == pd.Timestamp("2024-06-29")
    assert tracking["actual"].sum() == split.frequency_cal.sum() + split.frequency_holdout.sum()
    assert np.all(np.diff(tracking["expected_cumulative"]) >= 0)
    final = tracking.iloc[-1]
    assert final.expected_cumulative == pytest.approx(final.actual_cumulative, rel=0.15)
