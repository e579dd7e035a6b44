"""The model report's sections: the tracking plot and conditional expectations of a buy-till-you-die
model, and the calibration, lift and gain of a probability model.

These functions draw what the models' evaluation functions computed (plotting imports models, never
the reverse); each also puts its numbers into the report's JSON twin under ``key``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd

from jingzhun.report.charts import bar_chart, line_chart
from jingzhun.report.page import Report

log = logging.getLogger(__name__)

__all__ = ["btyd_sections", "calibration_section", "lift_section", "parameters_section", "model_report",
           "purchase_log"]


def parameters_section(report: Report, heading: str, params: dict, *, key: str, extra: dict | None = None) -> None:
    """A table of a model's fitted parameters (and standard errors, log-likelihood, ... in ``extra``)."""
    rows = [{"parameter": k, "value": v} for k, v in params.items()]
    rows += [{"parameter": k, "value": v} for k, v in (extra or {}).items() if v is not None]
    report.section(heading).table(pd.DataFrame(rows))
    report.data[key] = {"params": params, **(extra or {})}


def btyd_sections(report: Report, *, table: pd.DataFrame, tracking: pd.DataFrame, key: str = "btyd",
                  unit: str = "week") -> None:
    """The conditional-expectation table and chart (Fader, Hardie & Lee 2005, Figure 4) and the tracking
    plot of cumulative repeat purchases (Figure 2), from ``conditional_expectation_table`` and
    ``tracking_data``."""
    groups = table.drop(index="total", errors="ignore")
    s = report.section("Conditional expectations: holdout purchases by calibration purchases")
    s.paragraph("Mean repeat purchases per customer in the holdout period, as observed and as the model expected "
                "given each customer's calibration history.")
    shown = groups.reset_index().rename(columns={"index": "frequency_cal"})
    s.table(shown)
    s.chart(bar_chart(list(groups.index.astype(str)),
                      {"actual": groups["actual"].tolist(), "predicted": groups["predicted"].tolist()},
                      title="Holdout purchases per customer", x_label="repeat purchases in calibration",
                      y_label="mean holdout purchases"))
    total = table.loc["total"] if "total" in table.index else None
    if total is not None and total["actual"]:
        s.paragraph(f"In total {total['predicted']:,.0f} holdout purchases expected against {total['actual']:,.0f} "
                    f"observed ({(total['predicted'] / total['actual'] - 1):+.1%}).", note=True)

    t = report.section("Tracking: cumulative repeat purchases")
    periods = tracking.index.to_list()
    t.chart(line_chart({"actual": (periods, tracking["actual_cumulative"].tolist()),
                        "expected": (periods, tracking["expected_cumulative"].tolist())},
                       title="Cumulative repeat purchases", x_label=unit, y_label="repeat purchases"))
    t.chart(line_chart({"actual": (periods, tracking["actual"].tolist()),
                        "expected": (periods, tracking["expected"].tolist())},
                       title=f"Repeat purchases per {unit}", x_label=unit, y_label="repeat purchases"))
    cal = int(tracking["in_calibration"].sum())
    last = tracking.iloc[-1]
    t.paragraph(f"The first {cal} {unit}s are the calibration period. At the end: {last.actual_cumulative:,.0f} "
                f"observed, {last.expected_cumulative:,.0f} expected.", note=True)
    report.data[key] = {
        "conditional_expectations": shown,
        "holdout_total": None if total is None else {"customers": int(total["n_customers"]),
                                                     "actual": float(total["actual"]),
                                                     "predicted": float(total["predicted"])},
        "tracking": tracking.reset_index().assign(period_end=tracking["period_end"].astype(str).to_list()),
    }


def calibration_section(report: Report, calibration: pd.DataFrame, *, key: str, heading: str = "Calibration",
                        predicted: str = "predicted", observed: str = "observed") -> None:
    """Predicted probability against the observed rate per bin, with the diagonal of perfect calibration."""
    s = report.section(heading)
    s.table(calibration)
    s.chart(line_chart({"model": (calibration[predicted].tolist(), calibration[observed].tolist())},
                       title="Predicted against observed", x_label="mean predicted probability",
                       y_label="observed rate", diagonal=True))
    report.data[key] = calibration


def lift_section(report: Report, lift: pd.DataFrame, *, key: str, heading: str = "Lift and gain",
                 bucket: str = "decile", lift_col: str = "lift", gain_col: str = "cumulative_gain",
                 baselines: dict[str, pd.DataFrame] | None = None) -> None:
    """Lift per bucket and the cumulative gain curve, with other models' tables (e.g. an RFM baseline)
    drawn beside it."""
    s = report.section(heading)
    s.table(lift)
    tables = {"model": lift, **(baselines or {})}
    s.chart(bar_chart([str(b) for b in lift[bucket]], {name: t[lift_col].tolist() for name, t in tables.items()},
                      title="Lift by bucket", x_label=bucket, y_label="lift"))
    curves = {}
    for name, t in tables.items():
        share = [0.0] + [(i + 1) / len(t) for i in range(len(t))]
        curves[name] = (share, [0.0] + t[gain_col].tolist())
    curves["random"] = ([0.0, 1.0], [0.0, 1.0])
    s.chart(line_chart(curves, title="Cumulative gain", x_label="share of people targeted",
                       y_label="share of buyers reached"))
    report.data[key] = {"model": lift, **{k: v for k, v in (baselines or {}).items()}}


def purchase_log(warehouse, end: Any) -> pd.DataFrame:
    """profile_id, ordered_at, amount of every purchase order before ``end`` that belongs to a profile."""
    from jingzhun.profile.keys import keyed_orders
    from jingzhun.profile.rfm import is_purchase
    from jingzhun.segment.context import as_utc

    orders = warehouse.table("orders")
    buys = keyed_orders(warehouse, orders.filter(is_purchase(orders) & (orders.ordered_at < as_utc(end))))
    frame = warehouse.execute(buys.filter(buys.profile_id.notnull()).select("profile_id", "ordered_at", "amount"))
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True)
    return frame


def model_report(warehouse, *, cutoff: Any, end: Any, horizon_days: int = 90, seed: int = 0,
                 timezone: str = "UTC") -> Report:
    """How well the models forecast what happened after ``cutoff`` (up to ``end``), as a report.

    * BG/NBD fitted on the purchases before ``cutoff`` and judged on (cutoff, end]: parameters, the
      conditional expectations and the tracking plot;
    * the propensity model ("buys within ``horizon_days``") fitted as of ``cutoff`` and tested on the
      window after it: AUC, Brier and calibration error against the RFM baselines, the calibration
      chart and the lift and gain charts.
    """
    from jingzhun.models import BetaGeoModel
    from jingzhun.models.btyd.data import calibration_holdout_split
    from jingzhun.models.btyd.evaluation import conditional_expectation_table, tracking_data
    from jingzhun.models.propensity import fit_propensity
    from jingzhun.segment.context import as_utc

    cutoff, end = as_utc(cutoff), as_utc(end)
    report = Report("Model report", subtitle=f"fitted on the data before {cutoff:%Y-%m-%d}, judged on what happened "
                                             f"up to {end:%Y-%m-%d}")
    report.data["cutoff"], report.data["end"] = cutoff.isoformat(), end.isoformat()

    purchases = purchase_log(warehouse, end)
    split = calibration_holdout_split(purchases, "profile_id", "ordered_at", calibration_end=cutoff - dt.timedelta(days=1),
                                      observation_end=end - dt.timedelta(days=1))
    bg = BetaGeoModel().fit(split["frequency_cal"], split["recency_cal"], split["T_cal"], compute_se=True)
    parameters_section(report, "BG/NBD: purchases and dropout", bg.params_, key="bgnbd",
                       extra={"log_likelihood": bg.log_likelihood_, "customers": len(split),
                              **{f"se_{k}": v for k, v in (bg.standard_errors_ or {}).items()}})
    btyd_sections(report, table=conditional_expectation_table(bg, split),
                  tracking=tracking_data(bg, purchases, "profile_id", "ordered_at",
                                         calibration_end=cutoff - dt.timedelta(days=1),
                                         observation_end=end - dt.timedelta(days=1)))

    _, prop = fit_propensity(warehouse, cutoff, horizon_days, seed=seed, timezone=timezone, evaluate=True)
    test = prop.get("test")
    if test:
        s = report.section(f"Propensity: buys within {horizon_days} days")
        rows = [{"model": name, "auc": test[key]["auc"], "brier": test[key].get("brier"), "ece": test[key].get("ece"),
                 "top 10% lift": test[key].get("top_group_lift")}
                for name, key in (("LightGBM, calibrated", "model"), ("RFM logistic", "rfm_logistic"),
                                  ("RFM score", "rfm_score"))]
        s.paragraph(f"{test['model']['n']:,} buyers known at the cut-off; {test['model']['base_rate']:.1%} of them "
                    f"bought in the {horizon_days} days after it.")
        s.table(pd.DataFrame(rows))
        calibration = pd.DataFrame(test["model"]["calibration"])
        calibration_section(report, calibration, key="propensity_calibration", heading="Propensity calibration",
                            predicted="mean_predicted", observed="observed_rate")
        lift = pd.DataFrame(test["model"]["lift"])
        lift_section(report, lift, key="propensity_lift", heading="Propensity lift and gain", bucket="group",
                     gain_col="gain")
        report.data["propensity"] = {k: v for k, v in prop.items() if k != "test"} | {"test": test}
    else:
        report.section("Propensity").paragraph(f"The data do not reach {horizon_days} days past the cut-off: "
                                               "there is nothing to test the propensity model on.")
    return report
