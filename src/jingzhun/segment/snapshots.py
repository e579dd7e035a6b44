"""Snapshots of a saved segment over time, and the difference between two moments.

A snapshot evaluates the segment at an ``as_of`` and writes, in one transaction, its members to
``segment_members`` and one row to ``segment_snapshots``: when it was taken (``snapshot_at``, the key of
its members), the as_of, the definition's fingerprint, the size, and how many members ``entered`` and
``exited`` since the segment's previous snapshot (the latest one taken before; null for the first).

A diff compares two *sides*, each one of:

* ``"last"``: the latest snapshot; an integer ``n``: the n-th snapshot (1 = the first, -1 = the latest);
* ``"now"``: the members evaluated live at the default moment (the latest feature build);
* a date or time (ISO text or datetime): the members evaluated live at that as_of.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.errors import JingzhunError
from jingzhun.segment.context import as_utc
from jingzhun.segment.inputs import default_as_of
from jingzhun.segment.membership import Target, members, resolve

__all__ = ["SnapshotResult", "take_snapshot", "list_snapshots", "snapshot_members", "side_members", "diff", "Diff"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotResult:
    """One row of ``segment_snapshots``."""

    segment_id: str
    name: str
    snapshot_at: dt.datetime
    as_of: dt.datetime
    fingerprint: str
    size: int
    entered: int | None
    exited: int | None

    def to_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in asdict(self).items()}


def _ts(when: dt.datetime) -> ir.TimestampScalar:
    return ibis.literal(as_utc(when), type="timestamp('UTC')")


def _saved(warehouse, target) -> Target:
    t = resolve(warehouse, target)
    if t.segment is None:
        raise JingzhunError(f"only saved segments have snapshots; save {t.label!r} first "
                            "(jingzhun segment save NAME EXPRESSION)")
    return t


def list_snapshots(warehouse, target) -> list[SnapshotResult]:
    """The snapshots of a saved segment, oldest first."""
    t = _saved(warehouse, target)
    snaps = warehouse.table("segment_snapshots")
    rows = warehouse.execute(snaps.filter(snaps.segment_id == t.segment.segment_id).order_by("snapshot_at"))

    def opt(v):
        return None if pd.isna(v) else int(v)

    return [SnapshotResult(segment_id=r.segment_id, name=t.segment.name, snapshot_at=as_utc(r.snapshot_at),
                           as_of=as_utc(r.as_of), fingerprint=r.fingerprint, size=int(r.size), entered=opt(r.entered),
                           exited=opt(r.exited)) for r in rows.itertuples()]


def snapshot_members(warehouse, segment_id: str, snapshot_at: dt.datetime) -> ir.Table:
    m = warehouse.table("segment_members")
    return m.filter((m.segment_id == segment_id) & (m.snapshot_at == _ts(snapshot_at))).select("profile_id")


def _changes(now: ir.Table, before: ir.Table) -> tuple[ir.Table, ir.Table]:
    """(entered, exited): ids in ``now`` and not ``before``, and the other way round."""
    return now.anti_join(before, "profile_id"), before.anti_join(now, "profile_id")


def take_snapshot(warehouse, target, *, as_of=None, now: dt.datetime | None = None) -> SnapshotResult:
    """Evaluate a saved segment at ``as_of`` and record its members (see the module docstring)."""
    t = _saved(warehouse, target)
    seg = t.segment
    as_of = as_utc(as_of) if as_of is not None else default_as_of(warehouse)
    taken = as_utc(now or dt.datetime.now(dt.timezone.utc))
    previous = list_snapshots(warehouse, seg)
    if previous and taken <= previous[-1].snapshot_at:  # snapshot times are keys: keep them increasing
        taken = previous[-1].snapshot_at + dt.timedelta(microseconds=1)
    current = warehouse.stage(members(warehouse, seg, as_of).distinct())
    try:
        size = int(warehouse.execute(current.count()))
        entered = exited = None
        if previous:
            came, left = _changes(current, snapshot_members(warehouse, seg.segment_id, previous[-1].snapshot_at))
            entered, exited = int(warehouse.execute(came.count())), int(warehouse.execute(left.count()))
        result = SnapshotResult(segment_id=seg.segment_id, name=seg.name, snapshot_at=taken, as_of=as_of,
                                fingerprint=seg.fingerprint, size=size, entered=entered, exited=exited)
        row = pd.DataFrame([{**asdict(result), "snapshot_at": pd.Timestamp(taken), "as_of": pd.Timestamp(as_of)}])
        with warehouse.transaction():
            warehouse.append("segment_members", current.select(
                segment_id=ibis.literal(seg.segment_id), profile_id=current.profile_id, snapshot_at=_ts(taken)))
            warehouse.append("segment_snapshots", row.drop(columns=["name"]))
    finally:
        warehouse.drop_stage(current.get_name())
    log.info("snapshot of %r as of %s: %d members", seg.name, as_of, size)
    return result


def side_members(warehouse, target, side) -> tuple[str, ir.Table]:
    """A label and the members of one side of a diff (see the module docstring)."""
    if isinstance(side, int) or side == "last" or (isinstance(side, str) and side.lstrip("-").isdigit()):
        t = _saved(warehouse, target)
        snaps = list_snapshots(warehouse, t.segment)
        n = -1 if side == "last" else int(side)
        if not snaps:
            raise JingzhunError(f"segment {t.label!r} has no snapshot yet: take one with "
                                f"`jingzhun segment snapshot {t.label!r}`")
        if n == 0 or abs(n) > len(snaps):
            raise JingzhunError(f"segment {t.label!r} has {len(snaps)} snapshot(s); snapshot {n} does not exist")
        snap = snaps[n - 1 if n > 0 else n]
        label = f"snapshot {snaps.index(snap) + 1} ({snap.snapshot_at:%Y-%m-%d %H:%M:%S}, as of {snap.as_of:%Y-%m-%d})"
        return label, snapshot_members(warehouse, snap.segment_id, snap.snapshot_at)
    as_of = default_as_of(warehouse) if side == "now" else as_utc(side)
    return f"as of {as_of.isoformat()}", members(warehouse, target, as_of)


@dataclass(frozen=True)
class Diff:
    """Who entered and who left between two sides."""

    target: str
    before: str
    after: str
    before_size: int
    after_size: int
    entered: int
    exited: int
    entered_ids: list[str]
    exited_ids: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


def diff(warehouse, target, *, before="last", after="now", limit: int = 20) -> Diff:
    """Compare two sides of a target; ``limit`` ids (smallest first) of each change are listed."""
    t = resolve(warehouse, target)
    label_a, a = side_members(warehouse, t, before)
    label_b, b = side_members(warehouse, t, after)
    a, b = warehouse.stage(a.distinct()), warehouse.stage(b.distinct())
    try:
        came, left = _changes(b, a)

        def ids(x: ir.Table) -> list[str]:
            return [str(v) for v in warehouse.execute(x.order_by("profile_id").limit(limit)).profile_id]

        return Diff(target=t.label, before=label_a, after=label_b,
                    before_size=int(warehouse.execute(a.count())), after_size=int(warehouse.execute(b.count())),
                    entered=int(warehouse.execute(came.count())), exited=int(warehouse.execute(left.count())),
                    entered_ids=ids(came), exited_ids=ids(left))
    finally:
        warehouse.drop_stage(a.get_name())
        warehouse.drop_stage(b.get_name())
