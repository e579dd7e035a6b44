"""The model report's sections: the tracking plot and conditional expectations of a buy-till-you-die
model, and the calibration, lift and gain of a probability model.

These functions draw what the models' evaluation functions computed (plotting imports models, never
the reverse); each also puts its numbers into the report's JSON twin under ``key``.
"""

from __future__ import annotations

import pandas as pd

from jingzhun.report.charts import bar_chart, line_chart
from jingzhun.report.page import Report

__all__ = ["btyd_sections", "calibration_section", "lift_section", "parameters_section"]


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
