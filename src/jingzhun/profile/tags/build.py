"""Building tags: ``tags`` replaced, the differences appended to ``tag_history``, in one transaction.

A build evaluates every active tag as of a moment (see :mod:`.evaluate`), compares the result with the
tags the previous build left, and writes both the new ``tags`` and one ``tag_history`` row per change
(``gained``, ``lost``, or ``changed`` band or level) together: either both land or neither does. The
first build records every tag as gained, with no ``previous_as_of``. Rows of tags that are no longer in
the library leave ``tags`` without history rows (a definition removed is not a change of behaviour);
the build result lists them.

Tags read ``profile_features``, so a build at ``as_of`` needs the features built at the same moment;
otherwise recency, tenure and the 90-day counts would describe another day than the rules'
``in last 30 days``. The build says so and stops instead of mixing the two.

Each build is recorded in ``runs`` (step ``tags``) with its as_of, the cut-offs of quantile bands and
the fingerprint of every tag's meaning.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import asdict, dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.errors import JingzhunError
from jingzhun.pipeline.runs import new_run_id, record_step
from jingzhun.profile.tags.evaluate import evaluate
from jingzhun.profile.tags.library import TagLibrary, load_library
from jingzhun.segment import Catalog
from jingzhun.segment.context import as_utc
from jingzhun.warehouse import Warehouse

__all__ = ["TagBuildResult", "build_tags", "features_built_as_of", "last_tag_build", "STEP"]

log = logging.getLogger(__name__)

STEP = "tags"


@dataclass
class TagBuildResult:
    """What a tag build did."""

    run_id: str
    as_of: str
    previous_as_of: str | None
    tags: int  # tags in the library
    active: int  # tags evaluated (the rest are inactive in this warehouse)
    rows: int  # profile-tag rows in `tags` after the build
    profiles_tagged: int  # profiles carrying at least one tag
    gained: int = 0
    lost: int = 0
    changed: int = 0
    cuts: dict[str, list[float]] = field(default_factory=dict)
    inactive: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # tags in `tags` before that the library no longer has
    seconds: dict[str, float] = field(default_factory=dict)  # time per part of the build

    def to_dict(self) -> dict:
        return asdict(self)


def features_built_as_of(warehouse: Warehouse) -> dt.datetime | None:
    """The moment ``profile_features`` describes (None when it is empty)."""
    pf = warehouse.table("profile_features")
    found = warehouse.execute(pf.aggregate(lo=pf.as_of.min(), hi=pf.as_of.max()))
    lo, hi = found.lo.iloc[0], found.hi.iloc[0]
    if lo is None or pd.isna(lo):
        return None
    lo, hi = as_utc(lo), as_utc(hi)
    if lo != hi:
        raise JingzhunError(f"profile_features mixes rows as of {lo.isoformat()} and {hi.isoformat()}: "
                            "rebuild them with `jingzhun build --full`")
    return lo


def last_tag_build(warehouse: Warehouse) -> dict | None:
    """The detail the latest successful tag build recorded in ``runs`` (as_of, cut-offs, fingerprints)."""
    runs = warehouse.table("runs")
    rows = warehouse.execute(
        runs.filter((runs.step == STEP) & (runs.status == "ok"))
        .order_by([ibis.desc("finished_at"), ibis.desc("run_id")]).limit(1).select("detail"))
    if rows.empty:
        return None
    return json.loads(rows.detail.iloc[0])


def _check_features(warehouse: Warehouse, as_of: dt.datetime) -> None:
    built = features_built_as_of(warehouse)
    if built is None:
        if warehouse.count("profiles"):
            raise JingzhunError("profile_features is empty, and tags are defined over it: run `jingzhun build` "
                                "(or build_features) first")
        return
    if built != as_of:
        raise JingzhunError(
            f"profile_features describe {built.isoformat()}, not {as_of.isoformat()}: build the features at "
            f"that moment first (`jingzhun build --as-of {as_of.isoformat()}`), or build the tags as of "
            f"{built.isoformat()}")


def _changes(old: ir.Table, new: ir.Table) -> ir.Table:
    """One row per profile and tag that was gained, lost, or whose value changed (null-safe)."""
    o = old.select(_old_pid="profile_id", _old_tag="tag", value_before="value")
    n = new.select("profile_id", "tag", value_after="value", reason="reason")
    j = o.outer_join(n, (o._old_pid == n.profile_id) & (o._old_tag == n.tag))
    gained, lost = j._old_pid.isnull(), j.profile_id.isnull()
    j = j.filter(gained | lost | ~j.value_before.identical_to(j.value_after))
    return j.select(
        profile_id=ibis.coalesce(j.profile_id, j._old_pid), tag=ibis.coalesce(j.tag, j._old_tag),
        change=ibis.cases((j._old_pid.isnull(), "gained"), (j.profile_id.isnull(), "lost"), else_="changed"),
        value_before=j.value_before, value_after=j.value_after,
        reason=ibis.ifelse(j.profile_id.isnull(), ibis.null("string"), j.reason))


def _ts(value: dt.datetime | None) -> ir.Scalar:
    return ibis.literal(value, type="timestamp('UTC')") if value is not None else ibis.null("timestamp('UTC')")


def build_tags(warehouse: Warehouse, *, as_of, library: TagLibrary | None = None, language: str = "en",
               run_id: str | None = None) -> TagBuildResult:
    """Evaluate every tag as of ``as_of`` and write ``tags`` and ``tag_history`` together.

    ``library`` defaults to the built-in tags checked against this warehouse; ``language`` (zh or en)
    picks the reason templates. Recorded in ``runs`` as step ``tags`` under ``run_id`` (a new id when
    not given).
    """
    if language not in ("zh", "en"):
        raise JingzhunError(f"language {language!r}: reasons are written in zh or en")
    as_of = as_utc(as_of)
    _check_features(warehouse, as_of)
    if library is None:
        library = load_library(catalog=Catalog.from_warehouse(warehouse))
    previous = last_tag_build(warehouse)
    previous_as_of = as_utc(previous["as_of"]) if previous else None
    computed_at = pd.Timestamp.now(tz="UTC").to_pydatetime()
    run_id = run_id or new_run_id()
    try:
        with record_step(warehouse, run_id, STEP) as record:
            result = _build(warehouse, library, as_of, previous_as_of, computed_at, language, run_id)
            record.rows_in = result.active
            record.rows_out = result.rows
            record.detail = {"as_of": as_of.isoformat(), "language": language, "cuts": result.cuts,
                             "fingerprints": {t.name: t.fingerprint for t in library},
                             "inactive": result.inactive, "gained": result.gained, "lost": result.lost,
                             "changed": result.changed, "rows": result.rows, "seconds": result.seconds}
    finally:
        warehouse.drop_stages()
    log.info("tags as of %s: %d rows, %d gained, %d lost, %d changed", result.as_of, result.rows, result.gained,
             result.lost, result.changed)
    return result


def _build(warehouse: Warehouse, library: TagLibrary, as_of: dt.datetime, previous_as_of: dt.datetime | None,
           computed_at: dt.datetime, language: str, run_id: str) -> TagBuildResult:
    evaluated = evaluate(warehouse, library, as_of=as_of, language=language)
    seconds = dict(evaluated.seconds)
    t = time.perf_counter()
    new = warehouse.stage(evaluated.rows.mutate(as_of=_ts(as_of), computed_at=_ts(computed_at)))
    old = warehouse.table("tags")
    names = list(library.names)
    dropped = sorted(warehouse.execute(old.filter(~old.tag.isin(names)).select("tag").distinct()).tag)
    changes = _changes(old.filter(old.tag.isin(names)), new)
    history = warehouse.stage(changes.mutate(as_of=_ts(as_of), previous_as_of=_ts(previous_as_of),
                                             computed_at=_ts(computed_at)))
    seconds["compare"] = time.perf_counter() - t
    t = time.perf_counter()
    with warehouse.transaction():
        warehouse.append("tag_history", history)
        warehouse.replace("tags", new)
    seconds["write"] = time.perf_counter() - t
    counts = warehouse.execute(history.group_by("change").aggregate(n=history.count()))
    by_change = dict(zip(counts.change, counts.n.astype(int)))
    tags = warehouse.table("tags")
    sizes = warehouse.execute(tags.aggregate(rows=tags.count(), profiles=tags.profile_id.nunique()))
    return TagBuildResult(
        run_id=run_id, as_of=as_of.isoformat(),
        previous_as_of=previous_as_of.isoformat() if previous_as_of else None,
        tags=len(library), active=len(library) - len(library.inactive), rows=int(sizes.rows.iloc[0]),
        profiles_tagged=int(sizes.profiles.iloc[0]), gained=by_change.get("gained", 0),
        lost=by_change.get("lost", 0), changed=by_change.get("changed", 0), cuts=evaluated.cuts,
        inactive=dict(library.inactive), dropped=dropped, seconds={k: round(v, 2) for k, v in seconds.items()})
