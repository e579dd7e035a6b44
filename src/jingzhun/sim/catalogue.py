"""Stores and the product catalogue: the world-level tables every block of persons shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from jingzhun.sim.vocab import BRANDS, CATEGORIES, CITIES, STORE_SUFFIXES

__all__ = ["Stores", "Catalogue", "make_stores", "make_catalogue", "CATEGORY_NAMES", "CATEGORY_SLUGS"]

CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)
CATEGORY_SLUGS: tuple[str, ...] = tuple(v[0] for v in CATEGORIES.values())


@dataclass(frozen=True)
class Stores:
    table: pa.Table
    ids: np.ndarray          # store_id strings (object)
    city: np.ndarray         # city index per store
    lat: np.ndarray
    lon: np.ndarray
    tablet_ids: np.ndarray   # device ids of the shop tablets (object)
    tablet_store: np.ndarray  # store index of each tablet


@dataclass(frozen=True)
class Catalogue:
    table: pa.Table
    ids: pa.Array            # product_id
    price: np.ndarray
    category: np.ndarray     # top-level category index per product
    by_category: tuple[np.ndarray, ...]  # product indices of each top category, ascending price
    lens: np.ndarray         # product indices of contact lenses
    solution: np.ndarray     # product indices of lens solution


def make_stores(rng: np.random.Generator, n: int, n_tablets: int, opened_before: date) -> Stores:
    """``n`` stores spread over the cities by their weight (every city gets one first)."""
    weights = np.array([c[4] for c in CITIES])
    extra = rng.choice(len(CITIES), size=max(0, n - len(CITIES)), p=weights / weights.sum())
    city = np.sort(np.concatenate([np.arange(min(n, len(CITIES))), extra])).astype(np.int64)
    lat = np.array([CITIES[c][2] for c in city]) + rng.normal(0, 0.05, n)
    lon = np.array([CITIES[c][3] for c in city]) + rng.normal(0, 0.06, n)
    ids, names, opened = [], [], []
    seen: dict[int, int] = {}
    for i, c in enumerate(city):
        k = seen.get(int(c), 0)
        seen[int(c)] = k + 1
        suffix = STORE_SUFFIXES[k % len(STORE_SUFFIXES)]
        names.append(f"{CITIES[c][0]}{suffix}" + (f"{k // len(STORE_SUFFIXES) + 1}号" if k >= len(STORE_SUFFIXES) else ""))
        ids.append(f"S{i + 1:04d}")
        opened.append(opened_before - timedelta(days=int(rng.integers(30, 365 * 12))))
    table = pa.table({
        "store_id": pa.array(ids, pa.string()),
        "name": pa.array(names, pa.string()),
        "city": pa.array([CITIES[c][0] for c in city], pa.string()),
        "region": pa.array([CITIES[c][1] for c in city], pa.string()),
        "country": pa.array(["CN"] * n, pa.string()),
        "latitude": pa.array(np.round(lat, 6)),
        "longitude": pa.array(np.round(lon, 6)),
        "opened_at": pa.array(opened, pa.date32()),
    })
    n_tablets = min(n_tablets, n)
    tablet_store = np.sort(rng.choice(n, size=n_tablets, replace=False)).astype(np.int64)
    hexes = rng.integers(0, 16, size=(n_tablets, 32))
    tablet_ids = np.array(["".join("0123456789ABCDEF"[h] for h in row) for row in hexes], dtype=object)
    tablet_ids = np.array([f"{t[:8]}-{t[8:12]}-{t[12:16]}-{t[16:20]}-{t[20:]}" for t in tablet_ids], dtype=object)
    return Stores(table, np.array(ids, dtype=object), city, lat, lon, tablet_ids, tablet_store)


def make_catalogue(rng: np.random.Generator, n: int) -> Catalogue:
    """``n`` products over the sub-categories of :data:`CATEGORIES`, prices log-normal around each
    sub-category's median."""
    subs = [(top, ci, sub) for ci, (top, (_, subs_)) in enumerate(CATEGORIES.items()) for sub in subs_]
    which = np.concatenate([np.arange(len(subs)), rng.integers(0, len(subs), n - len(subs))])
    which.sort()
    rows = []
    for i, s in enumerate(which):
        top, ci, (sub, subsub, consumable, days, median) = subs[s]
        price = max(9.0, round(median * float(np.exp(rng.normal(0, 0.35))) / 10) * 10 - 1)
        brand = BRANDS[int(rng.integers(len(BRANDS)))]
        rows.append((f"SKU{100001 + i}", f"{brand}{subsub} {chr(65 + int(rng.integers(26)))}{int(rng.integers(1, 99))}",
                     f"{top} > {sub} > {subsub}", top, brand, price, consumable, days, bool(rng.random() < 0.95), ci, sub))
    cols = list(zip(*rows))
    table = pa.table({
        "product_id": pa.array(cols[0], pa.string()),
        "name": pa.array(cols[1], pa.string()),
        "category_path": pa.array(cols[2], pa.string()),
        "category": pa.array(cols[3], pa.string()),
        "brand": pa.array(cols[4], pa.string()),
        "price": pa.array(cols[5], pa.float64()),
        "currency": pa.array(["CNY"] * n, pa.string()),
        "is_consumable": pa.array(cols[6], pa.bool_()),
        "repurchase_days": pa.array(cols[7], pa.float64()),
        "in_stock": pa.array(cols[8], pa.bool_()),
    })
    price = np.array(cols[5])
    category = np.array(cols[9], dtype=np.int64)
    by_category = tuple(
        np.flatnonzero(category == c)[np.argsort(price[category == c], kind="stable")] for c in range(len(CATEGORIES))
    )
    sub = np.array(cols[10], dtype=object)
    return Catalogue(table, table["product_id"].combine_chunks(), price, category, by_category,
                     np.flatnonzero(sub == "隐形眼镜"), np.flatnonzero(sub == "护理液"))
