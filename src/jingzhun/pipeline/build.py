"""`jingzhun build`: run the pipeline steps that exist over what has been loaded, recording each run.

Steps, in order (later issues append theirs):

1. ``checks``: cross-table reference checks (orphans) over everything loaded;
2. ``identity``: the identity graph, profile ids and the profiles table;
3. ``features``: ``profile_features`` as of the build's as_of, refreshed incrementally when it can be;
4. ``scores``: the predictive models fitted on the data before as_of and their scores (p_alive, clv_12m,
   expected purchases, p_buy_90d, churn_risk) written to ``scores``; a model that cannot be fitted on
   this data (too few repeat buyers, say) is reported in the step's detail and the build goes on;
5. ``tags``: the tag library (built-in and the project's ``tags/*.yaml``) as of the same moment, with
   the changes since the last tag build in ``tag_history``.

The as_of of a build is, in order: the ``as_of`` argument (``jingzhun build --as-of``), the project's
``profile.as_of`` setting, or the end of the local day of the latest order or event loaded
(:func:`data_end`), so a historical data set is described as of its own end and a build never reads the
clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from jingzhun.config import Settings
from jingzhun.pipeline.runs import StepRecord, new_run_id, record_step
from jingzhun.warehouse import Warehouse

__all__ = ["BuildResult", "build", "STEPS", "data_end", "build_as_of", "profile_timezone"]

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    run_id: str
    as_of: str | None = None  # the moment the profile steps described
    steps: dict[str, dict] = field(default_factory=dict)  # step -> its figures (and seconds)


def profile_timezone(settings: Settings) -> str:
    """The time zone of customers' local hours and days."""
    return settings.profile.timezone or settings.timezone


def data_end(warehouse: Warehouse, timezone: str) -> dt.datetime | None:
    """The first local midnight after the latest order or event loaded (UTC), or None with no data."""
    latest = []
    for name, column in (("orders", "ordered_at"), ("events", "timestamp")):
        t = warehouse.table(name)
        value = warehouse.execute(t.aggregate(latest=t[column].max())).latest.iloc[0]
        if value is not None and not pd.isna(value):
            ts = pd.Timestamp(value)
            latest.append(ts.tz_localize("UTC") if ts.tzinfo is None else ts)  # Spark returns naive UTC
    if not latest:
        return None
    local = max(latest).tz_convert(ZoneInfo(timezone))
    midnight = (local.normalize() + pd.Timedelta(days=1)).tz_convert("UTC")
    return midnight.to_pydatetime()


def build_as_of(warehouse: Warehouse, settings: Settings, as_of=None) -> dt.datetime | None:
    """The as_of a build uses: the argument, else ``profile.as_of``, else :func:`data_end`."""
    from jingzhun.segment.context import as_utc

    chosen = as_of or settings.profile.as_of
    if chosen is not None:
        return as_utc(chosen)
    return data_end(warehouse, profile_timezone(settings))


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


def _features(warehouse: Warehouse, settings: Settings, record, *, as_of, full: bool = False, **_) -> None:
    from jingzhun.profile import build_features

    if as_of is None:
        record.detail = {"skipped": "no orders or events loaded: nothing to describe"}
        return
    result = build_features(warehouse, as_of=as_of, full=full, timezone=profile_timezone(settings))
    record.detail = {k: v for k, v in result.to_dict().items() if k != "seconds"}
    record.rows_in = result.recomputed
    record.rows_out = result.profiles


def _scores(warehouse: Warehouse, settings: Settings, record, *, as_of, project_dir: Path | None = None,
            **_) -> None:
    from jingzhun.errors import JingzhunError
    from jingzhun.models.scoring import ScoreSettings, score_all

    if as_of is None:
        record.detail = {"skipped": "no orders or events loaded: nothing to score"}
        return
    if project_dir is None:
        record.detail = {"skipped": "scores need a project folder for the model files"}
        return
    try:
        out = score_all(warehouse, as_of, directory=Path(project_dir) / "data" / "models",
                        settings=ScoreSettings(timezone=profile_timezone(settings)))
    except JingzhunError as exc:
        log.warning("scores skipped: %s", exc)
        record.detail = {"skipped": str(exc)}
        return
    record.detail = {name: _brief(value) for name, value in out.items() if name not in ("seconds",)}
    scores = warehouse.table("scores")
    record.rows_out = int(warehouse.execute(scores.count()))


def _brief(value):
    """A step detail small enough to print: model ids and counts, not whole parameter sets."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if isinstance(v, (str, int, float)) or k in ("models", "scores")}
    return value


def _tags(warehouse: Warehouse, settings: Settings, record, *, as_of, project_dir: Path | None = None, **_) -> None:
    """Records itself in ``runs`` (its detail is the state the next tag build starts from)."""
    from jingzhun.profile.tags import build_tags, load_library
    from jingzhun.segment import Catalog

    if as_of is None:
        record.detail = {"skipped": "no orders or events loaded: nothing to tag"}
        return
    library = load_library(project_dir=project_dir, catalog=Catalog.from_warehouse(warehouse))
    result = build_tags(warehouse, as_of=as_of, library=library, run_id=record.run_id)
    record.detail = {"tags": result.tags, "active": result.active, "rows": result.rows,
                     "profiles_tagged": result.profiles_tagged, "gained": result.gained, "lost": result.lost,
                     "changed": result.changed, "seconds": round(sum(result.seconds.values()), 2)}


STEPS: dict[str, Callable] = {"checks": _checks, "identity": _identity, "features": _features, "scores": _scores,
                              "tags": _tags}
_DATED = ("features", "scores", "tags")  # steps that describe a moment and take as_of
_SELF_RECORDED = ("tags",)  # steps that write their own `runs` row under the build's run id


def build(warehouse: Warehouse, settings: Settings, *, steps: list[str] | None = None,
          on_step: Callable[[str], None] | None = None, as_of=None, full: bool = False,
          project_dir: str | Path | None = None) -> BuildResult:
    """Run ``steps`` (default: all) in order; each is recorded in ``runs`` under one run id.

    ``as_of`` (see the module docstring) is worked out once, after identity, for every dated step;
    ``full`` makes the feature step rebuild everyone instead of refreshing what changed; ``project_dir``
    holds the model files and the project's own tags (without it the scores step is skipped).
    """
    chosen = steps or list(STEPS)
    unknown = [s for s in chosen if s not in STEPS]
    if unknown:
        from jingzhun.errors import ConfigError

        raise ConfigError(f"unknown build step(s) {unknown}; the steps are {list(STEPS)}")
    result = BuildResult(run_id=new_run_id())
    when = None
    for step in chosen:
        if on_step:
            on_step(step)
        kwargs = {}
        if step in _DATED:
            if when is None:
                when = build_as_of(warehouse, settings, as_of)
                result.as_of = None if when is None else when.isoformat()
            kwargs = {"as_of": when, "full": full, "project_dir": project_dir}
        if step in _SELF_RECORDED:
            record = StepRecord(run_id=result.run_id, step=step)
            STEPS[step](warehouse, settings, record, **kwargs)
            result.steps[step] = dict(record.detail)
            continue
        with record_step(warehouse, result.run_id, step) as record:
            STEPS[step](warehouse, settings, record, **kwargs)
        result.steps[step] = {**record.detail, "seconds": round(record.seconds, 2)}
    return result
