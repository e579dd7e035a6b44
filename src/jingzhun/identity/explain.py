"""Why a profile is what it is: its identifiers, the edges that joined them, the ones set aside.

:func:`explain` reads identity_map and identity_edges (it never recomputes anything) and returns an
:class:`Explanation`; :meth:`Explanation.render` writes it for a person to read and
:meth:`Explanation.path` finds the chain of evidence between two of the profile's identifiers.
:func:`profile_for` looks one identifier up.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import ibis

from jingzhun.errors import ProfileNotFoundError
from jingzhun.schema.tables import IDENTIFIER_KINDS
from jingzhun.warehouse import Warehouse

__all__ = ["Explanation", "explain", "profile_for", "ProfileNotFoundError"]

Node = tuple[str, str]  # (kind, key)


@dataclass(frozen=True)
class Edge:
    a: Node
    b: Node
    evidence: str
    rule: str
    used: bool

    def to_dict(self) -> dict:
        return {"kind_a": self.a[0], "key_a": self.a[1], "kind_b": self.b[0], "key_b": self.b[1],
                "evidence": self.evidence, "rule": self.rule, "used": self.used}


@dataclass(frozen=True)
class Explanation:
    profile_id: str
    identifiers: tuple[Node, ...]  # sorted by kind then key
    edges: tuple[Edge, ...]  # used edges inside the profile
    set_aside: tuple[Edge, ...] = ()  # edges touching the profile that a guard did not use
    shared: tuple[Node, ...] = field(default=())  # shared identifiers seen with this profile's identifiers

    def path(self, start: Node, end: Node) -> list[Edge]:
        """The shortest chain of used edges from ``start`` to ``end`` (empty when they are the same)."""
        members = set(self.identifiers)
        for n in (start, end):
            if n not in members:
                raise ProfileNotFoundError(f"{n[0]} {n[1]} is not in profile {self.profile_id}")
        adjacent: dict[Node, list[Edge]] = {}
        for e in self.edges:
            adjacent.setdefault(e.a, []).append(e)
            adjacent.setdefault(e.b, []).append(e)
        came: dict[Node, Edge | None] = {start: None}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == end:
                break
            for e in sorted(adjacent.get(node, []), key=lambda e: (e.a, e.b, e.rule)):
                other = e.b if e.a == node else e.a
                if other not in came:
                    came[other] = e
                    queue.append(other)
        steps: list[Edge] = []
        node = end
        while came.get(node) is not None:
            e = came[node]
            steps.append(e)
            node = e.b if e.a == node else e.a
        return steps[::-1]

    def to_dict(self) -> dict:
        return {
            "profile_id": self.profile_id,
            "identifiers": [{"kind": k, "key": v} for k, v in self.identifiers],
            "edges": [e.to_dict() for e in self.edges],
            "set_aside": [e.to_dict() for e in self.set_aside],
            "shared": [{"kind": k, "key": v} for k, v in self.shared],
        }

    def render(self) -> str:
        """A plain-text account a person can read."""
        lines = [f"profile {self.profile_id}: {len(self.identifiers)} identifiers"]
        for kind, key in self.identifiers:
            lines.append(f"  {kind:<14} {key}")
        lines.append(f"joined by {len(self.edges)} edges:")
        for e in self.edges:
            lines.append(f"  {e.a[0]} {e.a[1]} -- {e.b[0]} {e.b[1]}  [{e.rule}] seen in {e.evidence}")
        if self.set_aside:
            lines.append(f"set aside ({len(self.set_aside)} edges a guard did not use):")
            for e in self.set_aside:
                lines.append(f"  {e.a[0]} {e.a[1]} -- {e.b[0]} {e.b[1]}  [{e.rule}] seen in {e.evidence}")
        if self.shared:
            lines.append("shared identifiers seen with this profile (they merge nobody):")
            for kind, key in self.shared:
                lines.append(f"  {kind:<14} {key}")
        return "\n".join(lines)


def explain(warehouse: Warehouse, profile_id: str) -> Explanation:
    """The identifiers of ``profile_id`` and the evidence that joined them."""
    imap = warehouse.table("identity_map")
    members = warehouse.execute(imap.filter(imap.profile_id == profile_id).select("kind", "key", "is_shared"))
    if members.empty:
        raise ProfileNotFoundError(
            f"no profile {profile_id!r} in identity_map: run `jingzhun build` first, or look the id up with "
            "profile_for(warehouse, kind, key)"
        )
    ids = sorted((str(k), str(v)) for k, v in zip(members.kind, members.key))
    node = lambda kind, key: kind + ":" + key  # noqa: E731
    member_nodes = ibis.memtable({"m": [node(k, v) for k, v in ids]})
    edges_t = warehouse.table("identity_edges")
    with_nodes = edges_t.mutate(na=edges_t.kind_a + ":" + edges_t.key_a, nb=edges_t.kind_b + ":" + edges_t.key_b)
    touching = with_nodes.filter(with_nodes.na.isin(member_nodes.m) | with_nodes.nb.isin(member_nodes.m))
    rows = warehouse.execute(touching.select("kind_a", "key_a", "kind_b", "key_b", "evidence", "rule", "used"))
    mine = set(ids)
    inside, aside, others = [], [], set()
    for r in rows.itertuples(index=False):
        e = Edge((r.kind_a, r.key_a), (r.kind_b, r.key_b), r.evidence, r.rule, bool(r.used))
        if e.used and e.a in mine and e.b in mine:
            inside.append(e)
        else:
            aside.append(e)
            others.update(n for n in (e.a, e.b) if n not in mine)
    shared: list[Node] = []
    if others:
        probe = ibis.memtable({"o": sorted(node(k, v) for k, v in others)})
        with_node = imap.mutate(n=imap.kind + ":" + imap.key)
        found = warehouse.execute(with_node.filter(with_node.is_shared & with_node.n.isin(probe.o)).select("kind", "key"))
        shared = sorted((str(k), str(v)) for k, v in zip(found.kind, found.key))
    order = lambda e: (e.a, e.b, e.rule)  # noqa: E731
    return Explanation(profile_id=profile_id, identifiers=tuple(ids), edges=tuple(sorted(inside, key=order)),
                       set_aside=tuple(sorted(aside, key=order)), shared=tuple(shared))


def profile_for(warehouse: Warehouse, kind: str, key: str) -> str | None:
    """The profile id of one identifier (its pseudonymous key: see jingzhun.privacy.key_for), or None."""
    if kind not in IDENTIFIER_KINDS:
        raise ValueError(f"unknown identifier kind {kind!r}; the kinds are {', '.join(IDENTIFIER_KINDS)}")
    imap = warehouse.table("identity_map")
    got = warehouse.execute(imap.filter((imap.kind == kind) & (imap.key == key)).select("profile_id").limit(1))
    return None if got.empty else str(got.profile_id.iloc[0])
