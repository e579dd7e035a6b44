"""`jingzhun build`: run the pipeline steps that exist over what has been loaded, recording each run.

Steps, in order (later issues append theirs):

1. ``checks``: cross-table reference checks (orphans) over everything loaded;
2. ``identity``: the identity graph, profile ids and the profiles table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from jingzhun.config import Settings
from jingzhun.pipeline.runs import new_run_id, record_step
from jingzhun.warehouse import Warehouse

__all__ = ["BuildResult", "build", "STEPS"]

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    run_id: str
    steps: dict[str, dict] = field(default_factory=dict)  # step -> its figures (and seconds)


def _checks(warehouse: Warehouse, settings: Settings, record) -> None:
    from jingzhun.quality import check_references

    counts = check_references(warehouse)
    record.detail = {c.rule: c.flagged for c in counts}
    record.rows_in = sum(c.checked for c in counts)
    record.rows_out = sum(c.flagged for c in counts)


def _identity(warehouse: Warehouse, settings: Settings, record) -> None:
    from jingzhun.identity import resolve

    result = resolve(warehouse, settings.identity)
    figures = result.to_dict()
    record.detail = figures
    record.rows_in = figures.get("identifiers")
    record.rows_out = figures.get("profiles")


STEPS: dict[str, Callable] = {"checks": _checks, "identity": _identity}


def build(warehouse: Warehouse, settings: Settings, *, steps: list[str] | None = None,
          on_step: Callable[[str], None] | None = None) -> BuildResult:
    """Run ``steps`` (default: all) in order; each is recorded in ``runs`` under one run id."""
    chosen = steps or list(STEPS)
    unknown = [s for s in chosen if s not in STEPS]
    if unknown:
        from jingzhun.errors import ConfigError

        raise ConfigError(f"unknown build step(s) {unknown}; the steps are {list(STEPS)}")
    result = BuildResult(run_id=new_run_id())
    for step in chosen:
        if on_step:
            on_step(step)
        with record_step(warehouse, result.run_id, step) as record:
            STEPS[step](warehouse, settings, record)
        result.steps[step] = {**record.detail, "seconds": round(record.seconds, 2)}
    return result
