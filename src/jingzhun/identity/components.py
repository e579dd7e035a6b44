"""Connected components of an undirected graph, in Ibis, by min-label propagation with shortcuts.

Every node starts with a label: itself, or a seed label (the smallest node of a component found
earlier on a subgraph). Each round does three things, all as joins and group-bys that run the same on
DuckDB and PySpark:

1. **propagate**: a node takes the smallest label among its own and its neighbours';
2. **hook**: the node a label names takes the smallest label any of its followers reached, so a whole
   tree of followers moves at once, not one hop per round;
3. **jump**: a node takes the label of its label (pointer jumping), which halves path lengths.

Labels only ever decrease and always name a node of the same component, so the process stops at the
smallest node of each component. With hooking and jumping the number of rounds grows like the
logarithm of a component's diameter rather than the diameter itself. Each round is materialised with
``warehouse.stage`` so the expressions stay shallow, and the rounds are bounded: a graph that has not
settled after ``max_iterations`` rounds raises :class:`ConvergenceError`.

Node ids are strings; the "smallest" is the byte-wise smallest, the same on both engines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from jingzhun.errors import ConvergenceError
from jingzhun.warehouse import Warehouse

__all__ = ["ConvergenceError", "Components", "connected_components", "Scratch"]

log = logging.getLogger(__name__)


class Scratch:
    """The staging tables one computation creates, dropped together when it is done."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self._names: list[str] = []

    def stage(self, expr: ir.Table) -> ir.Table:
        t = self.warehouse.stage(expr)
        self._names.append(t.get_name())
        return t

    def drop(self, t: ir.Table) -> None:
        name = t.get_name()
        if name in self._names:
            self._names.remove(name)
            self.warehouse.drop_stage(name)

    def drop_all(self) -> None:
        while self._names:
            name = self._names.pop()
            self.warehouse.drop_stage(name)


@dataclass(frozen=True)
class Components:
    labels: ir.Table  # node, label: one row per node that appears in an edge
    rounds: int


def connected_components(scratch: Scratch, edges: ir.Table, *, seed: ir.Table | None = None,
                         max_iterations: int = 64, what: str = "graph") -> Components:
    """Label every node of ``edges`` (columns ``a``, ``b``) with the smallest node of its component.

    ``seed`` (columns ``node``, ``label``) may give starting labels: each must be the smallest node of a
    connected part of this graph (for example, components of a subgraph), which lets a second pass over
    a slightly larger graph finish in a round or two.
    """
    pairs = edges.select(a="a", b="b").filter(lambda t: t.a != t.b)
    directed = scratch.stage(
        ibis.union(pairs.select(src=pairs.a, dst=pairs.b), pairs.select(src=pairs.b, dst=pairs.a)).distinct()
    )
    nodes = directed.select(node=directed.src).distinct()
    if seed is not None:
        s = seed.select(s_node="node", s_label="label")
        nodes = nodes.left_join(s, nodes.node == s.s_node).select(
            "node", label=ibis.least(ibis.coalesce(ibis._.s_label, ibis._.node), ibis._.node)
        )
    else:
        nodes = nodes.select("node", label=nodes.node)
    labels = scratch.stage(nodes)
    for rounds in range(1, max_iterations + 1):
        new = scratch.stage(_round(directed, labels))
        changed = _changed(scratch.warehouse, labels, new)
        scratch.drop(labels)
        labels = new
        log.debug("%s: round %d, %d labels changed", what, rounds, changed)
        if changed == 0:
            scratch.drop(directed)
            return Components(labels=labels, rounds=rounds)
    raise ConvergenceError(
        f"connected components of the {what} did not settle within {max_iterations} rounds; raise "
        "identity.max_iterations in jingzhun.yaml if the graph really has components this long"
    )


def _round(directed: ir.Table, labels: ir.Table) -> ir.Table:
    # Every derived table is re-rooted with .view() before it is joined again: Ibis flattens chains of
    # joins, and a table joined to something computed from itself must be a distinct relation.
    # 1. propagate: the smallest label among a node's neighbours
    lab = labels.view().select(n_node="node", n_label="label")
    reached = directed.join(lab, directed.src == lab.n_node).group_by(r_node=ibis._.dst).aggregate(
        m=ibis._.n_label.min()
    ).view()
    base = labels.view()
    step1 = base.left_join(reached, base.node == reached.r_node).select(
        node=base.node, old=base.label, label=ibis.least(base.label, ibis.coalesce(reached.m, base.label))
    ).view()
    # 2. hook: the node named by an old label takes the smallest label its followers reached
    s1 = step1.view()
    hooks = s1.group_by(h_node=s1.old).aggregate(h=s1.label.min()).view()
    step2 = step1.left_join(hooks, step1.node == hooks.h_node).select(
        node=step1.node, label=ibis.least(step1.label, ibis.coalesce(hooks.h, step1.label))
    ).view()
    # 3. jump: the label of the label
    ptr = step2.view().select(p_node="node", p_label="label")
    return step2.left_join(ptr, step2.label == ptr.p_node).select(
        node=step2.node, label=ibis.least(step2.label, ibis.coalesce(ptr.p_label, step2.label))
    )


def _changed(warehouse: Warehouse, old: ir.Table, new: ir.Table) -> int:
    o = old.select(o_node="node", o_label="label")
    joined = new.join(o, new.node == o.o_node)
    return int(warehouse.execute(joined.filter(joined.label != joined.o_label).count()))
