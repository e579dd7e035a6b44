"""`jingzhun report overview|campaign ID`: self-contained HTML reports (no network needed) with a JSON twin.

Both commands first bring the measurements up to date: orders are linked to the deliveries they follow
(conversions, coupon redemptions, store visits), and `overview` records each model's scores against
what people did since in the model registry, so that the calibration history grows each time it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from jingzhun.cli.output import JsonOpt, ProjectOpt, console, print_json, with_project

app = typer.Typer(help="Reports: campaigns and their results, audiences, models against reality (HTML + JSON).",
                  no_args_is_help=True)

OutOpt = typer.Option(None, "--out", "-o", help="Report path without extension (default: <project>/reports/...).")
AtOpt = typer.Option(None, "--at", help="Measure with the orders placed before this moment (ISO 8601; default: now).")


def _moment(at: Optional[str]) -> pd.Timestamp:
    from jingzhun.segment.context import as_utc

    return pd.Timestamp(as_utc(at)) if at else pd.Timestamp.now(tz="UTC").floor("s")


def _written(html: Path, js: Path, extra: dict, json_out: bool) -> None:
    summary = {"report": str(html), "data": str(js), **extra}
    if json_out:
        print_json(summary)
        return
    console.print(f"report: {html}")
    console.print(f"data:   {js}")


@app.command()
def overview(
    out: Optional[Path] = OutOpt,
    at: Optional[str] = AtOpt,
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Every campaign with its KPIs, the audiences' sizes, and the models' scores against what happened."""
    from jingzhun.measure.monitoring import monitor_scores, record_monitoring
    from jingzhun.measure.responses import link_responses
    from jingzhun.report.overview import overview_report

    def work(proj):
        when = _moment(at)
        linked = link_responses(proj.warehouse, at=when)
        checks = monitor_scores(proj.warehouse, at=when)
        record_monitoring(proj.warehouse, checks)
        report = overview_report(proj.warehouse, checks=checks, at=when)
        html, js = report.write(out or proj.root / "reports" / "overview")
        _written(html, js, {"at": when.isoformat(), "linked": linked, "scores_checked": sorted(checks)}, json_out)

    with_project(project, work)


@app.command()
def campaign(
    campaign_id: str = typer.Argument(..., help="The campaign's id (see the `campaigns` table)."),
    segment: Optional[list[str]] = typer.Option(None, "--segment", help="Also break the KPIs down by this saved "
                                                "segment or tag (repeatable)."),
    out: Optional[Path] = OutOpt,
    at: Optional[str] = AtOpt,
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """One campaign: KPIs per arm, channel, offer and segment, lifts with intervals, conversions over time."""
    from jingzhun.measure.responses import link_responses
    from jingzhun.report.campaign import campaign_report

    def work(proj):
        when = _moment(at)
        linked = link_responses(proj.warehouse, campaign_id, at=when)
        report = campaign_report(proj.warehouse, campaign_id, segments=segment or (), measured_at=when)
        html, js = report.write(out or proj.root / "reports" / f"campaign-{campaign_id}")
        arms = report.data["arms"]
        _written(html, js, {"campaign_id": campaign_id, "at": when.isoformat(), "linked": linked,
                            "decisions": [c["decision"] for c in report.data["comparisons"]],
                            "reach": int(arms.reach.sum()), "conversions": int(arms.conversions.sum())}, json_out)
        if not json_out:
            for c in report.data["comparisons"]:
                console.print(f"  {c['decision']}")

    with_project(project, work)
