"""Point-in-time training data: features known before a cut-off, outcomes from after it.

A model that predicts what people will do must learn from the past as it looked at the time. For a
cut-off T the features come from :func:`jingzhun.profile.features.features_as_of` (only rows before T
are read) and the outcome from the window [T, T + N days): the two never share a row. Tests prove
that changing or adding orders at or after T leaves the features bit-identical.

**Who is in a frame.** Profiles with at least one purchase before T. A profile whose first purchase
comes later exists in ``identity_map`` only because of that later data: counting it would let the
future in, and it has no history to learn from anyway.

**Which features.** Behaviour before T: recency, frequency, spend, tenure, intervals between
purchases, returns, discounts and coupons, basket size, category and brand breadth, channel mix,
engagement counts, the repurchase clock of consumables, the ratio of recency to the person's own
mean interval ("overdue"), and recent activity: purchase orders and spend in the 30, 90, 180 and 365
days before T (:func:`recent_activity`). Left out: identifiers and record counts (``n_identifiers``, ``n_records``
count identifiers and records from any time), and home, store distance and demographics (traits
taken from records of any time, and not behaviour). Missing values stay missing (NaN): for example a
one-time buyer has no interval; gradient boosting treats missing as its own branch.

Labels are computed in Ibis on the warehouse; the features of the population are pulled as one
compact frame per person (the model fit needs them in memory), sorted by ``profile_id`` so that
frames, and so models, do not depend on the engine's row order.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from jingzhun.models.validation import ModelInputError
from jingzhun.profile.clock import SECONDS_PER_DAY, Clock, epoch_seconds
from jingzhun.profile.features import features_as_of
from jingzhun.profile.keys import keyed_orders
from jingzhun.profile.rfm import is_purchase
from jingzhun.warehouse import Warehouse

__all__ = ["BEHAVIOUR_FEATURES", "moment", "window_end", "buyers_as_of", "purchasers", "propensity_frame",
           "category_share", "data_end", "recent_activity", "steady", "RECENT_WINDOWS", "RECENT_FEATURES"]

log = logging.getLogger(__name__)

#: profile_features columns the models learn from (see the module docstring for what is left out)
BEHAVIOUR_FEATURES: tuple[str, ...] = (
    "recency_days", "frequency", "purchase_days", "monetary_total", "monetary_mean", "avg_order_value",
    "tenure_days", "interpurchase_mean_days", "interpurchase_sd_days", "returns", "return_rate",
    "returned_amount", "discount_share", "coupon_share", "mean_discount_rate", "mean_lines", "mean_units",
    "repurchase_cycle_days", "repurchase_due_days", "top_category_share", "n_categories", "top_brand_share",
    "n_brands", "share_web", "share_app", "share_store", "share_wechat", "share_marketplace", "n_events",
    "events_90d", "email_opened_90d", "email_clicked_90d", "push_opened_90d", "sms_clicked_90d",
)

#: windows (days before the cut-off) of the recent-activity features
RECENT_WINDOWS: tuple[int, ...] = (30, 90, 180, 365)
RECENT_FEATURES: tuple[str, ...] = tuple(f"{kind}_{w}d" for w in RECENT_WINDOWS for kind in ("orders", "spend"))


def moment(value: Any) -> datetime:
    """A cut-off as a timezone-aware UTC datetime (ISO text, datetime or pandas Timestamp; naive = UTC)."""
    return Clock.at(value).as_of


def window_end(cutoff: Any, horizon_days: int) -> datetime:
    """The end of the outcome window [cutoff, cutoff + horizon_days)."""
    return moment(cutoff) + timedelta(days=_days(horizon_days, "horizon_days"))


def _days(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ModelInputError(f"{name} must be a whole number of days >= 1, got {value!r}", field=name)
    return int(value)


def buyers_as_of(warehouse: Warehouse, as_of: Any, *, timezone: str = "UTC",
                 extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Features as of ``as_of`` of every profile with a purchase before it: profile_id, the
    BEHAVIOUR_FEATURES and RECENT_FEATURES (float64), ``overdue``, and the ``extra`` profile_features columns asked for;
    sorted by profile_id."""
    as_of = moment(as_of)
    staged = features_as_of(warehouse, as_of, timezone=timezone)
    buyers = staged.filter(staged.frequency > 0).select("profile_id", *BEHAVIOUR_FEATURES, *extra)
    frame = warehouse.execute(buyers.order_by("profile_id"))
    warehouse.drop_stage(staged.get_name())
    recent = warehouse.execute(recent_activity(warehouse, as_of)).set_index("profile_id")
    frame = frame.join(recent, on="profile_id").reset_index(drop=True)
    for name in RECENT_FEATURES:
        frame[name] = frame[name].fillna(0.0)
    for name in (*BEHAVIOUR_FEATURES, *RECENT_FEATURES):
        frame[name] = steady(pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64"))
    with np.errstate(divide="ignore", invalid="ignore"):
        overdue = frame.recency_days / frame.interpurchase_mean_days
    frame["overdue"] = overdue.where(np.isfinite(overdue))
    return frame


def steady(values: np.ndarray, digits: int = 12) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits.

    Engines sum floating-point numbers in no fixed order (DuckDB and Spark aggregate in parallel), so a
    share or a total can differ in its last bit from one run to the next; a tree split on such a value
    would then differ too. Rounding far above that noise makes the features, and so the models,
    the same on every run and on both engines."""
    out = np.array(values, dtype=np.float64)
    finite = np.isfinite(out) & (out != 0)
    magnitude = np.floor(np.log10(np.abs(out[finite])))
    scale = 10.0 ** (digits - 1 - magnitude)
    out[finite] = np.round(out[finite] * scale) / scale
    return out


def _purchase_orders(warehouse: Warehouse, start: datetime, end: datetime) -> ir.Table:
    """Purchase orders in [start, end) with the buyer's profile_id (orders of nobody left out)."""
    orders = warehouse.table("orders")
    at = epoch_seconds(orders.ordered_at)
    window = orders.filter(is_purchase(orders) & (at >= ibis.literal(int(start.timestamp())))
                           & (at < ibis.literal(int(end.timestamp()))))
    keyed = keyed_orders(warehouse, window)
    return keyed.filter(keyed.profile_id.notnull())


def recent_activity(warehouse: Warehouse, as_of: Any) -> ir.Table:
    """Per profile with a purchase in the last year before ``as_of``: purchase orders (``orders_<w>d``)
    and their amount (``spend_<w>d``) in the ``w`` days before it, for each of RECENT_WINDOWS."""
    end = moment(as_of)
    buys = _purchase_orders(warehouse, end - timedelta(days=max(RECENT_WINDOWS)), end)
    age = ibis.literal(int(end.timestamp())) - epoch_seconds(buys.ordered_at)
    columns = {}
    for w in RECENT_WINDOWS:
        inside = age <= ibis.literal(w * SECONDS_PER_DAY)
        columns[f"orders_{w}d"] = inside.ifelse(1, 0).sum().cast("float64")
        columns[f"spend_{w}d"] = inside.ifelse(buys.amount, 0.0).sum().cast("float64")
    return buys.group_by("profile_id").aggregate(**columns)


def purchasers(warehouse: Warehouse, start: Any, end: Any, *, category: str | None = None) -> ir.Table:
    """Distinct profile_id of the people who bought in [start, end); with ``category``, who bought a
    product of that category (a purchase line with a positive amount of a product whose ``category``
    is it)."""
    buys = _purchase_orders(warehouse, moment(start), moment(end))
    if category is None:
        return buys.select("profile_id").distinct()
    lines = warehouse.table("order_lines")
    lines = lines.filter(~lines.is_return & (lines.amount > 0)).select("source", "order_id", "product_id")
    products = warehouse.table("products")
    products = products.filter(products.category == category).select("source", "product_id").distinct()
    bought = buys.select("profile_id", "source", "order_id").join(lines, ["source", "order_id"])
    bought = bought.join(products, ["source", "product_id"])
    return bought.select("profile_id").distinct()


def category_share(category_shares: pd.Series, category: str) -> pd.Series:
    """The share of spend in ``category`` from the ``category_shares`` text (``name:0.375;...``); 0 when
    the person never bought it."""
    pattern = re.compile(r"(?:^|;)" + re.escape(category) + r":([0-9.eE+-]+)(?:;|$)")

    def one(text: Any) -> float:
        if not isinstance(text, str):
            return 0.0
        found = pattern.search(text)
        return float(found.group(1)) if found else 0.0

    return category_shares.map(one).astype("float64")


def propensity_frame(warehouse: Warehouse, cutoff: Any, horizon_days: int, *, category: str | None = None,
                     timezone: str = "UTC") -> pd.DataFrame:
    """Training or test data for "buys in the next ``horizon_days``": features as of ``cutoff``
    (buyers before it) and ``label`` = 1 if the person bought (in ``category``) in [cutoff, cutoff +
    horizon_days). With a category, the person's share of spend in it is a feature too."""
    start = moment(cutoff)
    end = window_end(start, horizon_days)
    extra = ("category_shares",) if category is not None else ()
    frame = buyers_as_of(warehouse, start, timezone=timezone, extra=extra)
    if category is not None:
        frame["category_share"] = category_share(frame.pop("category_shares"), category)
    bought = warehouse.execute(purchasers(warehouse, start, end, category=category))
    frame["label"] = frame.profile_id.isin(set(bought.profile_id)).astype("int64")
    log.info("propensity frame at %s (+%d days%s): %d buyers, %d positive", start.date(), horizon_days,
             f", category {category}" if category else "", len(frame), int(frame.label.sum()))
    return frame


def data_end(warehouse: Warehouse) -> datetime | None:
    """The time of the latest order in the warehouse (None when there are none)."""
    latest = warehouse.execute(warehouse.table("orders").ordered_at.max())
    if latest is None or pd.isna(latest):
        return None
    return moment(pd.Timestamp(latest))
