"""The overview report: every campaign with its KPIs, the audiences' sizes, and how the models' scores
are holding up against what people did since (calibration, and its drift as time passes).

The report reads only; ``jingzhun report overview`` links responses and records the model checks first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from jingzhun.activation.assignment import CONTROL
from jingzhun.errors import JingzhunError
from jingzhun.measure.kpis import campaign_kpis
from jingzhun.measure.monitoring import ScoreCheck, monitoring_history
from jingzhun.measure.responses import campaign_terms
from jingzhun.report.charts import bar_chart, line_chart
from jingzhun.report.page import Report

__all__ = ["overview_report", "campaign_summary"]

log = logging.getLogger(__name__)


def campaign_summary(warehouse) -> pd.DataFrame:
    """One row per campaign: its totals over arms and its incremental figures summed over treated arms."""
    c = warehouse.execute(warehouse.table("campaigns").select("campaign_id", "name", "status", "created_at"))
    rows = []
    for cid in sorted(campaign_terms(warehouse)):
        meta = c[c.campaign_id == cid].iloc[0]
        try:
            t = campaign_kpis(warehouse, cid).table
        except JingzhunError as exc:  # a campaign that cannot be measured is reported, not fatal
            log.warning("campaign %s: %s", cid, exc)
            continue
        treated = t[t.arm != CONTROL]
        cost, inc_rev = float(t.cost.sum()), treated.incremental_revenue.sum(min_count=1)
        rows.append({
            "campaign_id": cid, "name": meta["name"], "status": meta["status"], "arms": len(t),
            "reach": int(t.reach.sum()), "delivered": int(t.delivered.sum()), "conversions": int(t.conversions.sum()),
            "conversion_rate": float(t.conversions.sum() / t.reach.sum()) if t.reach.sum() else None,
            "revenue": float(t.revenue.sum()), "cost": cost,
            "incremental_conversions": treated.incremental_conversions.sum(min_count=1),
            "incremental_revenue": inc_rev,
            "incremental_roi": (inc_rev - cost) / cost if cost > 0 and pd.notna(inc_rev) else None,
        })
    return pd.DataFrame(rows, columns=["campaign_id", "name", "status", "arms", "reach", "delivered", "conversions",
                                       "conversion_rate", "revenue", "cost", "incremental_conversions",
                                       "incremental_revenue", "incremental_roi"])


def overview_report(warehouse, *, checks: Mapping[str, ScoreCheck] | None = None, at: Any = None) -> Report:
    """Campaigns, audiences and model monitoring; ``checks`` are the current score checks
    (:func:`jingzhun.measure.monitoring.monitor_scores`) and the registry holds their history."""
    report = Report("Overview", subtitle="" if at is None else f"as of {pd.Timestamp(at):%Y-%m-%d %H:%M} UTC")
    _campaigns(report, warehouse)
    _audiences(report, warehouse)
    _monitoring(report, warehouse, checks or {})
    return report


def _campaigns(report: Report, warehouse) -> None:
    s = report.section("Campaigns")
    summary = campaign_summary(warehouse)
    report.data["campaigns"] = summary
    if summary.empty:
        s.paragraph("No campaigns yet.", note=True)
        return
    s.table(summary)
    s.paragraph("Incremental figures compare each treated arm with the campaign's own control group. An order "
                "that falls in the windows of several campaigns counts in each of them, so revenue summed over "
                "campaigns counts such orders more than once; incremental revenue does not suffer from it.",
                note=True)
    labels = [str(n) for n in summary.campaign_id]
    s.chart(bar_chart(labels, {"revenue": summary.revenue.tolist(),
                               "incremental revenue": summary.incremental_revenue.tolist(),
                               "cost": summary.cost.tolist()},
                      title="Revenue, incremental revenue and cost by campaign", y_label="amount"))
    s.chart(bar_chart(labels, {"reach": summary.reach.tolist(), "delivered": summary.delivered.tolist(),
                               "conversions": summary.conversions.tolist()},
                      title="Audience, messages and conversions by campaign", y_label="people or messages"))


def _audiences(report: Report, warehouse) -> None:
    snaps = warehouse.table("segment_snapshots")
    segments = warehouse.table("segments").select("segment_id", "name", "kind")
    latest = snaps.group_by("segment_id").aggregate(snapshot_at=snaps.snapshot_at.max())
    rows = warehouse.execute(snaps.join(latest, ["segment_id", "snapshot_at"]).join(segments, "segment_id")
                             .select("name", "kind", "size", "entered", "exited", "as_of"))
    s = report.section("Audiences")
    report.data["audiences"] = rows
    if rows.empty:
        s.paragraph("No segment snapshots yet (jingzhun segment snapshot NAME).", note=True)
        return
    rows = rows.sort_values("size", ascending=False, ignore_index=True)
    s.table(rows)
    top = rows.head(12)
    s.chart(bar_chart([str(n) for n in top.name], {"members": top["size"].astype(float).tolist()},
                      title="Audience sizes at their latest snapshot", y_label="people"))


def _monitoring(report: Report, warehouse, checks: Mapping[str, ScoreCheck]) -> None:
    s = report.section("Models: predicted against actual")
    data: dict[str, Any] = {}
    if not checks:
        s.paragraph("No scores to check yet (jingzhun models fit, then let time pass).", note=True)
    for name, check in sorted(checks.items()):
        summary = check.summary()
        state = "complete" if check.complete else f"{check.elapsed_days:.0f} of {check.horizon_days:.0f} days"
        s.paragraph(f"{name} (model {check.model_id}, as of {check.as_of:%Y-%m-%d}; {state}): calibration error "
                    f"{check.calibration_error:.3g}, mean predicted {summary['predicted_mean']:.3g} against "
                    f"{summary['actual_mean']:.3g} actual.")
        g = check.groups
        s.chart(line_chart({"groups": (g.predicted_mean.tolist(), g.actual_mean.tolist())}, diagonal=True,
                           title=f"{name}: actual against predicted, by tenth of people",
                           x_label="mean predicted", y_label="mean actual"))
        data[name] = {"summary": summary, "groups": g}
    history = monitoring_history(warehouse)
    report.data["monitoring"] = {"checks": data, "history": history}
    if len(history) >= 2:
        t = report.section("Calibration drift")
        # relative to the mean actual, so that money (CLV) and probabilities share one scale
        series = {}
        for (score, as_of), g in history.groupby(["score", "as_of"]):
            relative = g.calibration_error / g.actual_mean.where(g.actual_mean > 0)
            series[f"{score} ({str(as_of)[:10]})"] = (g.elapsed_days.tolist(), relative.tolist())
        t.chart(line_chart(dict(list(series.items())[:8]), title="Calibration error as time passes",
                           x_label="days since the model's as_of", y_label="error / mean actual"))
        t.paragraph("Calibration error divided by the mean actual of the people checked; the table has the "
                    "absolute figures.", note=True)
        shown = history.assign(as_of=history.as_of.str[:10], at=history["at"].str[:10])
        t.table(shown[["name", "score", "as_of", "at", "elapsed_days", "complete", "people", "calibration_error",
                       "predicted_mean", "actual_mean"]])
