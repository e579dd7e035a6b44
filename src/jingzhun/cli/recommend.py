"""`jingzhun recommend fit|evaluate|for|export`: recommendations with reasons (docs/recommendations.md)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: BLAS threads fight implicit's

import typer  # noqa: E402
from rich.table import Table  # noqa: E402

from jingzhun import __version__  # noqa: E402
from jingzhun.cli.output import (  # noqa: E402
    JsonOpt, ProjectOpt, fail as _fail, open_project as _open, console, err_console, print_json, progress,
)
from jingzhun.errors import JingzhunError  # noqa: E402

app = typer.Typer(help="Recommend products to people, with reasons a marketer can show.", no_args_is_help=True)

MODEL_NAME = "recommend"



def _ts(text: Optional[str]):
    import pandas as pd

    from jingzhun.errors import InputError

    if text is None:
        return None
    try:
        t = pd.Timestamp(text)
    except ValueError as exc:
        raise InputError(f"{text!r} is not a date or time (use ISO 8601, e.g. 2011-09-30T23:00:00Z)") from exc
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _context(wh) -> dict:
    """What a fit needs from the engine: the Spark session when the warehouse runs on Spark."""
    return {"session": wh.con._session} if wh.engine == "pyspark" else {}


def _params(model: str, by: Optional[str]) -> dict:
    if by is None:
        return {}
    return {"params": {"popularity": {"by": by}}} if model == "hybrid" else {"by": by} if model == "popularity" else {}


def _register(wh, model, path: Path, as_of, interactions, metrics: dict) -> str:
    """One row in the `models` registry; returns the model id."""
    import pandas as pd

    fingerprint = hashlib.sha256(f"{as_of}|{interactions.n_users}|{interactions.n_items}|"
                                 f"{interactions.matrix.nnz}|{interactions.matrix.sum()}".encode()).hexdigest()[:16]
    trained_at = pd.Timestamp.now(tz="UTC")
    model_id = f"rec-{model.name}-{trained_at.strftime('%Y%m%dT%H%M%S')}-{fingerprint[:6]}"
    params = {**model.get_params(), **({"weights": model.weights_} if hasattr(model, "weights_") else {})}
    row = pd.DataFrame([{"model_id": model_id, "name": MODEL_NAME, "kind": type(model).__name__,
                         "params": json.dumps(params, default=str), "data_fingerprint": fingerprint,
                         "code_version": __version__, "metrics": json.dumps(metrics, default=str),
                         "as_of": as_of, "path": str(path), "trained_at": trained_at}])
    with wh.transaction():
        wh.append("models", row)
    return model_id


@app.command()
def fit(
    model: str = typer.Option("hybrid", help="hybrid, als, item_knn, bm25, popularity or content."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Learn from purchases before this moment "
                                        "(ISO 8601; default: the latest order)."),
    validation_days: int = typer.Option(30, min=1, help="Hybrid: the last days before --as-of on which its "
                                        "weights are learned."),
    by: Optional[str] = typer.Option(None, help="Popularity within a group: city, region, nearest_store_id, "
                                     "top_store_id, segment, ... (needs `jingzhun build`)."),
    n: int = typer.Option(10, min=1, max=100, help="Recommendations per profile."),
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Fit a recommender, score every profile with the business rules, and write `recommendations`."""
    import pandas as pd

    from jingzhun.recommend import attach_groups, load_interactions, make_recommender, recommend_all, time_split
    from jingzhun.recommend import write_recommendations

    try:
        with _open(project) as proj:
            wh = proj.warehouse
            end = _ts(as_of)
            say = (lambda s: None) if json_out else (lambda s: err_console.print(f"[dim]recommend: {s}[/]"))
            say("reading purchases")
            interactions = load_interactions(wh, end=end, all_profiles=True)
            end = interactions.as_of
            recommender = make_recommender(model, engine=wh.engine, **_params(model, by))
            context = _context(wh)
            validation = None
            if model == "hybrid":
                validation = time_split(wh, end - pd.Timedelta(days=validation_days), end)
            if by is not None:
                attach_groups(wh, interactions, by)
                if validation is not None:
                    attach_groups(wh, validation.train, by)
            say(f"fitting {model} on {interactions.matrix.nnz:,} purchases of {interactions.n_users:,} profiles")
            recommender.fit(interactions, **({"validation": validation} if validation is not None else {}), **context)
            folder = proj.root / "data" / "models"
            folder.mkdir(parents=True, exist_ok=True)
            path = recommender.save(folder / f"recommend-{model}.npz")
            metrics = {"validation": getattr(recommender, "validation_", {}),
                       "weights": getattr(recommender, "weights_", None)}
            model_id = _register(wh, recommender, path, end, interactions, metrics)
            say("scoring every profile")
            with progress(not json_out) as on_progress:
                recs = recommend_all(recommender, interactions, n=n,
                                     on_progress=lambda done, total: on_progress("scoring", done, total))
            written = write_recommendations(wh, recs, model_id)
            summary = {"model_id": model_id, "model": model, "as_of": str(end), "path": str(path),
                       "profiles": int(recs["profile_id"].nunique()) if len(recs) else 0, "rows": written,
                       **metrics, "sources": recs["source"].value_counts().to_dict() if len(recs) else {}}
            if json_out:
                print_json(summary)
            else:
                console.print(f"[bold]{model_id}[/]: {written:,} recommendations for {summary['profiles']:,} profiles "
                              f"as of {end}")
                if summary["weights"]:
                    console.print("  weights " + ", ".join(f"{k} {v:.2f}" for k, v in summary["weights"].items()))
                console.print(f"  model file {path}")
                console.print("  next: jingzhun recommend for PROFILE_ID, or jingzhun recommend export --out recs.csv")
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def evaluate(
    cutoff: str = typer.Option(..., help="Train on purchases before this moment, test on those after (ISO 8601)."),
    end: Optional[str] = typer.Option(None, help="End of the test window (default: all data)."),
    k: int = typer.Option(10, min=1, help="Length of each list (metrics at k)."),
    validation_days: int = typer.Option(30, min=1, help="Hybrid: days before the cut-off its weights learn on."),
    models: str = typer.Option("popularity,item_knn,bm25,als,content,hybrid", help="Comma-separated models."),
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Every model against popularity on a time split: precision, recall, NDCG, MAP, hit rate, coverage, novelty."""
    import pandas as pd

    from jingzhun.recommend import evaluate as run_evaluation
    from jingzhun.recommend import make_recommender, time_split

    try:
        with _open(project) as proj:
            wh = proj.warehouse
            cut = _ts(cutoff)
            split = time_split(wh, cut, _ts(end))
            context = _context(wh)
            fitted = {}
            for name in [m.strip() for m in models.split(",") if m.strip()]:
                rec = make_recommender(name, engine=wh.engine)
                if name == "hybrid":
                    validation = time_split(wh, cut - pd.Timedelta(days=validation_days), cut)
                    fitted[name] = rec.fit(split.train, validation=validation, **context)
                else:
                    fitted[name] = rec.fit(split.train, **context)
            result = run_evaluation(fitted, split, k=k)
            if json_out:
                print_json({"cutoff": str(cut), "k": k, "people": int(len(result.users)),
                            "models": result.table.to_dict(orient="records")})
            else:
                table = Table(title=f"{len(result.users):,} people, train before {cut}, metrics at {k}")
                for col in result.table.columns:
                    table.add_column(col, justify="left" if col == "model" else "right")
                for row in result.table.itertuples(index=False):
                    table.add_row(*[v if isinstance(v, str) else f"{v:.4f}" for v in row])
                console.print(table)
    except JingzhunError as exc:
        _fail(exc)


@app.command("for")
def for_profile(
    ident: str = typer.Argument(..., help="A profile id (p...), or an identifier with --kind."),
    kind: Optional[str] = typer.Option(None, help="Identifier kind of IDENT: user_id, email, phone, crm_id, ..."),
    n: int = typer.Option(10, min=1, max=100, help="How many."),
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """One profile's recommendations, scored now with the latest fitted model and the business rules."""
    from jingzhun.pipeline.views import find_profile
    from jingzhun.recommend import load_interactions, load_recommender, recommend_all

    try:
        with _open(project) as proj:
            wh = proj.warehouse
            profile_id = find_profile(wh, ident, kind=kind, secret=proj.secret, settings=proj.settings)
            registry = wh.table("models")
            latest = wh.execute(registry.filter(registry.name == MODEL_NAME).order_by(
                registry.trained_at.desc()).limit(1))
            if latest.empty:
                raise JingzhunError("no recommender has been fitted in this project: run `jingzhun recommend fit`")
            model = load_recommender(latest["path"].iloc[0])
            interactions = load_interactions(wh, users=[profile_id], items=model.item_ids_)
            recs = recommend_all(model, interactions, n=n)
            names = interactions.catalogue["name"]
            recs["name"] = names.reindex(recs["product_id"]).to_numpy()
            if json_out:
                print_json({"profile_id": profile_id, "model_id": latest["model_id"].iloc[0],
                            "recommendations": recs.drop(columns="profile_id").to_dict(orient="records")})
            else:
                table = Table(title=f"{profile_id} ({latest['model_id'].iloc[0]})")
                for col in ("rank", "product", "name", "reason", "source", "score"):
                    table.add_column(col)
                for r in recs.itertuples(index=False):
                    table.add_row(str(r.rank), r.product_id, str(r.name or ""), r.reason or "", r.source or "",
                                  f"{r.score:.3f}")
                console.print(table)
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def export(
    out: Path = typer.Option(..., help="File to write: .csv or .parquet."),
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Write the `recommendations` table to a CSV or Parquet file for a campaign tool."""
    from jingzhun.errors import InputError

    try:
        if out.suffix not in (".csv", ".parquet"):
            raise InputError("the export file must end in .csv or .parquet", file=str(out))
        with _open(project) as proj:
            wh = proj.warehouse
            recs = wh.execute(wh.table("recommendations").order_by(["profile_id", "rank"]))
            if recs.empty:
                raise JingzhunError("there are no recommendations yet: run `jingzhun recommend fit` first")
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.suffix == ".csv":
                recs.to_csv(out, index=False)
            else:
                recs.to_parquet(out, index=False)
            summary = {"file": str(out), "rows": int(len(recs)), "profiles": int(recs["profile_id"].nunique())}
            if json_out:
                print_json(summary)
            else:
                console.print(f"wrote {summary['rows']:,} recommendations of {summary['profiles']:,} profiles to {out}")
    except JingzhunError as exc:
        _fail(exc)
