"""The identity graph's nodes and deterministic edges, read from the source tables.

A node is an identifier: its kind and its pseudonymous key, written as one string ``"kind:key"`` (the
node id). Node ids compare byte-wise, the same on DuckDB and Spark, and the smallest node id of a
component names it.

**Observations.** Each row that shows identifiers together (a customer record, an order, an event
message) is an observation, with its evidence string:

* ``customers:<source>/<record_id>``: every identifier on the record;
* ``orders:<source>/<order_id>``: the buyer's identifiers on the order;
* ``events:<message_id>``: by message type (``EVENT_COLUMNS``): identify links user_id, anonymous_id,
  email, phone and device_id; alias links previous_id (a user id) with user_id and anonymous_id;
  track, page and screen link user_id, anonymous_id and device_id; group links user_id and
  anonymous_id.

Rows carrying the quality flag ``bot`` are not observations: they prove nothing about people.

**Edges.** Every pair of identifiers in one observation is an edge (a clique per row, not a star
around one of its identifiers). A row carries at most eight identifiers, so at most 28 pairs, and a
clique has one property the guards need: when one identifier of the row is set aside as shared, the
others stay linked to each other through their own edges. Edges are deduplicated to one row per pair
per rule, keeping the smallest evidence string as the example.

**Nodes** are every identifier in ``customers``, ``orders``, ``events`` and ``consents``, bot-flagged
rows included, so that every identifier in the warehouse has a row in ``identity_map``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from jingzhun.schema.tables import CUSTOMER_IDENTIFIERS, IDENTIFIER_KINDS
from jingzhun.warehouse import Warehouse

__all__ = [
    "STRONG_KINDS", "WEAK_KINDS", "EVENT_COLUMNS", "ORDER_IDENTIFIERS", "CONSENT_IDENTIFIERS",
    "DETERMINISTIC", "node_id", "is_bot", "observations", "nodes", "deterministic_edges", "undirected",
]

# Strong kinds name one person (an account, a CRM number, a card, an e-mail, a phone, a WeChat openid);
# weak kinds name a browser or a device, which people share. See docs/identity.md.
STRONG_KINDS: tuple[str, ...] = ("crm_id", "user_id", "loyalty_card", "wechat_openid", "email", "phone")
WEAK_KINDS: tuple[str, ...] = ("anonymous_id", "device_id")
assert set(STRONG_KINDS) | set(WEAK_KINDS) == set(IDENTIFIER_KINDS)

ORDER_IDENTIFIERS: tuple[str, ...] = ("user_id", "crm_id", "loyalty_card", "email", "phone", "anonymous_id")
CONSENT_IDENTIFIERS: tuple[str, ...] = ("user_id", "email", "phone", "wechat_openid", "device_id")

# events column -> (identifier kind, message types whose observations include it)
_ALL_TYPES = ("identify", "alias", "track", "page", "screen", "group")
EVENT_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "user_id": ("user_id", _ALL_TYPES),
    "anonymous_id": ("anonymous_id", _ALL_TYPES),
    "previous_id": ("user_id", ("alias",)),
    "email": ("email", ("identify",)),
    "phone": ("phone", ("identify",)),
    "device_id": ("device_id", ("identify", "track", "page", "screen")),
}

DETERMINISTIC = "deterministic"


def node_id(kind: ir.StringValue | str, key: ir.StringValue) -> ir.StringValue:
    """The node id ``kind:key`` (callers make sure ``key`` is not null)."""
    kind = ibis.literal(kind) if isinstance(kind, str) else kind
    return kind + ":" + key


def is_bot(t: ir.Table) -> ir.BooleanValue:
    """True for rows flagged ``bot`` in their comma-separated ``quality_flags``."""
    flags = ibis.literal(",") + t.quality_flags.fill_null("") + ","
    return flags.contains(",bot,")


def _present(col: ir.StringValue) -> ir.BooleanValue:
    return col.notnull() & (col != "")


def _sources(warehouse: Warehouse) -> list[tuple[str, ir.Table, ir.StringValue, dict[str, tuple[str, tuple | None]]]]:
    """(table name, table, evidence expression, column -> (kind, event types or None))."""
    cus = warehouse.table("customers")
    ords = warehouse.table("orders")
    evs = warehouse.table("events")
    return [
        ("customers", cus, ibis.literal("customers:") + cus.source + "/" + cus.record_id,
         {c: (c, None) for c in CUSTOMER_IDENTIFIERS}),
        ("orders", ords, ibis.literal("orders:") + ords.source + "/" + ords.order_id,
         {c: (c, None) for c in ORDER_IDENTIFIERS}),
        ("events", evs, ibis.literal("events:") + evs.message_id, dict(EVENT_COLUMNS)),
    ]


_TIME = {"orders": "ordered_at", "events": "timestamp"}


def observations(warehouse: Warehouse, *, tables: tuple[str, ...] = ("customers", "orders", "events"),
                 with_time: bool = False) -> ir.Table:
    """One row per (observation, identifier) from rows not flagged bot: evidence, kind, key, node.

    ``with_time`` adds ``seen_at``: the order's or event's time (null for customer records).
    """
    parts = []
    for name, t, evidence, columns in _sources(warehouse):
        if name not in tables:
            continue
        clean = t.filter(~is_bot(t)).mutate(_evidence=evidence)
        for col, (kind, types) in columns.items():
            keep = _present(clean[col])
            if types is not None:
                keep = keep & clean.type.isin(types)
            cols = {"evidence": clean._evidence, "kind": ibis.literal(kind), "key": clean[col],
                    "node": node_id(kind, clean[col])}
            if with_time:
                cols["seen_at"] = clean[_TIME[name]] if name in _TIME else ibis.null("timestamp('UTC')")
            parts.append(clean.filter(keep).select(**cols))
    return ibis.union(*parts, distinct=True)


def nodes(warehouse: Warehouse) -> ir.Table:
    """Every identifier in the source tables (bot rows included): node, kind, key."""
    parts = []
    for _, t, _, columns in _sources(warehouse):
        for col, (kind, _types) in columns.items():
            parts.append(t.filter(_present(t[col])).select(kind=ibis.literal(kind), key=t[col]))
    consents = warehouse.table("consents")
    for col in CONSENT_IDENTIFIERS:
        parts.append(consents.filter(_present(consents[col])).select(kind=ibis.literal(col), key=consents[col]))
    every = ibis.union(*parts, distinct=True)
    return every.select(node=node_id(every.kind, every.key), kind=every.kind, key=every.key)


def deterministic_edges(observed: ir.Table) -> ir.Table:
    """Every pair of identifiers seen in one observation, one row per pair (a < b by node id).

    Columns: a, b, kind_a, key_a, kind_b, key_b, evidence (the smallest example), rule.
    """
    left = observed.view().select(evidence="evidence", a="node", kind_a="kind", key_a="key")
    right = observed.view().select(r_evidence="evidence", b="node", kind_b="kind", key_b="key")
    pairs = left.join(right, left.evidence == right.r_evidence).filter(lambda t: t.a < t.b)
    grouped = pairs.group_by("a", "b", "kind_a", "key_a", "kind_b", "key_b").aggregate(
        evidence=pairs.evidence.min()
    )
    return grouped.mutate(rule=ibis.literal(DETERMINISTIC))


def undirected(edges: ir.Table) -> ir.Table:
    """Both directions of each edge: x, kind_x, y, kind_y."""
    return ibis.union(
        edges.select(x=edges.a, kind_x=edges.kind_a, y=edges.b, kind_y=edges.kind_b),
        edges.select(x=edges.b, kind_x=edges.kind_b, y=edges.a, kind_y=edges.kind_a),
        distinct=False,
    )
