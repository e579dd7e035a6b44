"""The truth tables: every person's latent parameters and habits, and who owns each identifier."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.sim.catalogue import CATEGORY_NAMES, CATEGORY_SLUGS, Stores
from jingzhun.sim.identifiers import PersonIds, full_names
from jingzhun.sim.options import SimOptions
from jingzhun.sim.people import CHANNELS, SYSTEMS, People
from jingzhun.sim.purchases import Purchases
from jingzhun.sim.strings import digits, join, nulls_where, pick
from jingzhun.sim.vocab import CITIES, OFFER_KINDS, RESPONSE_TYPES

__all__ = ["persons_table", "unique_identifiers", "PRICE_SENSITIVE_ABOVE"]

PRICE_SENSITIVE_ABOVE = 0.5


def persons_table(people: People, ids: PersonIds, buys: Purchases, influencer: np.ndarray, stores: Stores,
                  opts: SimOptions) -> pa.Table:
    t = buys.timing
    cols: dict[str, pa.Array] = {
        "person_id": ids.person_id,
        "name": full_names(people),
        "gender": pick(["M", "F"], people.female.astype(np.int64)),
        "birth_date": pa.array(people.birth_day.astype(np.int32)).cast(pa.date32()),
        "bgnbd_lambda": pa.array(people.lam),
        "bgnbd_p": pa.array(people.p),
        "first_purchase_at": buys.first_purchase_at,
        "first_purchase_week": pa.array(t.t0),
        "alive_at_end": pa.array(t.alive),
        "dropout_at": buys.dropout_at,
        "n_purchases": pa.array((t.x + 1).astype(np.int64)),
        "n_repeat_purchases": pa.array(t.x.astype(np.int64)),
        "mean_spend": pa.array(opts.spend_p / people.nu),
        "preferred_hour": pa.array(people.preferred_hour.astype(np.int64)),
        "preferred_weekday": pa.array(people.preferred_weekday.astype(np.int64)),
        "price_sensitivity": pa.array(people.price_sensitivity),
        "price_sensitive": pa.array(people.price_sensitivity > PRICE_SENSITIVE_ABOVE),
        "preferred_channel": pick(CHANNELS, people.preferred_channel),
        "activity": pa.array(people.activity),
        "response_type": pick(list(RESPONSE_TYPES), people.response_type),
    }
    for k, offer in enumerate(OFFER_KINDS):
        cols[f"p_{offer}_control"] = pa.array(people.response_p[:, k, 0])
        cols[f"p_{offer}_treated"] = pa.array(people.response_p[:, k, 1])
    top = np.argsort(-people.taste, axis=1, kind="stable")
    for j in range(3):
        cols[f"top_category_{j + 1}"] = pick(CATEGORY_NAMES, top[:, j])
    for c, slug in enumerate(CATEGORY_SLUGS):
        cols[f"taste_{slug}"] = pa.array(people.taste[:, c])
    cols.update({
        "city": pick([c[0] for c in CITIES], people.city),
        "home_latitude": pa.array(people.lat),
        "home_longitude": pa.array(people.lon),
        "nearest_store_id": pick(stores.ids, people.nearest_store),
        "nearest_store_km": pa.array(people.store_km),
        "household_id": nulls_where(join("H", digits(np.maximum(people.household, 0), 9)), people.household < 0),
        "is_influencer": pa.array(influencer),
        "systems": _systems_text(people.systems),
        "n_records": pa.array(people.systems.sum(axis=1).astype(np.int64)),
    })
    return pa.table(cols)


def _systems_text(systems: np.ndarray) -> pa.Array:
    parts = [nulls_where(pa.repeat(pa.scalar(s), len(systems)).cast(pa.string()), ~systems[:, j])
             for j, s in enumerate(SYSTEMS)]
    return pc.binary_join_element_wise(*parts, ",", null_handling="skip")


def unique_identifiers(rows: pa.Table) -> pa.Table:
    """One row per (kind, value), in order of first appearance (deterministic: single-threaded)."""
    out = rows.group_by(["kind", "value", "person_id", "is_shared"], use_threads=False).aggregate([])
    return out.select(["kind", "value", "person_id", "is_shared"])
