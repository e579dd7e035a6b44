"""Reading tags back: the catalogue (definition and coverage), one person's tags, and tag history.

These run small aggregate or filtered queries and return plain Python for the CLI, the API and
notebooks; nothing here reads per-profile rows in bulk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import ibis
import pandas as pd

from jingzhun.profile.tags.build import last_tag_build
from jingzhun.profile.tags.library import TagLibrary
from jingzhun.profile.tags.model import FAMILIES, FAMILY_LABELS, TagDef
from jingzhun.warehouse import Warehouse

__all__ = ["TagInfo", "catalogue", "tags_of", "tag_history", "tag_changes"]

log = logging.getLogger(__name__)


@dataclass
class TagInfo:
    """A tag's definition and how many people carry it in the latest build."""

    definition: TagDef
    file: str
    builtin: bool
    dependencies: tuple[str, ...]
    inactive: str | None  # why nobody can carry it in this warehouse
    profiles: int  # profiles carrying it
    share: float | None  # of all profiles (None when there are none)
    values: dict[str, int] = field(default_factory=dict)  # band or level -> profiles, in band order
    cuts: list[float] | None = None  # the cut-offs the latest build used
    built_as_of: str | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    def to_dict(self) -> dict:
        d = self.definition
        return {
            "name": d.name, "family": d.family, "family_label": FAMILY_LABELS[d.family], "kind": d.kind,
            "label": d.label.model_dump(), "description": d.description.model_dump(),
            "definition": d.to_dict(), "fingerprint": d.fingerprint, "file": self.file, "builtin": self.builtin,
            "dependencies": list(self.dependencies), "status": "inactive" if self.inactive else "active",
            "inactive_reason": self.inactive, "profiles": self.profiles, "share": self.share,
            "values": self.values, "cuts": self.cuts, "built_as_of": self.built_as_of,
        }


def _band_order(tag: TagDef, counts: dict[str, int]) -> dict[str, int]:
    if tag.banding is None:
        return {}
    return {label: counts.get(label, 0) for label in tag.banding.labels if label is not None}


def catalogue(warehouse: Warehouse, library: TagLibrary, *, family: str | None = None) -> list[TagInfo]:
    """Every tag of ``library`` (of one ``family`` if given) with its coverage in the current ``tags``."""
    if family is not None and family not in FAMILIES:
        from jingzhun.profile.tags.errors import TagDefinitionError

        raise TagDefinitionError(f"unknown family {family!r}; families are {', '.join(FAMILIES)}")
    tags = warehouse.table("tags")
    counts = warehouse.execute(tags.group_by(["tag", "value"]).aggregate(n=tags.count()))
    total = warehouse.count("profiles")
    per_tag: dict[str, dict[str | None, int]] = {}
    for tag, value, n in zip(counts.tag, counts.value, counts.n):
        value = None if value is None or pd.isna(value) else str(value)
        per_tag.setdefault(tag, {})[value] = int(n)
    last = last_tag_build(warehouse) or {}
    out = []
    order = {f: i for i, f in enumerate(FAMILIES)}
    entries = sorted(library.entries, key=lambda e: order[e.definition.family])
    for entry in entries:
        d = entry.definition
        if family is not None and d.family != family:
            continue
        found = per_tag.get(d.name, {})
        n = sum(found.values())
        cuts = last.get("cuts", {}).get(d.name)
        if cuts is None and d.banding is not None and d.banding.cuts is not None:
            cuts = list(d.banding.cuts)
        out.append(TagInfo(
            definition=d, file=entry.file, builtin=entry.builtin, dependencies=library.dependencies[d.name],
            inactive=library.inactive.get(d.name), profiles=n, share=n / total if total else None,
            values=_band_order(d, {k: v for k, v in found.items() if k is not None}), cuts=cuts,
            built_as_of=last.get("as_of")))
    return out


def tags_of(warehouse: Warehouse, profile_id: str, library: TagLibrary | None = None,
            language: str = "en") -> list[dict]:
    """The tags one person carries, with value, reason, and (given the library) family and label."""
    tags = warehouse.table("tags")
    rows = warehouse.execute(tags.filter(tags.profile_id == profile_id)
                             .select("tag", "value", "reason", "as_of").order_by("tag"))
    out = []
    for r in rows.to_dict("records"):
        item = {"tag": r["tag"], "value": None if pd.isna(r["value"]) else r["value"],
                "reason": None if pd.isna(r["reason"]) else r["reason"], "as_of": pd.Timestamp(r["as_of"]).isoformat()}
        if library is not None and r["tag"] in library:
            d = library[r["tag"]]
            item.update(family=d.family, label=d.label.get(language))
        out.append(item)
    if library is not None:
        order = {f: i for i, f in enumerate(FAMILIES)}
        out.sort(key=lambda x: (order.get(x.get("family"), len(order)), x["tag"]))
    return out


def tag_history(warehouse: Warehouse, *, profile_id: str | None = None, tag: str | None = None,
                limit: int | None = 100) -> pd.DataFrame:
    """Changes, newest build first: one person's, one tag's, or all (``limit`` rows at most)."""
    h = warehouse.table("tag_history")
    if profile_id is not None:
        h = h.filter(h.profile_id == profile_id)
    if tag is not None:
        h = h.filter(h.tag == tag)
    h = h.order_by([ibis.desc("as_of"), "tag", "profile_id"])
    if limit is not None:
        h = h.limit(limit)
    return warehouse.execute(h.select("profile_id", "tag", "change", "value_before", "value_after", "reason",
                                      "as_of", "previous_as_of"))


def tag_changes(warehouse: Warehouse, tag: str, *, limit: int = 20) -> pd.DataFrame:
    """Per build (as_of, newest first) how many people gained, lost or changed value of ``tag``."""
    h = warehouse.table("tag_history")
    h = h.filter(h.tag == tag)
    per = h.group_by("as_of").aggregate(
        gained=(h.change == "gained").sum(), lost=(h.change == "lost").sum(),
        changed=(h.change == "changed").sum())
    return warehouse.execute(per.order_by(ibis.desc("as_of")).limit(limit))
