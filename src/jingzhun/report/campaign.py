"""The campaign report: what a campaign reached, what it cost and brought, and what it changed against control.

Sections: the KPI table per arm with the decisions as sentences (and the sample-ratio check), the funnel,
the cumulative conversion rate by days since the message per arm, the incremental conversions and
revenue with their intervals, the same table per channel, offer and any segments asked for, and, when
the caller knows it (the demo's simulator does), the true effect beside the measured one.

Everything drawn is also in the JSON twin. The report reads only: link the responses first
(:func:`jingzhun.measure.responses.link_responses`; ``jingzhun report campaign`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from jingzhun.activation.assignment import CONTROL
from jingzhun.errors import InputError
from jingzhun.measure.kpis import CampaignKpis, campaign_kpis, conversion_curve
from jingzhun.report.charts import bar_chart, line_chart
from jingzhun.report.page import Report

__all__ = ["campaign_report", "KPI_COLUMNS"]

KPI_COLUMNS = ("reach", "delivered", "opens", "clicks", "conversions", "conversion_rate", "redemptions", "visits",
               "revenue", "cost", "roi")


def campaign_report(warehouse, campaign_id: str, *, segments: Sequence[str] = (), truth: pd.DataFrame | None = None,
                    truth_note: str | None = None, measured_at: Any = None) -> Report:
    """The report of one campaign. ``segments``: saved segments or tags to break the KPIs down by;
    ``truth``: a frame with an ``arm`` column and the true effects (e.g. the simulator's true incremental
    conversions), shown beside the measured ones."""
    by_arm = campaign_kpis(warehouse, campaign_id)
    subtitle = f"campaign {campaign_id}" + (f", measured at {pd.Timestamp(measured_at):%Y-%m-%d %H:%M} UTC"
                                            if measured_at is not None else "")
    report = Report(f"Campaign report: {by_arm.name}", subtitle=subtitle)
    report.data["campaign"] = {"id": campaign_id, "name": by_arm.name,
                               "measured_at": None if measured_at is None else pd.Timestamp(measured_at)}
    if by_arm.table.empty:
        report.section("Results").paragraph("No messages are recorded for this campaign yet: deliver it first "
                                            "(`jingzhun campaign run`), then measure.")
        return report
    _results(report, by_arm)
    _funnel(report, by_arm)
    _curve(report, warehouse, campaign_id)
    _lifts(report, by_arm)
    breakdowns = {}
    for by in [("channel",), ("offer",), *[("segment", s) for s in segments]]:
        k = campaign_kpis(warehouse, campaign_id, by)
        _breakdown(report, k)
        breakdowns[k.by] = {"table": k.table, "comparisons": k.comparisons}
    report.data["breakdowns"] = breakdowns
    if truth is not None:
        _truth(report, by_arm, truth, truth_note)
    return report


def _results(report: Report, k: CampaignKpis) -> None:
    s = report.section("Results by arm")
    t = k.table
    treated = t[t.arm != CONTROL]
    s.paragraph(f"{int(t.reach.sum()):,} people planned, {int(t.delivered.sum()):,} messages sent, "
                f"{int(t.conversions.sum()):,} people converted for {t.revenue.sum():,.2f} of revenue at a cost of "
                f"{t.cost.sum():,.2f}. Conversion rate and revenue count everyone planned, reached or not, "
                "as the control group does.")
    s.table(t[["arm", *KPI_COLUMNS]])
    for decision in k.decisions():
        s.paragraph(decision)
    if not len(treated) or not (t.arm == CONTROL).any():
        s.paragraph("No control group: nothing can be said about what the campaign changed.", note=True)
    srm = k.sample_ratio
    if srm:
        verdict = ("MISMATCH: the arms' sizes are not what the split planned; find the cause before trusting "
                   "the comparisons" if srm["mismatch"] else "the arms' sizes match the planned split")
        s.paragraph(f"Sample-ratio check: {verdict} (chi-square p = {srm['p_value']:.3g}).", note=True)
    report.data["arms"] = t
    report.data["comparisons"] = k.comparisons
    report.data["sample_ratio"] = srm


def _funnel(report: Report, k: CampaignKpis) -> None:
    steps = ["reach", "delivered", "opens", "clicks", "conversions"]
    t = k.table.set_index("arm")
    s = report.section("Funnel")
    s.chart(bar_chart(steps, {arm: [float(t.loc[arm, c]) for c in steps] for arm in t.index},
                      title="From planned to converted, by arm", y_label="people or messages"))


def _curve(report: Report, warehouse, campaign_id: str) -> None:
    curve = conversion_curve(warehouse, campaign_id)
    s = report.section("Conversions over time")
    s.chart(line_chart({arm: (g.day.tolist(), (g.rate * 100).tolist()) for arm, g in curve.groupby("arm")},
                       title="Cumulative conversion rate by days since the message", x_label="days since the message",
                       y_label="% of people planned"))
    s.paragraph("Each person counts from their own message (control: from when it would have gone).", note=True)
    report.data["conversion_curve"] = curve


def _lifts(report: Report, k: CampaignKpis) -> None:
    t = k.table[k.table.arm != CONTROL]
    if t.empty or t.incremental_conversions.isna().all():
        return
    s = report.section("What the campaign changed")
    s.paragraph("Incremental = (the arm's rate or revenue per person - control's) x the arm's people, with 95% "
                "intervals. ROI over all revenue credits people who would have bought anyway; incremental ROI "
                "does not.")
    s.table(pd.DataFrame({
        "arm": t.arm, "incremental conversions": t.incremental_conversions,
        "95% interval": _intervals(t.incremental_conversions_low, t.incremental_conversions_high),
        "p": t.conversion_p, "incremental revenue": t.incremental_revenue,
        "95% interval ": _intervals(t.incremental_revenue_low, t.incremental_revenue_high), "p ": t.revenue_p,
        "cost": t.cost, "incremental ROI": t.incremental_roi}))
    s.chart(bar_chart(list(t.arm), {"incremental conversions": t.incremental_conversions.tolist(),
                                    "interval low": t.incremental_conversions_low.tolist(),
                                    "interval high": t.incremental_conversions_high.tolist()},
                      title="Incremental conversions against control", y_label="people"))


def _intervals(low: pd.Series, high: pd.Series) -> list[str]:
    return ["" if pd.isna(a) else f"{a:+,.4g} to {b:+,.4g}" for a, b in zip(low, high)]


def _breakdown(report: Report, k: CampaignKpis) -> None:
    s = report.section(f"By {k.by}")
    if k.table.empty:
        s.paragraph("No messages.", note=True)
        return
    s.table(k.table[[k.by, "arm", *KPI_COLUMNS, "incremental_conversions", "incremental_revenue", "control_scope"]])
    for decision in k.decisions():
        s.paragraph(decision)


def _truth(report: Report, k: CampaignKpis, truth: pd.DataFrame, note: str | None) -> None:
    if "arm" not in truth.columns:
        raise InputError(f"the truth frame needs an `arm` column; it has {list(truth.columns)}", field="truth")
    measured = k.table[["arm", "reach", "incremental_conversions", "incremental_conversions_low",
                        "incremental_conversions_high", "incremental_revenue"]]
    both = measured.merge(truth, on="arm", how="inner")
    s = report.section("Measured against the truth")
    if note:
        s.paragraph(note)
    s.table(both)
    true_cols = [c for c in truth.columns if c != "arm" and pd.api.types.is_numeric_dtype(truth[c])]
    if true_cols and not both.empty:
        series = {"measured": both.incremental_conversions.tolist()}
        series.update({c.replace("_", " "): both[c].tolist() for c in true_cols[:2]})
        s.chart(bar_chart(list(both.arm), series, title="Incremental conversions: measured and true",
                          y_label="people"))
    report.data["truth"] = both
