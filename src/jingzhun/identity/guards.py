"""Guards against over-merging: which identifiers are shared, and how weak identifiers attach.

Two guards, explained with their reasons in docs/identity.md:

1. **Degree guard** (any kind). An identifier is a *candidate* when it touches more than ``limit``
   distinct identifiers of some one kind: of a strong kind for a strong identifier (an account with
   forty cookies is an ordinary customer; cookies attach to one person at most, see 2), of any kind for
   a weak one. A candidate is *shared* when those neighbours still belong
   to more than ``limit`` distinct people once the candidates are taken out of the graph: strong
   neighbours are counted by their strong component (components of strong-strong edges without the
   candidates), weak neighbours by the one strong component they touch (or as themselves). So a
   person's e-mail seen with seven of their own user ids, all tied together by their CRM number, is
   not shared, while none@none.com on twenty unrelated records is.
2. **Weak attachment**. Devices and anonymous ids are weak: people share them. A weak identifier
   joins a person only when it touches exactly one strong cluster (components of the strong edges,
   matching edges included). Touching two or more makes it shared: a household tablet used by two
   people merges neither. A weak identifier touching no strong identifier joins the others it is seen
   with; such a weak group joins a person when its anchored weak neighbours all belong to that one
   person, stays an anonymous profile of its own when it has none, and is set aside as shared when
   they belong to several people (it cannot be attributed).

The result labels every non-shared node with the smallest node of its profile and flags the shared
ones. By construction no profile ever holds two strong clusters, and the profiles are exactly the
connected components of the edges that join two nodes with the same label.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from jingzhun.identity.components import Scratch, connected_components
from jingzhun.identity.graph import STRONG_KINDS, WEAK_KINDS

__all__ = ["DegreeGuard", "Attachment", "degree_guard", "strong_edges", "attach"]


@dataclass(frozen=True)
class DegreeGuard:
    shared: ir.Table  # node
    seed: ir.Table | None  # node, label: strong components without the candidates (to warm-start later)
    candidates: int
    rounds: int


@dataclass(frozen=True)
class Attachment:
    nodes: ir.Table  # node, kind, key, label, is_shared: every node
    rounds: int


def _one_col(t: ir.Table, col: str, name: str = "node") -> ir.Table:
    return t.select(**{name: t[col]}).distinct().view()


def strong_edges(edges: ir.Table, shared: ir.Table) -> ir.Table:
    """Strong-strong edges (a, b) between identifiers that are not in ``shared``."""
    e = edges.filter(edges.kind_a.isin(STRONG_KINDS) & edges.kind_b.isin(STRONG_KINDS)).view()
    s1 = shared.view()
    e = e.anti_join(s1, e.a == s1.node).view()
    s2 = shared.view()
    e = e.anti_join(s2, e.b == s2.node)
    return e.select("a", "b")


def degree_guard(scratch: Scratch, edges: ir.Table, directed: ir.Table, *, limit: int,
                 max_iterations: int) -> DegreeGuard:
    """The identifiers that touch more than ``limit`` people of one kind (see the module docstring)."""
    wh = scratch.warehouse
    # a strong identifier is judged by the strong identifiers it touches (it may carry any number of
    # cookies and devices: those attach to one person at most anyway); a weak one by everything
    judged = directed.filter(directed.kind_x.isin(WEAK_KINDS) | directed.kind_y.isin(STRONG_KINDS)).view()
    raw = judged.group_by("x", "kind_y").aggregate(n=judged.y.nunique())
    cand = scratch.stage(_one_col(raw.filter(raw.n > limit), "x"))
    n_cand = int(wh.execute(cand.count()))
    if n_cand == 0:
        return DegreeGuard(shared=cand, seed=None, candidates=0, rounds=0)
    comps = connected_components(scratch, strong_edges(edges, cand), max_iterations=max_iterations,
                                 what="strong graph without candidates")
    lab = comps.labels.select(l_node="node", l_label="label").view()
    # the one strong component each weak identifier touches, if only one
    w = directed.filter(directed.kind_x.isin(WEAK_KINDS) & directed.kind_y.isin(STRONG_KINDS)).view()
    c1 = cand.view()
    w = w.anti_join(c1, w.y == c1.node).view()
    w = w.left_join(lab, w.y == lab.l_node).select(x=w.x, label=ibis.coalesce(lab.l_label, w.y)).view()
    anchor = w.group_by(a_node=w.x).aggregate(n=w.label.nunique(), a_label=w.label.min())
    anchor = anchor.filter(anchor.n == 1).select("a_node", "a_label").view()
    # the candidates' neighbours, each counted as the person it belongs to
    c2 = cand.view()
    cd = judged.view()
    cd = cd.semi_join(c2, cd.x == c2.node).view()
    lab2 = lab.view()
    cd = cd.left_join(lab2, cd.y == lab2.l_node).left_join(anchor, cd.y == anchor.a_node).select(
        x=cd.x, kind_y=cd.kind_y, who=ibis.coalesce(lab2.l_label, anchor.a_label, cd.y)
    ).view()
    people = cd.group_by("x", "kind_y").aggregate(n=cd.who.nunique())
    shared = scratch.stage(_one_col(people.filter(people.n > limit), "x"))
    return DegreeGuard(shared=shared, seed=comps.labels, candidates=n_cand, rounds=comps.rounds)


def attach(scratch: Scratch, nodes: ir.Table, edges: ir.Table, directed: ir.Table, strong_labels: ir.Table | None,
           shared: ir.Table, *, max_iterations: int) -> Attachment:
    """Label every node with its profile's smallest node, flagging the shared (see the module docstring)."""
    if strong_labels is None:
        strong_labels = nodes.filter(ibis.literal(False)).select(node="node", label="node")
    sl = strong_labels.select(s_node="node", s_label="label").view()

    # weak identifiers and the strong clusters they touch directly
    ws = directed.filter(directed.kind_x.isin(WEAK_KINDS) & directed.kind_y.isin(STRONG_KINDS)).view()
    sh1 = shared.view()
    ws = ws.anti_join(sh1, ws.x == sh1.node).view()
    sh2 = shared.view()
    ws = ws.anti_join(sh2, ws.y == sh2.node).view()
    ws = ws.left_join(sl, ws.y == sl.s_node).select(x=ws.x, label=ibis.coalesce(sl.s_label, ws.y)).view()
    touched = scratch.stage(ws.group_by(node=ws.x).aggregate(n=ws.label.nunique(), label=ws.label.min()))
    t1 = touched.view()
    many = t1.filter(t1.n > 1).select("node")
    anchored = touched.view().filter(lambda t: t.n == 1).select(w_node="node", w_label="label").view()

    # weak identifiers touching no strong one: their own weak groups
    weak = nodes.filter(nodes.kind.isin(WEAK_KINDS)).select("node").view()
    sh3 = shared.view()
    weak = weak.anti_join(sh3, weak.node == sh3.node).view()
    t2 = touched.view()
    loose = scratch.stage(weak.anti_join(t2, weak.node == t2.node).select("node"))
    ww = edges.filter(edges.kind_a.isin(WEAK_KINDS) & edges.kind_b.isin(WEAK_KINDS)).view()
    l1 = loose.view()
    ww = ww.semi_join(l1, ww.a == l1.node).view()
    l2 = loose.view()
    ww = ww.semi_join(l2, ww.b == l2.node).select("a", "b")
    groups = connected_components(scratch, ww, max_iterations=max_iterations, what="weak graph")
    g = groups.labels.select(g_node="node", g_label="label").view()
    l3 = loose.view()
    loose_groups = scratch.stage(
        l3.left_join(g, l3.node == g.g_node).select(node=l3.node, group=ibis.coalesce(g.g_label, l3.node))
    )
    # the people a loose group's anchored weak neighbours belong to
    cross = directed.filter(directed.kind_x.isin(WEAK_KINDS) & directed.kind_y.isin(WEAK_KINDS)).view()
    lg = loose_groups.view()
    cross = cross.join(lg, cross.x == lg.node).select(group=lg.group, y=cross.y).view()
    an = anchored.view()
    cross = cross.join(an, cross.y == an.w_node).select(group=cross.group, label=an.w_label).view()
    verdict = cross.group_by(v_group="group").aggregate(n=cross.label.nunique(), v_label=cross.label.min()).view()
    lg2 = loose_groups.view()
    loose_final = lg2.left_join(verdict, lg2.group == verdict.v_group).select(
        node=lg2.node,
        label=ibis.ifelse(verdict.n.fill_null(0) == 1, verdict.v_label, lg2.group),
        is_shared=verdict.n.fill_null(0) > 1,
    )

    strong = nodes.filter(nodes.kind.isin(STRONG_KINDS)).select("node").view()
    sh4 = shared.view()
    strong = strong.anti_join(sh4, strong.node == sh4.node).view()
    sl2 = sl.view()
    strong_final = strong.left_join(sl2, strong.node == sl2.s_node).select(
        node=strong.node, label=ibis.coalesce(sl2.s_label, strong.node), is_shared=ibis.literal(False)
    )
    an2 = anchored.view()
    anchored_final = an2.select(node=an2.w_node, label=an2.w_label, is_shared=ibis.literal(False))
    sh5 = shared.view()
    shared_final = ibis.union(sh5.select("node"), many, distinct=True).select(
        "node", label=ibis._.node, is_shared=ibis.literal(True)
    )
    every = ibis.union(strong_final, anchored_final, loose_final, shared_final, distinct=False).view()
    nd = nodes.view()
    labelled = nd.join(every, nd.node == every.node).select(
        node=nd.node, kind=nd.kind, key=nd.key, label=ibis.ifelse(every.is_shared, nd.node, every.label),
        is_shared=every.is_shared,
    )
    return Attachment(nodes=labelled, rounds=groups.rounds)
