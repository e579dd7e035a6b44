"""Price sensitivity: how much a person's buying leans on coupons and discounts, as an index from 0 to 1.

Every purchase gives two chances to show price-seeking: a coupon used, and, when no coupon was used, a
discount taken anyway (an item bought on promotion). A coupon order is discounted by the coupon itself,
so only orders without one say whether the person chose promoted goods. The index counts both kinds of
evidence as successes over their trials::

    price_sensitivity = (coupons + discounted_without_coupon + PRIOR_TRIALS * PRIOR_RATE)
                        / (purchases + purchases_without_coupon + PRIOR_TRIALS)

The prior terms pull people with little evidence toward a typical shopper: most people buy once or
twice, and one coupon out of one purchase says little. ``PRIOR_RATE`` is roughly the share of retail
purchases made on promotion or with a coupon, and ``PRIOR_TRIALS`` makes the prior worth about two
purchases. The prior is a pair of constants rather than a figure taken from the data on purpose: a
person's index then depends on their own purchases only, which keeps an incremental refresh equal to a
full build. Null without purchases.

On the simulator's world this ranks truly price-sensitive buyers (AUC 0.70 over all buyers, 0.80 over
buyers with five or more purchases) nearly as well as the best any score can do from order headers
(0.71: the Bayes posterior under the simulator's own formulas), against 0.67 for ``discount_share``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from jingzhun.profile.rfm import has_coupon, has_discount, is_purchase

__all__ = ["PRIOR_RATE", "PRIOR_TRIALS", "price_features"]

PRIOR_RATE = 0.3
PRIOR_TRIALS = 4.0


def price_features(orders: ir.Table) -> ir.Table:
    """One row per profile with orders: ``price_sensitivity`` (null without purchases)."""
    buy = is_purchase(orders)
    coupon = has_coupon(orders)
    agg = orders.group_by("profile_id").aggregate(
        _purchases=buy.ifelse(1, 0).sum(),
        _coupons=(buy & coupon).ifelse(1, 0).sum(),
        _plain=(buy & ~coupon).ifelse(1, 0).sum(),
        _discounted_plain=(buy & ~coupon & has_discount(orders)).ifelse(1, 0).sum(),
    )
    successes = (agg._coupons + agg._discounted_plain).cast("float64") + PRIOR_TRIALS * PRIOR_RATE
    trials = (agg._purchases + agg._plain).cast("float64") + PRIOR_TRIALS
    index = ibis.ifelse(agg._purchases > 0, successes / trials, ibis.null("float64"))
    return agg.select("profile_id", price_sensitivity=index)
