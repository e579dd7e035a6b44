"""Cross-table checks after a load: rows that point at something the warehouse does not have.

Orphans are reported, never deleted: an order line may arrive before its order, a store list may be
loaded later. Each check is a :class:`RuleCount` whose ``checked`` is the rows examined and whose
``flagged`` is the orphans among them.

* ``orphan_order_lines``: order lines whose (source, order_id) has no order.
* ``orphan_order_stores``: orders whose store_id is in no ``stores`` row (any source); only when
  some stores are loaded.
* ``orphan_order_products``: order lines whose (source, product_id) is in no ``products`` row of the
  same source; only for sources that loaded products at all.
* ``orphan_order_customers``: orders with a crm_id or user_id where neither appears in a
  ``customers`` record of the same source; only for sources that loaded customers.

Identifier columns hold pseudonymous keys, computed the same way in every table, so they compare
directly.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.quality.rules import RuleCount

__all__ = ["REFERENCE_CHECKS", "check_references"]

REFERENCE_CHECKS = {
    "orphan_order_lines": "order lines whose order is not in orders",
    "orphan_order_stores": "orders whose store_id is in no stores row",
    "orphan_order_products": "order lines whose product is not in the products of their source",
    "orphan_order_customers": "orders whose crm_id/user_id is in no customers record of their source",
}


def _of(t: ir.Table, source: str | None) -> ir.Table:
    return t if source is None else t.filter(t.source == source)


def _pair(checked: ir.Table, orphans: ir.Table) -> dict[str, ir.Scalar]:
    return {"checked": checked.count(), "orphans": orphans.count()}


def _queries(warehouse, source: str | None) -> dict[str, dict[str, ir.Scalar]]:
    lines = _of(warehouse.table("order_lines"), source)
    orders_all = warehouse.table("orders")
    orders = _of(orders_all, source)
    stores = warehouse.table("stores")
    products = warehouse.table("products")
    customers = warehouse.table("customers")
    out: dict[str, dict[str, ir.Scalar]] = {}

    known_orders = orders_all.select("source", "order_id").distinct()
    out["orphan_order_lines"] = _pair(lines, lines.anti_join(known_orders, ["source", "order_id"]))

    with_store = orders.filter(orders.store_id.notnull())
    known_stores = stores.select("store_id").distinct()
    out["orphan_order_stores"] = _pair(with_store, with_store.anti_join(known_stores, "store_id"))
    out["__stores"] = {"n": stores.count()}

    product_sources = products.select("source").distinct()
    lines_p = lines.filter(lines.product_id.notnull()).semi_join(product_sources, "source")
    known_products = products.select("source", "product_id").distinct()
    out["orphan_order_products"] = _pair(lines_p, lines_p.anti_join(known_products, ["source", "product_id"]))

    customer_sources = customers.select("source").distinct()
    buyers = orders.filter(orders.crm_id.notnull() | orders.user_id.notnull()).semi_join(customer_sources, "source")
    by_crm = customers.filter(customers.crm_id.notnull()).select("source", key=customers.crm_id)
    by_user = customers.filter(customers.user_id.notnull()).select("source", key=customers.user_id)
    known = ibis.union(by_crm.mutate(kind=ibis.literal("crm_id")), by_user.mutate(kind=ibis.literal("user_id"))).distinct()
    crm_ok = buyers.semi_join(known.filter(known.kind == "crm_id"),
                              [buyers.source == known.source, buyers.crm_id == known.key])
    user_ok = buyers.semi_join(known.filter(known.kind == "user_id"),
                               [buyers.source == known.source, buyers.user_id == known.key])
    matched = ibis.union(crm_ok.select("source", "order_id"), user_ok.select("source", "order_id")).distinct()
    out["orphan_order_customers"] = _pair(buyers, buyers.anti_join(matched, ["source", "order_id"]))
    return out


def check_references(warehouse, source: str | None = None) -> tuple[RuleCount, ...]:
    """Count the orphans of ``source`` (or of every source) in the warehouse's canonical tables."""
    queries = _queries(warehouse, source)
    figures: dict[str, dict[str, int]] = {}
    for name, scalars in queries.items():
        figures[name] = {k: _int(warehouse.execute(v)) for k, v in scalars.items()}
    checks = []
    for name, description in REFERENCE_CHECKS.items():
        got = figures[name]
        if name == "orphan_order_stores" and figures["__stores"]["n"] == 0:
            got = {"checked": 0, "orphans": 0}
            description += " (no stores loaded: not checked)"
        checks.append(RuleCount(rule=name, description=description, checked=got["checked"], flagged=got["orphans"]))
    return tuple(checks)


def _int(value) -> int:
    return 0 if value is None or pd.isna(value) else int(value)
