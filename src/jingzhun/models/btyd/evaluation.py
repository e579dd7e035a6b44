"""How well a BTYD model describes a holdout period: the conditional-expectation table and tracking data.

Both follow Fader, Hardie & Lee (2005), "Counting your customers the easy way": the table of their
Figure 4 (average holdout purchases, actual and predicted, by number of calibration repeat
purchases) and the weekly tracking of their Figures 2 and 3 (cumulative repeat purchases of the
cohort, actual and expected). They return DataFrames; plots are drawn elsewhere from them.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from jingzhun.models.btyd.base import BTYDModel
from jingzhun.models.btyd.data import TIME_UNITS, _day, _unit_days, purchase_occasions
from jingzhun.models.validation import ModelInputError

__all__ = ["conditional_expectation_table", "tracking_data"]

log = logging.getLogger(__name__)

_SPLIT_COLUMNS = ("frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout")


def conditional_expectation_table(model: BTYDModel, split: pd.DataFrame, *, max_frequency: int = 7) -> pd.DataFrame:
    """Average holdout purchases per customer, actual and predicted, by calibration frequency.

    `split` is a frame from `calibration_holdout_split`. Customers with `max_frequency` or more
    calibration repeat purchases share the last row ("7+"). Columns: n_customers, actual,
    predicted (means per customer), and a last row "total" with the sums over all customers.
    """
    model._check_fitted()
    missing = [c for c in _SPLIT_COLUMNS if c not in split.columns]
    if missing:
        raise ModelInputError(f"split has no column {', '.join(missing)} (use calibration_holdout_split)",
                              field=missing[0])
    predicted = model.expected_purchases(split["duration_holdout"].to_numpy(), split["frequency_cal"].to_numpy(),
                                         split["recency_cal"].to_numpy(), split["T_cal"].to_numpy())
    frequency = split["frequency_cal"].to_numpy()
    group = np.minimum(frequency, max_frequency).astype(int)
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    frame = pd.DataFrame({"group": group, "actual": split["frequency_holdout"].to_numpy(dtype=float),
                          "predicted": predicted})
    table = frame.groupby("group").agg(n_customers=("actual", "size"), actual=("actual", "mean"),
                                       predicted=("predicted", "mean"))
    table = table.reindex(range(max_frequency + 1))
    table["n_customers"] = table["n_customers"].fillna(0).astype(np.int64)
    table.index = pd.Index(labels, name="frequency_cal")
    table.loc["total"] = [len(frame), frame["actual"].sum(), frame["predicted"].sum()]
    table["n_customers"] = table["n_customers"].astype(np.int64)
    return table


def tracking_data(model: BTYDModel, transactions: pd.DataFrame, customer_col: str, time_col: str, *,
                  calibration_end: Any, observation_end: Any, start: Any = None, time_unit: str = "W",
                  time_format: str | None = None) -> pd.DataFrame:
    """Repeat purchases of the calibration cohort per period, actual and expected, from `start`.

    The cohort is every customer whose first purchase falls on or before `calibration_end`; the
    periods are `time_unit`s counted from `start` (default: the first transaction's day) up to
    `observation_end`. A customer first seen on day d contributes E[X(t)] (the model's
    `expected_purchases_new_customer`) with t the time from d to each period's last day, as in
    FHL (2005) Figure 2. Columns: period_end, in_calibration, actual, expected, and their
    cumulative sums actual_cumulative, expected_cumulative; one row per period.
    """
    model._check_fitted()
    unit_days = _unit_days(time_unit)
    cal_end = _day(calibration_end, "calibration_end")
    obs_end = _day(observation_end, "observation_end")
    occasions = purchase_occasions(transactions, customer_col, time_col, time_format=time_format)
    first = occasions.groupby("customer")["day"].min()
    cohort = first[first <= cal_end]
    origin = _day(start, "start") if start is not None else occasions["day"].min()
    if obs_end < origin:
        raise ModelInputError("observation_end comes before start", field="observation_end")
    n_periods = int(np.ceil(((obs_end - origin).days + 1) / unit_days))
    period_last_day = origin + pd.to_timedelta(np.arange(1, n_periods + 1) * unit_days - 1, unit="D")
    period_last_day = period_last_day.where(period_last_day <= obs_end, obs_end)

    # actual: repeat occasions (not a customer's first) of the cohort, by period
    repeat = occasions[occasions["customer"].isin(cohort.index) & (occasions["day"] <= obs_end)]
    repeat = repeat[repeat["day"] > repeat["customer"].map(cohort)]
    period_of = ((repeat["day"] - origin).dt.days // unit_days).to_numpy()
    period_of = period_of[period_of >= 0]
    actual = np.bincount(period_of, minlength=n_periods)[:n_periods].astype(float)

    # expected: sum over first-purchase days of count * E[X(elapsed)], cumulative at each period end
    start_days = cohort.value_counts()
    first_offsets = (start_days.index - origin).days.to_numpy()
    ends = (period_last_day - origin).days.to_numpy()
    elapsed = np.clip(ends[:, None] - first_offsets[None, :], 0, None) / unit_days
    cumulative = np.asarray(model.expected_purchases_new_customer(elapsed.ravel())).reshape(elapsed.shape)
    expected_cumulative = cumulative @ start_days.to_numpy(dtype=float)

    out = pd.DataFrame({
        "period_end": period_last_day,
        "in_calibration": period_last_day <= cal_end,
        "actual": actual,
        "expected": np.diff(expected_cumulative, prepend=0.0),
        "actual_cumulative": np.cumsum(actual),
        "expected_cumulative": expected_cumulative,
    }, index=pd.RangeIndex(1, n_periods + 1, name="period"))
    log.debug("tracking data: %d periods of %d days for %d customers", n_periods, TIME_UNITS[time_unit], cohort.size)
    return out
