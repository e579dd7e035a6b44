"""Attaching people to rows: the profile each order, event and customer record belongs to.

A row carries several identifier columns; the profile is the one ``identity_map`` gives the first
identifier, in a fixed order of preference, that is present and not shared (a shared identifier, such
as a shop tablet or a household device, belongs to nobody):

* orders: user_id, crm_id, loyalty_card, phone, email, wechat_openid, anonymous_id;
* events: user_id, anonymous_id, device_id (rows flagged ``bot`` in ``quality_flags`` are left out);
* customer records: crm_id, user_id, loyalty_card, email, phone, wechat_openid, device_id.

Each function returns the table with a ``profile_id`` column; rows whose identifiers are all unknown
or shared get null (callers drop them). The lookups are left joins, one per identifier kind, which
both engines run as hash joins.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from jingzhun.warehouse import Warehouse

__all__ = [
    "ORDER_KEY_ORDER", "EVENT_KEY_ORDER", "CUSTOMER_KEY_ORDER",
    "is_bot", "left_join", "attach_profiles", "identity_of", "keyed_orders", "keyed_events", "keyed_customers",
    "profile_identifiers",
]

ORDER_KEY_ORDER = ("user_id", "crm_id", "loyalty_card", "phone", "email", "wechat_openid", "anonymous_id")
EVENT_KEY_ORDER = ("user_id", "anonymous_id", "device_id")
CUSTOMER_KEY_ORDER = ("crm_id", "user_id", "loyalty_card", "email", "phone", "wechat_openid", "device_id")


def left_join(left: ir.Table, right: ir.Table, keys: str | list[str]) -> ir.Table:
    """``left`` left-joined to ``right`` on same-named ``keys``, keeping one copy of each key column."""
    keys = [keys] if isinstance(keys, str) else list(keys)
    joined = left.join(right, keys, how="left")
    return joined.drop(*[f"{k}_right" for k in keys if f"{k}_right" in joined.columns])


def is_bot(t: ir.Table) -> ir.BooleanValue:
    """True for rows flagged ``bot`` in their comma-separated ``quality_flags``."""
    flags = ibis.literal(",") + t.quality_flags.fill_null("") + ","
    return flags.contains(",bot,")


def profile_identifiers(identity_map: ir.Table) -> ir.Table:
    """The identifiers that name a person: identity_map without shared identifiers."""
    return identity_map.filter(~identity_map.is_shared).select("kind", "key", "profile_id")


def attach_profiles(rows: ir.Table, identity_map: ir.Table, kinds: tuple[str, ...]) -> ir.Table:
    """``rows`` with ``profile_id``: the profile of the first of ``kinds`` present and known (else null)."""
    ids = profile_identifiers(identity_map)
    out = rows
    found = []
    for i, kind in enumerate(kinds):
        if kind not in rows.columns:
            continue
        name = f"_pid_{i}"
        lookup = ids.filter(ids.kind == kind).select(**{f"_key_{i}": "key", name: "profile_id"})
        out = out.left_join(lookup, out[kind] == lookup[f"_key_{i}"]).drop(f"_key_{i}")
        found.append(name)
    if not found:
        return rows.mutate(profile_id=ibis.null("string"))
    pid = ibis.coalesce(*[out[c] for c in found]) if len(found) > 1 else out[found[0]]
    return out.mutate(profile_id=pid).drop(*found)


def identity_of(identity_map: ir.Table, rows: ir.Table, kinds: tuple[str, ...]) -> ir.Table:
    """The rows of ``identity_map`` whose key is among the identifiers of ``rows``.

    Attaching a few rows (the rows of a few people) against this, staged, instead of the whole map gives
    the same profiles and reads the map once instead of once per identifier kind.
    """
    present = [rows.select(key=rows[k]) for k in kinds if k in rows.columns]
    if not present:
        return identity_map.filter(ibis.literal(False))
    keys = ibis.union(*present, distinct=True) if len(present) > 1 else present[0].distinct()
    return identity_map.semi_join(keys, "key")


def keyed_orders(warehouse: Warehouse, orders: ir.Table | None = None) -> ir.Table:
    """Orders with the buyer's ``profile_id`` (null when no identifier of the order is known)."""
    t = orders if orders is not None else warehouse.table("orders")
    return attach_profiles(t, warehouse.table("identity_map"), ORDER_KEY_ORDER)


def keyed_events(warehouse: Warehouse, events: ir.Table | None = None) -> ir.Table:
    """Events not flagged as bots, with ``profile_id`` from user_id, else anonymous_id, else device_id."""
    t = events if events is not None else warehouse.table("events")
    t = t.filter(~is_bot(t))
    return attach_profiles(t, warehouse.table("identity_map"), EVENT_KEY_ORDER)


def keyed_customers(warehouse: Warehouse, customers: ir.Table | None = None) -> ir.Table:
    """Customer records with the ``profile_id`` of their identifiers."""
    t = customers if customers is not None else warehouse.table("customers")
    return attach_profiles(t, warehouse.table("identity_map"), CUSTOMER_KEY_ORDER)
