"""Who is in a segment at a moment, for every kind; sizes, overlaps and CSV export.

A *target* is a saved segment (a :class:`Segment`, or its name or id) or an audience expression
written on the spot: text that names no saved segment is read as an expression.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir

from jingzhun.errors import JingzhunError
from jingzhun.profile.clock import Clock
from jingzhun.segment.catalog import Catalog
from jingzhun.segment.clusters import ClusterModel, buyers
from jingzhun.segment.compiler import audience
from jingzhun.segment.context import as_utc
from jingzhun.segment.errors import AudienceError
from jingzhun.segment.inputs import default_as_of, features_at, segment_context
from jingzhun.segment.language import Field, parse
from jingzhun.segment.lifecycle import lifecycle_stages, rules_of
from jingzhun.segment.rfm import rfm_members
from jingzhun.segment.saved import Segment, SegmentNotFoundError, get_segment

__all__ = ["Target", "resolve", "fields_read", "members", "size", "overlap", "export_csv", "Overlap"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """What to evaluate: a saved segment, or an expression (``segment`` None)."""

    label: str
    segment: Segment | None = None
    expression: str | None = None

    @property
    def kind(self) -> str:
        return self.segment.kind if self.segment is not None else "audience"

    @property
    def definition(self) -> str:
        return self.segment.definition if self.segment is not None else self.expression


def resolve(warehouse, target) -> Target:
    """A saved segment by object, name or id; else the text as an audience expression (checked now,
    against the warehouse's catalogue, so that a typo is reported before any query runs)."""
    if isinstance(target, Target):
        return target
    if isinstance(target, Segment):
        return Target(label=target.name, segment=target)
    if not isinstance(target, str) or not target.strip():
        raise JingzhunError("name a saved segment or write an audience expression, e.g. \"gender = 'F'\"")
    try:
        seg = get_segment(warehouse, target)
    except SegmentNotFoundError as missing:
        try:
            node = Catalog.from_warehouse(warehouse).check(parse(target), target)
        except AudienceError as exc:
            raise JingzhunError(f"{target!r} is neither a saved segment nor an audience expression.\n"
                                f"As a segment: {missing}\nAs an expression: {exc}") from None
        return Target(label=node.to_text(), expression=node.to_text())
    return Target(label=seg.name, segment=seg)


def fields_read(expression: str) -> set[str]:
    """The profile fields an expression reads."""
    return {n.name for n in parse(expression).walk() if isinstance(n, Field)}


def members(warehouse, target, as_of=None) -> ir.Table:
    """``profile_id`` of the members at ``as_of`` (default: the moment of the latest feature build)."""
    t = resolve(warehouse, target)
    as_of = as_utc(as_of) if as_of is not None else default_as_of(warehouse)
    if t.kind == "audience":
        ctx = segment_context(warehouse, as_of, fields=fields_read(t.definition))
        return audience(t.definition, ctx).select("profile_id")
    rule = t.segment.rule
    if t.kind == "rfm":
        return rfm_members(features_at(warehouse, as_of), rule)
    if t.kind == "lifecycle":
        stages = lifecycle_stages(warehouse, Clock.at(as_of, rule.get("timezone", "UTC")), rules_of(rule))
        return stages.filter(stages.stage == rule["stage"]).select("profile_id")
    if t.kind == "cluster":
        assigned = ClusterModel.from_rule(rule).assign(buyers(features_at(warehouse, as_of)))
        return assigned.filter(assigned.cluster == int(rule["cluster"])).select("profile_id")
    raise JingzhunError(f"segment {t.label!r} has an unknown kind {t.kind!r}")


def size(warehouse, target, as_of=None) -> int:
    """How many members the target has at ``as_of``."""
    return int(warehouse.execute(members(warehouse, target, as_of).count()))


@dataclass(frozen=True)
class Overlap:
    """Sizes of N targets and, for every pair, members in both and the Jaccard index."""

    labels: list[str]
    sizes: list[int]
    pairs: list[dict]

    def to_dict(self) -> dict:
        return {"segments": [{"segment": lab, "size": n} for lab, n in zip(self.labels, self.sizes)],
                "pairs": self.pairs}


def overlap(warehouse, targets: list, as_of=None) -> Overlap:
    """Pairwise overlap of two or more targets at one moment: |A and B| and |A and B| / |A or B|."""
    if len(targets) < 2:
        raise JingzhunError("overlap needs two segments or more")
    resolved = [resolve(warehouse, t) for t in targets]
    as_of = as_utc(as_of) if as_of is not None else default_as_of(warehouse)
    # one column type for the union: some kinds carry profile_id as non-nullable text, some as nullable
    parts = [members(warehouse, t, as_of).distinct().select(profile_id=ibis._.profile_id.cast("string"),
                                                            seg=ibis.literal(i, type="int64"))
             for i, t in enumerate(resolved)]
    long = warehouse.stage(ibis.union(*parts))
    sizes = warehouse.execute(long.group_by("seg").aggregate(n=long.count()))
    size_of = {int(r.seg): int(r.n) for r in sizes.itertuples()}
    right = long.select(_pid="profile_id", seg_b="seg")
    both = long.join(right, (long.profile_id == right._pid) & (long.seg < right.seg_b))
    inter = warehouse.execute(both.group_by(["seg", "seg_b"]).aggregate(n=both.count()))
    inter_of = {(int(r.seg), int(r.seg_b)): int(r.n) for r in inter.itertuples()}
    pairs = []
    for i in range(len(resolved)):
        for j in range(i + 1, len(resolved)):
            a, b, n = size_of.get(i, 0), size_of.get(j, 0), inter_of.get((i, j), 0)
            union = a + b - n
            pairs.append({"a": resolved[i].label, "b": resolved[j].label, "both": n,
                          "jaccard": n / union if union else 0.0})
    return Overlap(labels=[t.label for t in resolved], sizes=[size_of.get(i, 0) for i in range(len(resolved))],
                   pairs=pairs)


def export_csv(warehouse, target, path, *, as_of=None, fields: tuple[str, ...] = ()) -> int:
    """Write the members' pseudonymous ``profile_id`` (and profile ``fields``) to a CSV file, sorted by
    id; written to a temporary file beside ``path`` and renamed, so ``path`` is never half-written.
    Returns the number of rows."""
    as_of = as_utc(as_of) if as_of is not None else default_as_of(warehouse)
    ids = members(warehouse, target, as_of).distinct()
    if fields:
        base = segment_context(warehouse, as_of, fields=fields).base
        unknown = [f for f in fields if f not in base.columns or f == "profile_id"]
        if unknown:
            raise JingzhunError(f"cannot export {unknown}: not profile fields; known fields include "
                                f"{', '.join(c for c in base.columns[:12] if c != 'profile_id')}, ...")
        extra = base.select(_pid=base.profile_id, **{f: base[f] for f in fields})
        ids = ids.left_join(extra, ids.profile_id == extra._pid).select("profile_id", *fields)
    frame = warehouse.execute(ids.order_by("profile_id"))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        frame.to_csv(tmp, index=False, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("exported %d members to %s", len(frame), path)
    return len(frame)
