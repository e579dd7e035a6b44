"""How the CLI talks to a person: rich tables and progress, or JSON with --json."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["console", "err_console", "print_json", "progress", "ProjectOpt", "JsonOpt", "project_dir",
           "open_project", "fail", "with_project"]

console = Console()
err_console = Console(stderr=True)

# the options every command that works on a project shares
ProjectOpt = typer.Option(
    None, "--project", "-p", help="Project folder (default: $JINGZHUN_PROJECT or the current folder).",
)
JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")


def project_dir(project: Optional[Path]) -> Path:
    return Path(project or os.environ.get("JINGZHUN_PROJECT") or ".")


def open_project(project: Optional[Path]):
    from jingzhun.project import Project

    return Project.open(project_dir(project))


def fail(exc: Exception) -> None:
    """A jingzhun error as a one-line message and exit code 2."""
    err_console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


def with_project(project: Optional[Path], work):
    """Run ``work(project)`` on the opened project; jingzhun errors become a message and exit code 2."""
    from jingzhun.errors import JingzhunError

    try:
        with open_project(project) as proj:
            return work(proj)
    except JingzhunError as exc:
        fail(exc)


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def progress(enabled: bool = True):
    """A progress display whose callback has the pipeline's shape: (step, done, total)."""
    if not enabled:
        yield lambda step, done, total: None
        return
    bars: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"),
                  TimeElapsedColumn(), console=err_console, transient=True) as prog:
        def update(step: str, done: int, total: int) -> None:
            if step not in bars:
                bars[step] = prog.add_task(step, total=max(total, 1))
            prog.update(bars[step], completed=done, total=max(total, 1))

        yield update
