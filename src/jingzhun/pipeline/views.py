"""The one-person view behind `jingzhun profiles show`: who this is, what they did, why they are one.

Raw personal values come from the PII vault and are shown masked (``a***@x.cn``, ``+86138****8000``);
unmasked display belongs to roles a later privacy release adds.
"""

from __future__ import annotations

import ibis

from jingzhun.config import Settings
from jingzhun.errors import InputError, JingzhunError
from jingzhun.identity import explain, profile_for
from jingzhun.privacy import key_for
from jingzhun.profile.keys import keyed_events, keyed_orders
from jingzhun.quality.normalise import normalise_value
from jingzhun.quality.quarantine import mask_expr
from jingzhun.schema import CUSTOMER_IDENTIFIERS, IDENTIFIER_KINDS
from jingzhun.warehouse import Warehouse

__all__ = ["find_profile", "profile_view"]

_RECORD_COLUMNS = ("source", "gender", "birth_date", "city", "region", "signed_up_at")


def find_profile(warehouse: Warehouse, ident: str, *, kind: str | None, secret: str, settings: Settings) -> str:
    """The profile id behind ``ident``: itself, or (with ``kind``) the profile of that raw identifier."""
    if kind is None:
        return ident
    if kind not in IDENTIFIER_KINDS:
        raise InputError(f"unknown identifier kind {kind!r}", hint=f"use one of {', '.join(IDENTIFIER_KINDS)}")
    normalised = normalise_value(kind, ident, default_country_code=settings.quality.default_country_code)
    if normalised.value is None:
        raise InputError(f"{ident!r} is not a usable {kind} ({normalised.problem})", field=kind)
    profile_id = profile_for(warehouse, kind, key_for(kind, normalised.value, secret))
    if profile_id is None:
        raise JingzhunError(f"no profile has the {kind} {ident!r}: was it loaded, and has `jingzhun build` run since?")
    return profile_id


def profile_view(warehouse: Warehouse, ident: str, *, kind: str | None, secret: str, settings: Settings) -> dict:
    profile_id = find_profile(warehouse, ident, kind=kind, secret=secret, settings=settings)
    expl = explain(warehouse, profile_id)
    keys = [key for _, key in expl.identifiers]
    vault = warehouse.table("pii_vault")
    masked = ibis.cases(*[(vault.kind == k, mask_expr(k, vault.value)) for k in IDENTIFIER_KINDS],
                        else_=mask_expr("id", vault.value))
    shown = vault.filter(vault.key.isin(keys)).select("kind", "key", shown=masked)
    labels = {(r.kind, r.key): r.shown for r in warehouse.execute(shown).itertuples()}

    def label(node) -> str:
        return f"{node[0]} {labels.get(node, node[1][:8] + '…')}"

    customers = warehouse.table("customers")
    hit = ibis.or_(*[customers[k].isin(keys) for k in CUSTOMER_IDENTIFIERS])
    records = warehouse.execute(customers.filter(hit).select(*_RECORD_COLUMNS).order_by("signed_up_at"))

    orders = keyed_orders(warehouse)
    mine = orders.filter(orders.profile_id == profile_id)
    o = warehouse.execute(mine.aggregate(
        orders=(~mine.is_return).sum(), returns=mine.is_return.sum(), revenue=mine.amount.sum(),
        first_order=mine.ordered_at.min(), last_order=mine.ordered_at.max(),
    )).iloc[0]
    events = keyed_events(warehouse)
    n_events = int(warehouse.execute(events.filter(events.profile_id == profile_id).count()))
    facts = {
        "identifiers": len(expl.identifiers),
        "customer records": len(records),
        "orders": int(o.orders or 0),
        "returns": int(o.returns or 0),
        "revenue": round(float(o.revenue or 0), 2),
        "first order": str(o.first_order)[:19] if o.first_order is not None else "",
        "last order": str(o.last_order)[:19] if o.last_order is not None else "",
        "events": n_events,
    }
    return {
        "profile_id": profile_id,
        "facts": facts,
        **_derived(warehouse, profile_id),
        "identifiers": [{"kind": k, "value": labels.get((k, v), v[:8] + "…"), "is_shared": False}
                        for k, v in expl.identifiers]
        + [{"kind": k, "value": labels.get((k, v), v[:8] + "…"), "is_shared": True} for k, v in expl.shared],
        "records": [{c: (None if v is None or v != v else str(v)[:19]) for c, v in r.items()}
                    for r in records.to_dict("records")],
        "joined_by": [{"from": label(e.a), "to": label(e.b), "evidence": e.evidence, "rule": e.rule}
                      for e in expl.edges],
    }


# the features the one-person view shows, by theme (every column is in docs/features.md)
FEATURE_SECTIONS = {
    "value": ("recency_days", "frequency", "monetary_total", "avg_order_value", "tenure_days",
              "interpurchase_mean_days", "return_rate"),
    "taste": ("top_category", "top_category_share", "n_categories", "top_brand", "repurchase_due_days"),
    "habits": ("peak_hour", "peak_weekday", "share_web", "share_app", "share_store", "share_wechat", "events_90d"),
    "price": ("price_sensitivity", "discount_share", "coupon_share", "mean_discount_rate"),
    "place": ("city", "nearest_store_id", "nearest_store_km", "top_store_id", "top_store_km"),
    "person": ("gender", "age_band", "constellation", "education", "occupation", "marital_status"),
}


def _plain(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return round(value, 3)
    return value if isinstance(value, (int, str, bool)) else str(value)


def _derived(warehouse: Warehouse, profile_id: str) -> dict:
    """What later steps computed for the profile: features (by theme), tags with reasons, and scores."""
    pf = warehouse.table("profile_features")
    row = warehouse.execute(pf.filter(pf.profile_id == profile_id))
    features: dict[str, dict] = {}
    as_of = None
    if len(row):
        r = row.iloc[0]
        as_of = str(r.as_of)[:19]
        features = {theme: {c: _plain(r[c]) for c in cols} for theme, cols in FEATURE_SECTIONS.items()}
    tags = warehouse.table("tags")
    tags = warehouse.execute(tags.filter(tags.profile_id == profile_id).select("tag", "value", "reason").order_by("tag"))
    scores = warehouse.table("scores")
    scores = warehouse.execute(
        scores.filter(scores.profile_id == profile_id).select("score", "value", "model_id").order_by("score"))
    return {
        "features_as_of": as_of,
        "features": features,
        "tags": [{k: _plain(v) for k, v in t.items()} for t in tags.to_dict("records")],
        "scores": [{k: _plain(v) for k, v in t.items()} for t in scores.to_dict("records")],
    }
