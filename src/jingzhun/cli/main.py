"""The `jingzhun` command. Thin: it parses, calls the layers, and shows the result.

Every command that reads a project takes `--project DIR` (default: the JINGZHUN_PROJECT variable,
else the current folder) and `--json` where it prints results.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Optional

import typer

from jingzhun import __version__
from jingzhun.cli.output import (
    JsonOpt, ProjectOpt, console, err_console, fail, open_project, print_json, progress, project_dir,
)
from jingzhun.errors import JingzhunError

app = typer.Typer(
    name="jingzhun",
    help="jingzhun (精准): precision marketing on your own data. Start with `jingzhun demo`, "
    "or `jingzhun init my-shop` then `jingzhun ingest source.yaml -p my-shop`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
profiles_app = typer.Typer(help="Look at the people in the warehouse.", no_args_is_help=True)
app.add_typer(profiles_app, name="profiles")
app.add_typer(__import__("jingzhun.cli.recommend", fromlist=["app"]).app, name="recommend")

_project_dir, _open, _fail = project_dir, open_project, fail


def _version(value: bool) -> None:
    if value:
        console.print(f"jingzhun {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what each step does."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and stop."),
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not verbose:
        # the pinned Ibis calls a DuckDB method DuckDB 1.5 deprecates: noise for a person at a terminal
        warnings.filterwarnings("ignore", message=r"fetch_arrow_table\(\) is deprecated", category=DeprecationWarning)


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Folder for the project (created if missing)."),
    warehouse: Optional[str] = typer.Option(
        None, help="Warehouse URL, e.g. duckdb:///data/warehouse.duckdb (default) or spark://local."),
) -> None:
    """Create a project: settings (jingzhun.yaml), a secret for pseudonymisation, and the warehouse."""
    from jingzhun.config import Settings
    from jingzhun.project import Project

    try:
        settings = Settings(name=directory.resolve().name, **({"warehouse": warehouse} if warehouse else {}))
        with Project.init(directory, settings) as project:
            version = project.warehouse.version()
            console.print(f"project [bold]{project.settings.name}[/] ready in {project.root}")
            console.print(f"  warehouse {project.settings.warehouse} (schema version {version})")
            console.print(f"  next: jingzhun ingest SOURCE.yaml -p {directory}")
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def ingest(
    source: Path = typer.Argument(..., help="A source mapping (YAML); see docs/sources.md."),
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Load a source's files into the warehouse: read, map, clean, pseudonymise, write (all or nothing)."""
    from jingzhun.pipeline import load_source
    from jingzhun.pipeline.runs import new_run_id, record_step

    try:
        with _open(project) as proj:
            wh = proj.warehouse
            with progress(not json_out) as on_progress, record_step(wh, new_run_id(), "ingest") as rec:
                report = load_source(wh, source, secret=proj.secret, settings=proj.settings,
                                     on_progress=on_progress)
                rec.rows_in = sum(f.rows_read for f in report.files)
                rec.rows_out = sum(f.rows_loaded for f in report.files)
                rec.detail = {"source": report.source, "load_id": report.load_id}
            if json_out:
                print_json(report.to_dict())
            else:
                console.print(report.render())
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def quality(
    load: Optional[str] = typer.Option(None, help="Show this load only (default: the latest load of each source)."),
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Show the quality reports of loads: per file and rule, how many rows were loaded, flagged, set aside."""
    from jingzhun.pipeline.ledger import load_reports

    try:
        with _open(project) as proj:
            reports = load_reports(proj.warehouse, load_id=load)
            if json_out:
                print_json([r.to_dict() for r in reports])
            elif not reports:
                console.print("no loads yet: run `jingzhun ingest SOURCE.yaml`")
            else:
                for r in reports:
                    console.print(r.render())
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def build(
    step: Optional[list[str]] = typer.Option(None, "--step", help="Run only these steps (repeatable)."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="The moment profiles describe (ISO 8601); default: profile.as_of, else the data's end."),
    full: bool = typer.Option(False, "--full", help="Rebuild every profile's features instead of refreshing."),
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Run the pipeline over everything loaded (checks, identity, features, ...), recording each step in `runs`."""
    from jingzhun.pipeline.build import build as run_build

    try:
        with _open(project) as proj:
            result = run_build(proj.warehouse, proj.settings, steps=step or None, as_of=as_of, full=full,
                               project_dir=proj.root,
                               on_step=None if json_out else (lambda s: err_console.print(f"[dim]build: {s}[/]")))
            if json_out:
                print_json({"run_id": result.run_id, "as_of": result.as_of, "steps": result.steps})
            else:
                from jingzhun.cli.views import build_table

                console.print(build_table(result))
    except JingzhunError as exc:
        _fail(exc)


@profiles_app.command("show")
def profiles_show(
    ident: str = typer.Argument(..., help="A profile id (p...), or an identifier with --kind."),
    kind: Optional[str] = typer.Option(None, help="Identifier kind of IDENT: email, phone, user_id, crm_id, ..."),
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """The view of one person: identifiers, records, orders, events, and why they were joined."""
    from jingzhun.pipeline.views import profile_view

    try:
        with _open(project) as proj:
            view = profile_view(proj.warehouse, ident, kind=kind, secret=proj.secret, settings=proj.settings)
            if json_out:
                print_json(view)
            else:
                from jingzhun.cli.views import profile_panel

                console.print(profile_panel(view))
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def sim(
    customers: int = typer.Option(10_000, min=100, help="Number of customers (persons) to simulate."),
    out: Path = typer.Option(..., help="Folder to write the world's files, truth and ingest mapping into."),
    seed: int = typer.Option(0, help="Random seed: the same seed gives the same world."),
) -> None:
    """Simulate a retail world with known truth; its files come with an ingest mapping (sim.yaml)."""
    from jingzhun.pipeline.demo import write_simulation

    try:
        mapping = write_simulation(out, customers=customers, seed=seed)
        console.print(f"simulated {customers:,} customers into {out}")
        console.print(f"  load it with: jingzhun ingest {mapping}")
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def demo(
    customers: int = typer.Option(20_000, min=500, help="Size of the simulated world."),
    directory: Path = typer.Option(Path("jingzhun-demo"), "--dir", help="Project folder for the demo (replaced)."),
    seed: int = typer.Option(0, help="Random seed."),
    json_out: bool = JsonOpt,
) -> None:
    """Simulate a world, load it, clean it, resolve identities, and summarise what was found."""
    from jingzhun.pipeline.demo import run_demo

    try:
        with progress(not json_out) as on_progress:
            summary = run_demo(directory, customers=customers, seed=seed, on_progress=on_progress,
                               on_step=None if json_out else (lambda s: err_console.print(f"[dim]demo: {s}[/]")))
        if json_out:
            print_json(summary)
        else:
            from jingzhun.cli.views import demo_summary

            demo_summary(console, summary)
    except JingzhunError as exc:
        _fail(exc)


app.add_typer(__import__("jingzhun.cli.rules", fromlist=["app"]).app, name="rules")


app.add_typer(__import__("jingzhun.cli.tags", fromlist=["app"]).app, name="tags")
app.add_typer(__import__("jingzhun.cli.segment", fromlist=["app"]).app, name="segment")
app.add_typer(__import__("jingzhun.cli.models", fromlist=["app"]).app, name="models")
app.add_typer(__import__("jingzhun.cli.report", fromlist=["app"]).app, name="report")
app.add_typer(__import__("jingzhun.cli.campaign", fromlist=["app"]).app, name="campaign")


if __name__ == "__main__":  # pragma: no cover
    app()
