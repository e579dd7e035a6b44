"""Saved segments: named definitions in the ``segments`` table.

A segment is an audience expression (kind ``audience``) or a built-in rule (kinds ``rfm``, ``lifecycle``,
``cluster``: a JSON object that says which members the rule assigns, with every number it needs, such
as cluster centroids, so that evaluating it again gives the same assignment).

* An audience is checked against the warehouse's catalogue when it is saved and stored as its canonical
  text; its fingerprint is that of the parsed meaning, so ``gender='F'  AND age>30`` and
  ``gender = 'F' and age > 30`` are the same definition. A bare score name (``p_alive < 0.3``) is stored
  as ``score('p_alive') < 0.3``.
* A built-in rule's fingerprint is the SHA-256 of its kind and its JSON with sorted keys.
* A name is unique. Saving under an existing name with another meaning updates the definition in place:
  the id and ``created_at`` stay, ``updated_at`` moves. Saving the same meaning again changes nothing.
* The id is ``seg_`` and the first 16 hex digits of the name's SHA-256: the same name gives the same id
  in every warehouse, and deleting a segment deletes its members and snapshots with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import asdict, dataclass

import ibis
import pandas as pd

from jingzhun.errors import JingzhunError
from jingzhun.segment.catalog import Catalog, suggest
from jingzhun.segment.language import parse

__all__ = ["Segment", "SegmentNotFoundError", "KINDS", "BUILT_IN_KINDS", "save_segment", "get_segment",
           "list_segments", "delete_segment", "segment_id_of", "fingerprint_of_rule", "canonical_rule"]

log = logging.getLogger(__name__)

KINDS = ("audience", "rfm", "lifecycle", "cluster")
BUILT_IN_KINDS = KINDS[1:]
_NAME_MAX = 200


class SegmentNotFoundError(JingzhunError):
    """No saved segment has that name or id."""


@dataclass(frozen=True)
class Segment:
    """One row of ``segments``."""

    segment_id: str
    name: str
    kind: str
    definition: str
    fingerprint: str
    description: str | None
    created_at: dt.datetime
    updated_at: dt.datetime | None

    @property
    def rule(self) -> dict:
        """The built-in rule as a dict (built-in kinds only)."""
        if self.kind == "audience":
            raise JingzhunError(f"segment {self.name!r} is an audience expression, not a built-in rule")
        return json.loads(self.definition)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["definition"] = self.definition if self.kind == "audience" else self.rule
        return out


def segment_id_of(name: str) -> str:
    return "seg_" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def canonical_rule(rule: dict) -> str:
    """A built-in rule as JSON text with sorted keys: its storage form."""
    return json.dumps(rule, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def fingerprint_of_rule(kind: str, rule: dict) -> str:
    return hashlib.sha256(f"{kind}\n{canonical_rule(rule)}".encode("utf-8")).hexdigest()


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise JingzhunError("a segment needs a name, e.g. 'young women in Shanghai'")
    name = name.strip()
    if len(name) > _NAME_MAX or any(ord(c) < 32 for c in name):
        raise JingzhunError(f"a segment name is one line of at most {_NAME_MAX} characters; {name[:40]!r}... is not")
    return name


def _definition(warehouse, kind: str, definition, catalog: Catalog | None) -> tuple[str, str]:
    """(stored text, fingerprint) of a definition, checked."""
    if kind not in KINDS:
        raise JingzhunError(f"unknown segment kind {kind!r}: use one of {', '.join(KINDS)}")
    if kind == "audience":
        if not isinstance(definition, str):
            raise JingzhunError("an audience segment is defined by an expression (text); see docs/audience-language.md")
        catalog = catalog if catalog is not None else Catalog.from_warehouse(warehouse)
        node = catalog.check(parse(definition), definition)
        return node.to_text(), node.fingerprint
    if not isinstance(definition, dict):
        raise JingzhunError(f"a {kind} segment is defined by its rule (a dict), not {type(definition).__name__}")
    return canonical_rule(definition), fingerprint_of_rule(kind, definition)


def _rows(warehouse, **where) -> pd.DataFrame:
    t = warehouse.table("segments")
    for column, value in where.items():
        t = t.filter(t[column] == value)
    return warehouse.execute(t.order_by("name"))


def _utc(when) -> pd.Timestamp:
    ts = pd.Timestamp(when)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _segment(row) -> Segment:
    def when(v):
        return None if v is None or pd.isna(v) else _utc(v).to_pydatetime()

    return Segment(segment_id=row.segment_id, name=row.name, kind=row.kind, definition=row.definition,
                   fingerprint=row.fingerprint, description=None if pd.isna(row.description) else row.description,
                   created_at=when(row.created_at), updated_at=when(row.updated_at))


def save_segment(warehouse, name: str, definition, *, kind: str = "audience", description: str | None = None,
                 catalog: Catalog | None = None, now: dt.datetime | None = None) -> tuple[Segment, str]:
    """Save a definition under ``name``; returns the segment and what happened: created, updated or unchanged.

    ``definition`` is an audience expression (text) for kind ``audience``, else the built-in rule (a
    dict). Audiences are checked against ``catalog`` (default: the warehouse's), so a misspelt field is
    refused with its close matches before anything is written.
    """
    name = _check_name(name)
    text, fingerprint = _definition(warehouse, kind, definition, catalog)
    now = _utc(now or dt.datetime.now(dt.timezone.utc))
    existing = _rows(warehouse, name=name)
    if not existing.empty:
        old = _segment(next(existing.itertuples()))
        if old.kind != kind:
            raise JingzhunError(f"segment {name!r} already exists with kind {old.kind}; choose another name "
                                f"or delete it first (jingzhun segment delete {name!r})")
        if old.fingerprint == fingerprint and (description is None or description == old.description):
            return old, "unchanged"
        created_at, status = pd.Timestamp(old.created_at), "updated"
        description = old.description if description is None else description
    else:
        created_at, status = now, "created"
    seg = Segment(segment_id=segment_id_of(name), name=name, kind=kind, definition=text, fingerprint=fingerprint,
                  description=description, created_at=created_at.to_pydatetime(), updated_at=now.to_pydatetime())
    row = pd.DataFrame([{**asdict(seg), "created_at": created_at, "updated_at": now}])
    with warehouse.transaction():
        if status == "updated":
            warehouse.delete_where("segments", lambda t: t.segment_id == seg.segment_id)
        warehouse.append("segments", row)
    log.info("segment %r %s (%s)", name, status, seg.segment_id)
    return seg, status


def get_segment(warehouse, name_or_id: str) -> Segment:
    """The saved segment of that name, or of that id."""
    t = warehouse.table("segments")
    rows = warehouse.execute(t.filter((t.name == name_or_id) | (t.segment_id == name_or_id)))
    if rows.empty:
        names = list(_rows(warehouse).name)
        close = suggest(name_or_id, names)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else \
            " (list them with `jingzhun segment list`)"
        raise SegmentNotFoundError(f"no saved segment is named {name_or_id!r}{hint}")
    return _segment(next(rows.itertuples()))


def list_segments(warehouse, *, kind: str | None = None) -> list[Segment]:
    """Every saved segment (of one kind), by name."""
    rows = _rows(warehouse) if kind is None else _rows(warehouse, kind=kind)
    return [_segment(r) for r in rows.itertuples()]


def delete_segment(warehouse, name_or_id: str) -> Segment:
    """Delete a segment with its members and snapshots (all or nothing)."""
    seg = get_segment(warehouse, name_or_id)
    sid = ibis.literal(seg.segment_id)
    with warehouse.transaction():
        for table in ("segment_members", "segment_snapshots", "segments"):
            warehouse.delete_where(table, lambda t: t.segment_id == sid)
    return seg
