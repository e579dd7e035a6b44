"""From transactions to the BTYD models' inputs: per-customer summaries and calibration/holdout splits.

A *purchase occasion* is a customer's calendar day with at least one transaction: several orders on
one day count as one purchase (as in Fader, Hardie & Lee 2005 on CDNOW). Times are measured in
days and expressed in `time_unit` ("D" days, "W" weeks of 7 days).

For a customer whose first occasion falls on or before `observation_end`:

- ``frequency``: the number of repeat occasions (occasions after the first);
- ``recency``: days from the first to the last occasion, in the unit;
- ``T``: days from the first occasion to `observation_end` (the last day observed, inclusive);
- ``monetary_value``: mean value of the repeat occasions (an occasion's value is the day's total),
  0 for customers with no repeat occasion.

These functions never change the caller's frame and never default a date: pass the dates.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from jingzhun.models.validation import ModelInputError

__all__ = ["summary_from_transactions", "calibration_holdout_split", "purchase_occasions", "TIME_UNITS"]

log = logging.getLogger(__name__)

#: days per time unit
TIME_UNITS = {"D": 1, "W": 7}


def _unit_days(time_unit: str) -> int:
    if time_unit not in TIME_UNITS:
        raise ModelInputError(f"time_unit must be one of {sorted(TIME_UNITS)}, got {time_unit!r}",
                              field="time_unit")
    return TIME_UNITS[time_unit]


def _day(value: Any, name: str) -> pd.Timestamp:
    if value is None:
        raise ModelInputError(f"{name} is required (a date; nothing defaults to today)", field=name)
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ModelInputError(f"{name} is not a date: {value!r}", field=name) from exc
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(None)
    return stamp.normalize()


def purchase_occasions(transactions: pd.DataFrame, customer_col: str, time_col: str, *,
                       monetary_col: str | None = None, time_format: str | None = None) -> pd.DataFrame:
    """One row per customer and calendar day: columns customer, day, value (the day's total or 0),
    sorted by customer and day. Time strings are ISO 8601 unless `time_format` (a strptime format)
    says otherwise; time zones are converted to UTC before taking the day."""
    needed = [customer_col, time_col] + ([monetary_col] if monetary_col else [])
    missing = [c for c in needed if c not in transactions.columns]
    if missing:
        raise ModelInputError(f"transactions have no column {', '.join(map(repr, missing))}; "
                              f"columns are {list(transactions.columns)}", field=missing[0])
    customers = transactions[customer_col]
    bad = customers.isna()
    if bad.any():
        raise ModelInputError(f"{customer_col} is missing on {int(bad.sum())} transactions: rows "
                              f"{', '.join(map(str, np.flatnonzero(bad.to_numpy())[:5]))}", field=customer_col)
    try:
        # strings are read as ISO 8601 unless a format is given (no guessing of day-first orders)
        times = pd.to_datetime(transactions[time_col], format=time_format or "ISO8601", errors="coerce")
    except (TypeError, ValueError) as exc:
        raise ModelInputError(f"{time_col} cannot be read as dates: {exc}", field=time_col) from exc
    bad = times.isna().to_numpy()
    if bad.any():
        raise ModelInputError(f"{time_col} is missing or not a date on {int(bad.sum())} transactions: rows "
                              f"{', '.join(map(str, np.flatnonzero(bad)[:5]))}", field=time_col,
                              hint="pass time_format= for non-ISO dates such as 19970101 ('%Y%m%d')")
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert(None)
    if monetary_col:
        values = pd.to_numeric(transactions[monetary_col], errors="coerce")
        bad = values.isna().to_numpy() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            raise ModelInputError(f"{monetary_col} is missing or not a number on {int(bad.sum())} transactions: "
                                  f"rows {', '.join(map(str, np.flatnonzero(bad)[:5]))}", field=monetary_col)
    else:
        values = pd.Series(0.0, index=transactions.index)
    frame = pd.DataFrame({"customer": customers.to_numpy(), "day": times.dt.normalize().to_numpy(),
                          "value": values.to_numpy(dtype=float)})
    return (frame.groupby(["customer", "day"], sort=True, observed=True)["value"].sum().reset_index())


def _summarise(occasions: pd.DataFrame, end: pd.Timestamp, unit_days: int, with_money: bool) -> pd.DataFrame:
    """Summary of occasions already restricted to days <= end (sorted by customer, day)."""
    grouped = occasions.groupby("customer", sort=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    count = grouped.size()
    out = pd.DataFrame({
        "frequency": (count - 1).astype(np.int64),
        "recency": (last - first).dt.days / unit_days,
        "T": (end - first).dt.days / unit_days,
    })
    if with_money:
        repeat = occasions[grouped.cumcount() > 0]
        out["monetary_value"] = repeat.groupby("customer")["value"].mean().reindex(out.index).fillna(0.0)
    return out


def summary_from_transactions(transactions: pd.DataFrame, customer_col: str, time_col: str, *,
                              observation_end: Any, monetary_col: str | None = None, time_unit: str = "W",
                              time_format: str | None = None) -> pd.DataFrame:
    """Per-customer (frequency, recency, T[, monetary_value]) at `observation_end` (inclusive day).

    Transactions after `observation_end` are left out (and counted in the log). Returns a frame
    indexed by customer id (named `customer_col`), sorted by it.
    """
    unit_days = _unit_days(time_unit)
    end = _day(observation_end, "observation_end")
    occasions = purchase_occasions(transactions, customer_col, time_col, monetary_col=monetary_col,
                                   time_format=time_format)
    keep = occasions["day"] <= end
    if not keep.all():
        log.info("summary at %s leaves out %d purchase occasions after it", end.date(), int((~keep).sum()))
    summary = _summarise(occasions[keep], end, unit_days, monetary_col is not None)
    summary.index.name = customer_col
    return summary


def calibration_holdout_split(transactions: pd.DataFrame, customer_col: str, time_col: str, *,
                              calibration_end: Any, observation_end: Any, monetary_col: str | None = None,
                              time_unit: str = "W", time_format: str | None = None) -> pd.DataFrame:
    """Calibration summary at `calibration_end` plus what each customer did in the holdout period
    (calibration_end, observation_end].

    Columns: frequency_cal, recency_cal, T_cal[, monetary_value_cal], frequency_holdout (purchase
    occasions in the holdout), [monetary_value_holdout (their mean value, 0 if none),]
    duration_holdout (its length in the unit). Only customers whose first purchase falls in the
    calibration period are rows: the model describes them (later customers are counted in the log).
    """
    unit_days = _unit_days(time_unit)
    cal_end = _day(calibration_end, "calibration_end")
    obs_end = _day(observation_end, "observation_end")
    if obs_end <= cal_end:
        raise ModelInputError(f"observation_end ({obs_end.date()}) must come after calibration_end "
                              f"({cal_end.date()})", field="observation_end")
    occasions = purchase_occasions(transactions, customer_col, time_col, monetary_col=monetary_col,
                                   time_format=time_format)
    with_money = monetary_col is not None
    calibration = _summarise(occasions[occasions["day"] <= cal_end], cal_end, unit_days, with_money)
    calibration.columns = [f"{c}_cal" for c in calibration.columns]
    holdout = occasions[(occasions["day"] > cal_end) & (occasions["day"] <= obs_end)]
    late = ~holdout["customer"].isin(calibration.index)
    if late.any():
        log.info("calibration/holdout split leaves out %d customers first seen in the holdout period",
                 holdout.loc[late, "customer"].nunique())
    holdout = holdout[~late].groupby("customer")["value"]
    out = calibration.copy()
    out["frequency_holdout"] = holdout.size().reindex(out.index).fillna(0).astype(np.int64)
    if with_money:
        out["monetary_value_holdout"] = holdout.mean().reindex(out.index).fillna(0.0)
    out["duration_holdout"] = float((obs_end - cal_end).days) / unit_days
    out.index.name = customer_col
    return out
