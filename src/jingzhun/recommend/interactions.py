"""Who bought what: the profile x product interactions the recommenders learn from.

The table logic is Ibis (one definition for DuckDB and Spark): purchase order lines get their buyer's
profile (:func:`jingzhun.profile.keys.keyed_orders`), and each (profile, product) pair becomes one row
with the number of distinct purchase orders that held the product (the weight: a wholesaler's 1,000
units of one order count once), its first and last purchase, and its purchase state at ``as_of``:

* ``durable``: the product is not a consumable (or its catalogue row does not say): bought once, it is
  never recommended to the person again;
* ``due``: a consumable whose repurchase cycle has come round. The cycle is the person's own mean gap
  between orders of the product when there are two or more, else the catalogue's ``repurchase_days``.
  It is due from 90% of the cycle after the last purchase until three cycles after it (a person three
  cycles late has probably stopped using it).

The pairs come to pandas once, as the models' input, and become a SciPy CSR matrix (profiles x
products, in sorted order) with the purchase state in arrays aligned to the matrix's stored entries.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import scipy.sparse as sp

from jingzhun.errors import InputError
from jingzhun.profile.keys import keyed_orders
from jingzhun.warehouse import Warehouse

__all__ = ["Interactions", "TimeSplit", "purchase_lines", "interaction_table", "catalogue_table",
           "load_interactions", "load_catalogue", "attach_groups", "time_split", "DUE_FROM", "DUE_UNTIL"]

log = logging.getLogger(__name__)

#: a consumable is due from this share of its cycle after the last purchase ...
DUE_FROM = 0.9
#: ... until this many cycles after it
DUE_UNTIL = 3.0

_DAY = 86_400.0
_TimeLike = str | datetime | pd.Timestamp


def _ts(value: _TimeLike) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _literal_ts(value: _TimeLike) -> ir.TimestampScalar:
    return ibis.literal(_ts(value).to_pydatetime(), type="timestamp('UTC')")


def purchase_lines(warehouse: Warehouse, start: _TimeLike | None = None, end: _TimeLike | None = None) -> ir.Table:
    """Lines of purchase orders (no returns) with a known buyer: profile_id, product_id, order_id, ordered_at.

    ``start`` is inclusive and ``end`` exclusive, so consecutive windows never share an order.
    """
    orders = keyed_orders(warehouse)
    orders = orders.filter(~orders.is_return, orders.profile_id.notnull())
    if start is not None:
        orders = orders.filter(orders.ordered_at >= _literal_ts(start))
    if end is not None:
        orders = orders.filter(orders.ordered_at < _literal_ts(end))
    orders = orders.select("source", "order_id", "profile_id", "ordered_at")
    lines = warehouse.table("order_lines")
    lines = lines.filter(~lines.is_return, lines.product_id.notnull(), lines.quantity > 0)
    joined = lines.select("source", "order_id", "product_id").join(orders, ["source", "order_id"])
    return joined.select("profile_id", "product_id", "order_id", "ordered_at")


def catalogue_table(warehouse: Warehouse) -> ir.Table:
    """One row per product id (the latest load's row where sources repeat one)."""
    p = warehouse.table("products")
    latest = ibis.row_number().over(group_by=p.product_id, order_by=[ibis.desc(p.load_id), p.source])
    p = p.mutate(_n=latest).filter(lambda t: t._n == 0)
    return p.select("product_id", "name", "category", "category_path", "brand", "price", "is_consumable",
                    "repurchase_days", "in_stock", "attributes")


def interaction_table(warehouse: Warehouse, start: _TimeLike | None = None, end: _TimeLike | None = None,
                      as_of: _TimeLike | None = None) -> ir.Table:
    """profile_id, product_id, orders, first_at, last_at, days_since, durable, due (see the module docstring).

    ``as_of`` is the moment the purchase state describes (default ``end``; one of them is needed).
    """
    as_of = as_of if as_of is not None else end
    if as_of is None:
        raise InputError("interactions need an end or an as_of to say when consumables are due", field="as_of")
    lines = purchase_lines(warehouse, start, end)
    pairs = lines.group_by(["profile_id", "product_id"]).aggregate(
        orders=lines.order_id.nunique(), first_at=lines.ordered_at.min(), last_at=lines.ordered_at.max())
    cat = catalogue_table(warehouse).select("product_id", "is_consumable", "repurchase_days")
    t = pairs.left_join(cat, "product_id").drop("product_id_right")
    # timestamp differences in epoch seconds: days between timestamps differ between engines
    first_s, last_s = t.first_at.epoch_seconds(), t.last_at.epoch_seconds()
    days_since = (_literal_ts(as_of).epoch_seconds() - last_s) / _DAY
    own_cycle = (last_s - first_s) / _DAY / (t.orders - 1).cast("float64")
    cycle = ibis.cases((t.orders >= 2, own_cycle), else_=t.repurchase_days)
    consumable = t.is_consumable.fill_null(False)
    due = consumable & cycle.notnull() & (cycle > 0) & (days_since >= DUE_FROM * cycle) & (
        days_since <= DUE_UNTIL * cycle)
    return t.select("profile_id", "product_id", "orders", "first_at", "last_at",
                    days_since=days_since.cast("float64"), durable=~consumable, due=due.fill_null(False))


@dataclass
class Interactions:
    """Profiles x products: purchase weights in a CSR matrix and what is known about each pair and product.

    ``matrix[u, i]`` is the number of purchase orders of profile ``users[u]`` that held product
    ``items[i]``. ``durable``, ``due`` and ``days_since`` are aligned with ``matrix.data`` (one value per
    stored pair). ``catalogue`` has one row per item, in item order: name, category, category_path,
    brand, price, is_consumable, repurchase_days, in_stock, attributes.
    """

    matrix: sp.csr_matrix
    users: np.ndarray
    items: np.ndarray
    catalogue: pd.DataFrame
    durable: np.ndarray
    due: np.ndarray
    days_since: np.ndarray
    as_of: pd.Timestamp | None = None
    groups: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_items(self) -> int:
        return self.matrix.shape[1]

    def user_index(self, profile_ids) -> np.ndarray:
        """Positions of ``profile_ids`` among ``users`` (-1 for a profile without purchases here)."""
        return _positions(self.users, profile_ids)

    def item_index(self, product_ids) -> np.ndarray:
        return _positions(self.items, product_ids)

    def pair_mask(self, values: np.ndarray) -> sp.csr_matrix:
        """A CSR matrix with the matrix's sparsity holding ``values`` (one per stored pair), zeros dropped."""
        m = sp.csr_matrix((np.asarray(values, dtype=np.float32), self.matrix.indices.copy(), self.matrix.indptr.copy()),
                          shape=self.matrix.shape)
        m.eliminate_zeros()
        return m


def _positions(universe: np.ndarray, values) -> np.ndarray:
    values = np.asarray(values, dtype=object)
    idx = pd.Index(universe).get_indexer(values.ravel())
    return idx.reshape(values.shape)


def _price_band(catalogue: pd.DataFrame, n_bands: int = 5) -> np.ndarray:
    """Price quintile (0..4) of each product within its category (all products when it has none); -1 unknown."""
    price = catalogue["price"].astype(float)
    group = catalogue["category"].fillna("")
    pct = price.groupby(group).rank(pct=True, method="average")
    band = np.floor(pct.to_numpy() * n_bands - 1e-9).clip(0, n_bands - 1)
    return np.where(np.isfinite(band), band, -1).astype(np.int8)


def load_catalogue(warehouse: Warehouse, extra_products: np.ndarray | None = None) -> pd.DataFrame:
    """The catalogue as a frame indexed by product id (sorted), with ``price_band``; products seen only in
    orders (``extra_products``) get a row of unknowns, in stock."""
    cat = warehouse.execute(catalogue_table(warehouse)).set_index("product_id")
    if extra_products is not None:
        missing = pd.Index(pd.unique(extra_products)).difference(cat.index)
        if len(missing):
            cat = pd.concat([cat, pd.DataFrame(index=missing, columns=cat.columns)])
    cat = cat.sort_index()
    cat["in_stock"] = cat["in_stock"].astype("boolean").fillna(True).astype(bool)
    cat["is_consumable"] = cat["is_consumable"].astype("boolean").fillna(False).astype(bool)
    cat["price"] = pd.to_numeric(cat["price"], errors="coerce")
    cat["repurchase_days"] = pd.to_numeric(cat["repurchase_days"], errors="coerce")
    cat["price_band"] = _price_band(cat)
    return cat


def load_interactions(warehouse: Warehouse, start: _TimeLike | None = None, end: _TimeLike | None = None, *,
                      as_of: _TimeLike | None = None, users: np.ndarray | None = None,
                      items: np.ndarray | None = None, all_profiles: bool = False) -> Interactions:
    """Interactions from purchase orders in [start, end), as a CSR matrix.

    ``users`` and ``items`` fix the universe (pairs outside it are left out), so that a training and a
    test window line up; by default the users are the profiles with a purchase in the window (every
    profile in ``profiles`` with ``all_profiles=True``) and the items the catalogue plus any product seen.
    """
    if end is None and as_of is None:
        end = warehouse.execute(warehouse.table("orders").ordered_at.max())
        end = _ts(end) + pd.Timedelta(seconds=1)
    as_of = _ts(as_of if as_of is not None else end)
    pairs = warehouse.execute(interaction_table(warehouse, start, end, as_of).drop("first_at", "last_at"))
    if items is None:
        catalogue = load_catalogue(warehouse, pairs["product_id"].to_numpy())
        items = catalogue.index.to_numpy(dtype=object)
    else:
        catalogue = load_catalogue(warehouse, np.asarray(items, dtype=object)).reindex(items)
        items = np.asarray(items, dtype=object)
    if users is None:
        users = pd.unique(pairs["profile_id"])
        if all_profiles:
            everyone = warehouse.execute(warehouse.table("profiles").select("profile_id")).profile_id
            users = np.union1d(users.astype(str), everyone.to_numpy(dtype=str))
        users = np.sort(np.asarray(users, dtype=object))
    users = np.asarray(users, dtype=object)
    u = _positions(users, pairs["profile_id"].to_numpy(dtype=object))
    i = _positions(items, pairs["product_id"].to_numpy(dtype=object))
    keep = (u >= 0) & (i >= 0)
    pairs, u, i = pairs[keep], u[keep], i[keep]
    order = np.lexsort((i, u))
    pairs, u, i = pairs.iloc[order], u[order], i[order]
    indptr = np.r_[0, np.cumsum(np.bincount(u, minlength=len(users)))].astype(np.int64)
    matrix = sp.csr_matrix((pairs["orders"].to_numpy(dtype=np.float32), i.astype(np.int32), indptr),
                           shape=(len(users), len(items)))
    log.info("interactions: %d profiles x %d products, %d pairs, as of %s", len(users), len(items), matrix.nnz,
             as_of)
    return Interactions(matrix=matrix, users=users, items=items, catalogue=catalogue,
                        durable=pairs["durable"].to_numpy(dtype=bool), due=pairs["due"].to_numpy(dtype=bool),
                        days_since=pairs["days_since"].to_numpy(dtype=np.float64), as_of=as_of)


def attach_groups(warehouse: Warehouse, interactions: Interactions, by: str) -> Interactions:
    """Add the grouping ``by`` to ``interactions.groups``: a column of `profile_features` (city, region,
    nearest_store_id, top_store_id, age_band, ...) or ``segment`` (the rfm segment each profile was in
    at its latest snapshot). Profiles without a value get None. Returns the same object."""
    if by == "segment":
        members, segments = warehouse.table("segment_members"), warehouse.table("segments")
        latest = members.group_by("segment_id").aggregate(snapshot_at=members.snapshot_at.max())
        current = members.join(latest, ["segment_id", "snapshot_at"]).join(
            segments.filter(segments.kind == "rfm").select("segment_id", "name"), "segment_id")
        groups = warehouse.execute(current.group_by("profile_id").aggregate(group=current.name.min()))
    else:
        features = warehouse.table("profile_features")
        if by not in features.columns:
            raise InputError(f"cannot group by {by!r}: it is neither 'segment' nor a column of profile_features",
                             field="by")
        groups = warehouse.execute(features.select("profile_id", group=features[by].cast("string")))
    values = groups.set_index("profile_id")["group"].reindex(interactions.users)
    interactions.groups[by] = values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
    return interactions


@dataclass
class TimeSplit:
    """Training interactions before ``cutoff`` and test interactions from it, over one universe."""

    train: Interactions
    test: Interactions
    cutoff: pd.Timestamp


def time_split(warehouse: Warehouse, cutoff: _TimeLike, end: _TimeLike | None = None,
               start: _TimeLike | None = None) -> TimeSplit:
    """Purchases in [start, cutoff) for training and [cutoff, end) for testing, on the training universe
    of profiles and the whole catalogue (test pairs of profiles unseen in training are left out)."""
    train = load_interactions(warehouse, start, cutoff)
    test = load_interactions(warehouse, cutoff, end, users=train.users, items=train.items)
    return TimeSplit(train, test, _ts(cutoff))


def attribute_tokens(attributes: str | None) -> list[str]:
    """``key=value`` tokens of a product's JSON attributes (nested values as their JSON text)."""
    if not attributes or not isinstance(attributes, str):
        return []
    try:
        parsed = json.loads(attributes)
    except json.JSONDecodeError:
        return []
    if not isinstance(parsed, dict):
        return []
    return [f"{k}={v if isinstance(v, str) else json.dumps(v, sort_keys=True)}" for k, v in sorted(parsed.items())]


def name_words(name: str | None) -> list[str]:
    """Lower-case words of a product name (letters and digits; CJK characters one by one)."""
    if not name or not isinstance(name, str):
        return []
    return re.findall(r"[a-z0-9]+|[\u4e00-\u9fff]", name.lower())
