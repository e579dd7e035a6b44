"""`jingzhun models fit|evaluate|show`: the predictive models, their scores and how good they are.

`fit` fits every model on the data before the moment and writes the scores (the same work as `build
--step scores`); `evaluate` refits them as of an earlier cut-off and judges them on what happened after
it, in an HTML report with its JSON twin; `show` lists the model registry or one model in full.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from jingzhun.cli.output import (
    JsonOpt as _JsonOpt, ProjectOpt as _ProjectOpt, with_project as _with_project, console, err_console,
    print_json,
)
from jingzhun.errors import JingzhunError

app = typer.Typer(help="Predictive models: lifetime value, alive or gone, churn risk, propensity.",
                  no_args_is_help=True)




def _as_of(proj, as_of: Optional[str]):
    from jingzhun.pipeline.build import build_as_of

    when = build_as_of(proj.warehouse, proj.settings, as_of)
    if when is None:
        raise JingzhunError("no orders loaded: nothing to fit the models on (run `jingzhun ingest` first)")
    return when


@app.command()
def fit(
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Fit on the data before this moment (ISO 8601); "
                                        "default: profile.as_of, else the data's end."),
    horizon_days: int = typer.Option(90, min=1, help="Days ahead for p_buy, expected purchases and churn risk."),
    clv_months: int = typer.Option(12, min=1, help="Months of customer lifetime value."),
    discount_rate: float = typer.Option(0.01, min=0.0, help="Monthly discount rate of the CLV."),
    margin: float = typer.Option(1.0, min=0.0, max=1.0, help="Share of revenue that is profit (1: CLV in revenue)."),
    project: Optional[Path] = _ProjectOpt,
    json_out: bool = _JsonOpt,
) -> None:
    """Fit BG/NBD + Gamma-Gamma, propensity and churn, register them, and write their scores."""
    from jingzhun.models.scoring import ScoreSettings, score_all
    from jingzhun.pipeline.build import profile_timezone

    def work(proj):
        when = _as_of(proj, as_of)
        settings = ScoreSettings(horizon_days=horizon_days, clv_months=clv_months, discount_rate=discount_rate,
                                 margin=margin, timezone=profile_timezone(proj.settings))
        if not json_out:
            err_console.print(f"[dim]models: fitting as of {when.isoformat()}[/]")
        out = score_all(proj.warehouse, when, directory=proj.root / "data" / "models", settings=settings)
        if json_out:
            print_json(out)
            return
        table = Table(title=f"models fitted as of {when:%Y-%m-%d %H:%M} UTC")
        for col in ("model", "registry ids", "scores written"):
            table.add_column(col)
        for name in ("btyd", "propensity", "churn", "send_time", "channels"):
            part = out.get(name) or {}
            written = part.get("scores", {})
            text = ", ".join(f"{k} {v:,}" for k, v in written.items()) if isinstance(written, dict) else str(written)
            table.add_row(name, "\n".join(part.get("models", [])), text)
        console.print(table)
        console.print(f"in {out.get('seconds', 0):.0f}s; use them in audiences, e.g. "
                      "jingzhun segment count \"p_alive < 0.3 and score('clv_12m') > 500\"")

    _with_project(project, work)


@app.command()
def evaluate(
    cutoff: str = typer.Option(..., help="Fit on the data before this moment and judge on what came after (ISO 8601)."),
    end: Optional[str] = typer.Option(None, help="End of the judged period (default: the data's end)."),
    horizon_days: int = typer.Option(90, min=1, help="Propensity: buys within this many days of the cut-off."),
    out: Optional[Path] = typer.Option(None, "--out", help="Report path without extension "
                                       "(default: <project>/reports/models-<cutoff>)."),
    project: Optional[Path] = _ProjectOpt,
    json_out: bool = _JsonOpt,
) -> None:
    """Judge the models on a time split: BG/NBD tracking and conditional expectations, propensity AUC,
    calibration and lift against RFM; writes an HTML report (no network needed) and its JSON twin."""
    from jingzhun.pipeline.build import build_as_of, profile_timezone
    from jingzhun.report.models import model_report
    from jingzhun.segment.context import as_utc

    def work(proj):
        start = as_utc(cutoff)
        finish = as_utc(end) if end else build_as_of(proj.warehouse, proj.settings)
        if finish is None or finish <= start:
            raise JingzhunError(f"the judged period must end after the cut-off {start:%Y-%m-%d}; the data end at "
                                f"{finish:%Y-%m-%d}" if finish else "no orders loaded: nothing to evaluate")
        report = model_report(proj.warehouse, cutoff=start, end=finish, horizon_days=horizon_days,
                              timezone=profile_timezone(proj.settings))
        stem = out or proj.root / "reports" / f"models-{start:%Y%m%d}"
        html, js = report.write(stem)
        summary = {"report": str(html), "data": str(js), "cutoff": start.isoformat(), "end": finish.isoformat()}
        data = json.loads(js.read_text(encoding="utf-8"))
        test = (data.get("propensity") or {}).get("test") or {}
        if test:
            summary["propensity_auc"] = test["model"]["auc"]
            summary["rfm_logistic_auc"] = test["rfm_logistic"]["auc"]
            summary["propensity_ece"] = test["model"]["ece"]
        summary["holdout_purchases"] = data["btyd"]["holdout_total"]
        if json_out:
            print_json(summary)
            return
        console.print(f"report: {html}")
        if test:
            console.print(f"propensity AUC {summary['propensity_auc']:.3f} (RFM logistic "
                          f"{summary['rfm_logistic_auc']:.3f}), calibration error {summary['propensity_ece']:.3f}")
        h = summary["holdout_purchases"]
        if h:
            console.print(f"BG/NBD holdout purchases: {h['predicted']:,.0f} expected, {h['actual']:,.0f} observed")

    _with_project(project, work)


@app.command()
def show(
    name: Optional[str] = typer.Argument(None, help="A registry name (bgnbd, propensity, churn, ...) or model id; "
                                         "none lists the registry."),
    project: Optional[Path] = _ProjectOpt,
    json_out: bool = _JsonOpt,
) -> None:
    """The model registry, or one model in full: parameters, data fingerprint, code version, metrics."""
    from jingzhun.models.store import list_models

    def work(proj):
        models = list_models(proj.warehouse)
        if name is None:
            if json_out:
                print_json(models.drop(columns=["params", "metrics"], errors="ignore").to_dict("records"))
                return
            if models.empty:
                console.print("no models yet: run `jingzhun models fit` or `jingzhun build`")
                return
            table = Table(title="model registry (newest first)")
            for col in ("model_id", "name", "kind", "as_of", "trained_at"):
                table.add_column(col)
            for r in models.itertuples():
                table.add_row(r.model_id, r.name, r.kind, str(r.as_of)[:19], str(r.trained_at)[:19])
            console.print(table)
            return
        chosen = models[(models.model_id == name) | (models.name == name)]
        if chosen.empty:
            known = sorted(set(models.name))
            raise JingzhunError(f"no model {name!r} in the registry; names: {', '.join(known) or 'none yet'}")
        t = proj.warehouse.table("models")
        full = proj.warehouse.execute(t.filter(t.model_id == chosen.iloc[0].model_id))
        record = {k: (v if not hasattr(v, "isoformat") else v.isoformat()) for k, v in full.iloc[0].items()}
        for key in ("params", "metrics"):
            if isinstance(record.get(key), str):
                record[key] = json.loads(record[key])
        if json_out:
            print_json(record)
            return
        table = Table(title=f"{record['model_id']} ({record['kind']})", show_header=False)
        table.add_column("field")
        table.add_column("value")
        for key, value in record.items():
            text = json.dumps(value, indent=1, default=str)[:1500] if isinstance(value, (dict, list)) else str(value)
            table.add_row(key, text)
        console.print(table)

    _with_project(project, work)
