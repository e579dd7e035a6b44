"""Resolve identities: rebuild identity_edges, identity_map and profiles from the source tables.

Steps (each timed in :attr:`IdentityResult.seconds`):

1. ``graph``: nodes, observations and deterministic edges (:mod:`jingzhun.identity.graph`);
2. ``guards``: the degree guard marks shared identifiers (:mod:`jingzhun.identity.guards`);
3. ``matching``: the probabilistic rules link records with no shared identifier
   (:mod:`jingzhun.identity.matching`);
4. ``components``: connected components of the strong edges, then the weak identifiers attach
   (:mod:`jingzhun.identity.components`, :func:`jingzhun.identity.guards.attach`);
5. ``profile_ids``: stable profile ids (below);
6. ``write``: the three tables, replaced in one transaction.

**Stable profile ids.** A new component's id is ``"p"`` + the first 20 hex digits of SHA-256 of its
smallest node id. When the warehouse already has an identity_map, each previous profile id goes to the
component that now holds most of its former identifiers (ties: the smallest component), and each
component keeps, of the previous ids it won, the one held by most of its identifiers (ties: the
smallest id). So a person's id survives a rebuild when nothing about them changed, a merge keeps the
larger side's id, and a split leaves the id with the larger part. A fresh id that happens to equal a
kept one (the smaller part of a split whose smallest node named the old profile) is derived again
from ``"<smallest node>|split"``. Shared identifiers get ``"s"`` + 20 hex digits of their own node
id: they are nobody's profile and have no row in ``profiles``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import asdict, dataclass, field

import ibis
import ibis.expr.types as ir

from jingzhun.config import IdentitySettings
from jingzhun.errors import JingzhunError
from jingzhun.identity import graph
from jingzhun.identity.components import Scratch, connected_components
from jingzhun.identity.guards import attach, degree_guard, strong_edges
from jingzhun.identity.matching import DEFAULT_RULES, MatchRule, match_edges, representatives
from jingzhun.warehouse import Warehouse

__all__ = ["IdentityResult", "resolve", "profile_id_expr"]

log = logging.getLogger(__name__)

_ID_DIGITS = 20


@dataclass
class IdentityResult:
    """What a resolve found. ``components`` and ``profiles`` are the same number (people found)."""

    identifiers: int
    profiles: int
    shared: int
    edges: int
    edges_used: int
    edges_set_aside: int
    matched_edges: int
    candidates: int
    rounds: int
    profile_ids_kept: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def components(self) -> int:
        return self.profiles

    def to_dict(self) -> dict:
        return {**asdict(self), "components": self.profiles}


def profile_id_expr(smallest_node: ir.StringValue, prefix: str = "p") -> ir.StringValue:
    """``prefix`` + the first 20 hex digits of SHA-256 of a node id (identical on every engine)."""
    return ibis.literal(prefix) + smallest_node.hexdigest("sha256").substr(0, _ID_DIGITS)


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, step: str):
        t0 = time.perf_counter()
        yield
        self.seconds[step] = round(time.perf_counter() - t0, 3)
        log.info("identity %s: %.2fs", step, self.seconds[step])


def resolve(warehouse: Warehouse, settings: IdentitySettings = IdentitySettings(), *,
            rules: tuple[MatchRule, ...] = DEFAULT_RULES) -> IdentityResult:
    """Rebuild identity_edges, identity_map and profiles from customers, orders, events and consents."""
    timer = _Timer()
    scratch = Scratch(warehouse)
    limit = settings.max_profiles_per_identifier
    count = lambda t: int(warehouse.execute(t.count()))  # noqa: E731
    try:
        with warehouse.transaction():
            with timer("graph"):
                nodes = scratch.stage(graph.nodes(warehouse))
                obs = scratch.stage(graph.observations(warehouse))
                det = scratch.stage(graph.deterministic_edges(obs))
                directed = scratch.stage(graph.undirected(det))
            with timer("guards"):
                guard = degree_guard(scratch, det, directed, limit=limit, max_iterations=settings.max_iterations)
            with timer("matching"):
                cust_obs = obs.filter(obs.evidence.startswith("customers:"))
                reps = scratch.stage(representatives(cust_obs, guard.shared))
                matched = match_edges(warehouse, reps, rules, max_block=limit)
                matched = scratch.stage(matched) if matched is not None else None
            with timer("components"):
                strong = strong_edges(det, guard.shared)
                if matched is not None:
                    strong = ibis.union(strong, matched.select("a", "b"), distinct=False)
                comps = connected_components(scratch, strong, seed=guard.seed, max_iterations=settings.max_iterations,
                                             what="strong graph")
                att = attach(scratch, nodes, det, directed, comps.labels, guard.shared,
                             max_iterations=settings.max_iterations)
                labelled = scratch.stage(att.nodes)
            with timer("profile_ids"):
                previous = warehouse.table("identity_map") if warehouse.count("identity_map") else None
                ids = _stable_ids(scratch, labelled, previous)
                imap = scratch.stage(_identity_map(labelled, ids))
                kept = 0 if previous is None else count(ids.filter(ids.kept))
                _check_unique(warehouse, ids, imap)
            with timer("write"):
                all_edges = det if matched is None else ibis.union(det, matched.select(*det.columns), distinct=False)
                edges_out = scratch.stage(_edges_out(all_edges, labelled))
                profiles = scratch.stage(_profiles(warehouse, imap, cust_obs))
                warehouse.replace("identity_edges", edges_out)
                warehouse.replace("identity_map", imap.select("kind", "key", "profile_id", "is_shared"))
                warehouse.replace("profiles", profiles)
            n_used = count(edges_out.filter(edges_out.used))
            n_edges = count(edges_out)
            result = IdentityResult(
                identifiers=count(imap),
                profiles=count(profiles),
                shared=count(imap.filter(imap.is_shared)),
                edges=n_edges,
                edges_used=n_used,
                edges_set_aside=n_edges - n_used,
                matched_edges=0 if matched is None else count(matched),
                candidates=guard.candidates,
                rounds=guard.rounds + comps.rounds + att.rounds,
                profile_ids_kept=kept,
            )
    finally:
        scratch.drop_all()
    result.seconds = timer.seconds
    log.info("identity resolved: %s", result.to_dict())
    return result


def _stable_ids(scratch: Scratch, labelled: ir.Table, previous: ir.Table | None) -> ir.Table:
    """label -> profile_id (and whether it was kept from the previous map) for every component."""
    comp = labelled.filter(~labelled.is_shared).select("node", "label").view()
    labels = comp.select("label").distinct().view()
    if previous is None:
        return scratch.stage(labels.select(
            "label", profile_id=profile_id_expr(labels.label), kept=ibis.literal(False)
        ))
    prev = previous.filter(~previous.is_shared)
    prev = prev.select(p_node=graph.node_id(prev.kind, prev.key), prev_id=prev.profile_id).view()
    votes = comp.join(prev, comp.node == prev.p_node).group_by("label", "prev_id").aggregate(n=ibis._.count())
    votes = scratch.stage(votes)
    # each previous id goes to the component holding most of its former identifiers
    by_prev = ibis.window(group_by=votes.prev_id, order_by=[ibis.desc(votes.n), votes.label])
    won = votes.mutate(r=ibis.row_number().over(by_prev)).filter(lambda t: t.r == 0).view()
    # each component keeps the previous id it holds most of
    by_label = ibis.window(group_by=won.label, order_by=[ibis.desc(won.n), won.prev_id])
    keep = won.mutate(r2=ibis.row_number().over(by_label)).filter(lambda t: t.r2 == 0)
    keep = scratch.stage(keep.select(k_label="label", k_id="prev_id"))
    k1 = keep.view()
    unkept = labels.anti_join(k1, labels.label == k1.k_label).view()
    fresh = unkept.select("label", candidate=profile_id_expr(unkept.label)).view()
    k2 = keep.view()
    fresh = fresh.left_join(k2, fresh.candidate == k2.k_id).select(
        label=fresh.label,
        profile_id=ibis.ifelse(k2.k_id.isnull(), fresh.candidate, profile_id_expr(fresh.label + "|split")),
        kept=ibis.literal(False),
    )
    k3 = keep.view()
    return scratch.stage(ibis.union(
        k3.select(label=k3.k_label, profile_id=k3.k_id, kept=ibis.literal(True)), fresh, distinct=False
    ))


def _identity_map(labelled: ir.Table, ids: ir.Table) -> ir.Table:
    lab = labelled.view()
    i = ids.view()
    joined = lab.left_join(i, lab.label == i.label)
    return joined.select(
        node=lab.node, kind=lab.kind, key=lab.key,
        profile_id=ibis.ifelse(lab.is_shared, profile_id_expr(lab.node, "s"), i.profile_id),
        is_shared=lab.is_shared,
    )


def _check_unique(warehouse: Warehouse, ids: ir.Table, imap: ir.Table) -> None:
    """Every component has its own profile id and every identifier has one."""
    n_labels = int(warehouse.execute(ids.count()))
    n_ids = int(warehouse.execute(ids.profile_id.nunique()))
    missing = int(warehouse.execute(imap.filter(imap.profile_id.isnull()).count()))
    if n_labels != n_ids or missing:  # pragma: no cover - would be a bug
        raise JingzhunError(
            f"identity resolution gave {n_labels} components {n_ids} profile ids and left {missing} "
            "identifiers without one; please report this as a bug with the identity_edges table"
        )


def _edges_out(edges: ir.Table, labelled: ir.Table) -> ir.Table:
    la = labelled.select(la_node="node", la="label", sa="is_shared").view()
    lb = labelled.select(lb_node="node", lb="label", sb="is_shared").view()
    e = edges.view()
    joined = e.join(la, e.a == la.la_node).join(lb, e.b == lb.lb_node)
    return joined.select(
        kind_a=e.kind_a, key_a=e.key_a, kind_b=e.kind_b, key_b=e.key_b, evidence=e.evidence, rule=e.rule,
        used=~la.sa & ~lb.sb & (la.la == lb.lb),
    )


def _profiles(warehouse: Warehouse, imap: ir.Table, cust_obs: ir.Table) -> ir.Table:
    members = imap.filter(~imap.is_shared).select(m_node="node", profile_id="profile_id").view()
    counts = members.group_by("profile_id").aggregate(n_identifiers=ibis._.count()).view()
    recs = cust_obs.view()
    m1 = members.view()
    rec_profile = recs.join(m1, recs.node == m1.m_node).group_by("evidence").aggregate(
        r_pid=ibis._.profile_id.min()
    )
    records = rec_profile.group_by("r_pid").aggregate(n_records=ibis._.count()).view()
    seen = graph.observations(warehouse, tables=("orders", "events"), with_time=True).view()
    m2 = members.view()
    seen = seen.join(m2, seen.node == m2.m_node).group_by(s_pid=m2.profile_id).aggregate(
        first_seen_at=ibis._.seen_at.min(), last_seen_at=ibis._.seen_at.max()
    ).view()
    joined = counts.left_join(records, counts.profile_id == records.r_pid).left_join(
        seen, counts.profile_id == seen.s_pid
    )
    return joined.select(
        profile_id=counts.profile_id,
        n_identifiers=counts.n_identifiers.cast("int64"),
        n_records=records.n_records.fill_null(0).cast("int64"),
        first_seen_at=seen.first_seen_at,
        last_seen_at=seen.last_seen_at,
    )
