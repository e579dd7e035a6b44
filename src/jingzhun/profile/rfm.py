"""Purchase features from orders: recency, frequency, monetary, order value, purchase intervals,
returns, discounts and coupons, channel mix and basket size (the price-sensitivity index built on the
discount and coupon signals is in :mod:`jingzhun.profile.price`).

A *purchase* is an order that is not a return, not cancelled and has a positive amount; a *return* is an order with
``is_return`` (credit notes and cancellations). Days are local days (see :mod:`jingzhun.profile.clock`).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from jingzhun.profile.clock import Clock

__all__ = ["CHANNELS", "is_purchase", "has_coupon", "has_discount", "purchase_features", "interval_features",
           "basket_units"]

CHANNELS = ("web", "app", "store", "wechat", "marketplace")


def is_purchase(orders: ir.Table) -> ir.BooleanValue:
    """Not a return, not cancelled, and for a positive amount (free samples and zero-value invoices are not
    purchases)."""
    return ~orders.is_return & (orders.status.fill_null("").lower() != "cancelled") & (orders.amount > 0)


def has_coupon(orders: ir.Table) -> ir.BooleanValue:
    """The order carries a coupon code (blank codes are none)."""
    return orders.coupon_code.notnull() & (orders.coupon_code.strip() != "")


def has_discount(orders: ir.Table) -> ir.BooleanValue:
    """The order was sold below its list value (a positive discount)."""
    return orders.discount.fill_null(0.0) > 0


def purchase_features(orders: ir.Table, clock: Clock) -> ir.Table:
    """One row per profile with orders: RFM, order value, returns, discounts, channel mix, lines."""
    o = orders.mutate(
        _buy=is_purchase(orders),
        _day=clock.local_day(orders.ordered_at),
        _discount=orders.discount.fill_null(0.0),
        _coupon=has_coupon(orders),
        _channel=orders.channel.fill_null("").lower(),
    )
    buy = o._buy
    gross = o.amount + o._discount
    rate = ibis.ifelse(buy & (gross > 0), o._discount / gross, ibis.null("float64"))
    per_channel = {f"_n_{c}": (buy & (o._channel == c)).ifelse(1, 0).sum() for c in CHANNELS}
    agg = o.group_by("profile_id").aggregate(
        first_purchase_at=o.ordered_at.min(where=buy),
        last_purchase_at=o.ordered_at.max(where=buy),
        frequency=buy.ifelse(1, 0).sum(),
        purchase_days=o._day.nunique(where=buy),
        monetary_total=o.amount.sum(where=buy),
        returns=(~buy & o.is_return).ifelse(1, 0).sum(),
        returned_amount=o.amount.abs().sum(where=~buy & o.is_return),
        _discounted=(buy & (has_discount(o) | o._coupon)).ifelse(1, 0).sum(),
        _couponed=(buy & o._coupon).ifelse(1, 0).sum(),
        mean_discount_rate=rate.mean(),
        mean_lines=o.n_lines.cast("float64").mean(where=buy),
        **per_channel,
    )
    n = agg.frequency.cast("float64")
    has = agg.frequency > 0

    def share(col: ir.IntegerValue) -> ir.FloatingValue:
        return ibis.ifelse(has, col.cast("float64") / n, ibis.null("float64"))

    return agg.mutate(
        monetary_total=agg.monetary_total.fill_null(0.0),
        returned_amount=agg.returned_amount.fill_null(0.0),
        monetary_mean=ibis.ifelse(agg.purchase_days > 0, agg.monetary_total / agg.purchase_days.cast("float64"),
                                  ibis.null("float64")),
        avg_order_value=share(ibis.literal(1)) * agg.monetary_total,
        return_rate=share(agg.returns),
        discount_share=share(agg._discounted),
        coupon_share=share(agg._couponed),
        **{f"share_{c}": share(agg[f"_n_{c}"]) for c in CHANNELS},
    ).drop("_discounted", "_couponed", *per_channel)


def interval_features(orders: ir.Table, clock: Clock) -> ir.Table:
    """Mean and sample standard deviation of the days between consecutive purchase days."""
    buys = orders.filter(is_purchase(orders))
    days = buys.select("profile_id", day=clock.local_day(buys.ordered_at)).distinct()
    w = ibis.window(group_by=days.profile_id, order_by=days.day)
    gaps = days.mutate(gap=(days.day - days.day.lag().over(w)).cast("float64"))
    gaps = gaps.filter(gaps.gap.notnull())
    agg = gaps.group_by("profile_id").aggregate(
        interpurchase_mean_days=gaps.gap.mean(), _sd=gaps.gap.std(how="sample"), _n=gaps.count(),
    )
    return agg.mutate(interpurchase_sd_days=ibis.ifelse(agg._n >= 2, agg._sd, ibis.null("float64"))).drop("_sd", "_n")


def basket_units(lines: ir.Table) -> ir.Table:
    """Mean units per purchase order, from the purchase lines (profile_id, source, order_id, quantity)."""
    per_order = lines.group_by(["profile_id", "source", "order_id"]).aggregate(units=lines.quantity.sum())
    return per_order.group_by("profile_id").aggregate(mean_units=per_order.units.mean())
