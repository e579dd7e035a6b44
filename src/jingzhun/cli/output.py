"""How the CLI talks to a person: rich tables and progress, or JSON with --json."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["console", "err_console", "print_json", "progress"]

console = Console()
err_console = Console(stderr=True)


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
