"""What people buy: category and brand shares of spend, and the repurchase cycle of consumables.

Inputs are purchase lines with the buyer's profile and the product's catalogue fields
(``profile_id, ordered_at, amount, category, category_path, brand, is_consumable, repurchase_days``).
Shares are of positive line amounts; lines whose product has no category (or brand) are left out of
that share. Ties between categories or brands go to the smallest name, so the answer is the same on
every engine.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from jingzhun.profile.clock import SECONDS_PER_DAY, Clock
from jingzhun.profile.keys import left_join

__all__ = ["share_features", "repurchase_features", "typical_cycles", "permille_text"]


def permille_text(share: ir.FloatingValue) -> ir.StringValue:
    """A share in [0, 1] as text with three decimals ('0.523'), spelled identically on every engine."""
    p = (share * 1000).round().cast("int64")
    return (p // 1000).cast("int64").cast("string") + "." + (p % 1000).cast("string").lpad(3, "0")


def _shares(lines: ir.Table, column: str, prefix: str, *, with_text: bool) -> ir.Table:
    """Spend per profile and value of ``column``; the top value (ties: the smallest), its share, the count.

    Group-bys and joins rather than windows: the engines hash them, where a window sorts every partition.
    """
    t = lines.filter(lines[column].notnull() & (lines[column] != "") & (lines.amount > 0))
    spend = t.group_by(["profile_id", column]).aggregate(spend=t.amount.sum())
    per = spend.group_by("profile_id").aggregate(_total=spend.spend.sum(), _most=spend.spend.max(),
                                                 **{f"n_{prefix}s": spend.count()})
    j = spend.join(per, "profile_id")
    best = j.filter(j.spend == j._most)
    top = best.group_by("profile_id").aggregate(
        **{f"top_{prefix}": best[column].min(), f"top_{prefix}_share": (best._most / best._total).max()})
    out = top.join(per.select("profile_id", f"n_{prefix}s"), "profile_id")
    if with_text:
        share = j.spend / j._total
        text = j.group_by("profile_id").aggregate(
            **{f"{prefix}_shares": (j[column] + ":" + permille_text(share)).collect().sort().join(";")})
        out = out.join(text, "profile_id")
    return out


def share_features(lines: ir.Table) -> ir.Table:
    """Top category and brand with their shares, the number of each, and every category's share as text."""
    cats = _shares(lines, "category", "category", with_text=True)
    brands = _shares(lines, "brand", "brand", with_text=False)
    return cats.outer_join(brands, "profile_id").select(
        profile_id=ibis.coalesce(cats.profile_id, brands.profile_id),
        top_category=cats.top_category, top_category_share=cats.top_category_share,
        n_categories=cats.n_categorys, category_shares=cats.category_shares,
        top_brand=brands.top_brand, top_brand_share=brands.top_brand_share, n_brands=brands.n_brands,
    )


def typical_cycles(products: ir.Table) -> ir.Table:
    """leaf, typical_days: the catalogue's mean ``repurchase_days`` over the consumable products of each leaf.

    Taken from the catalogue, not from the lines bought, so a person's cycle does not depend on who else
    is in the build (an incremental refresh computes a few people only).
    """
    c = products.filter(products.is_consumable.fill_null(False))
    c = c.mutate(leaf=ibis.coalesce(c.category_path, c.product_id))
    return c.group_by("leaf").aggregate(typical_days=c.repurchase_days.mean())


def repurchase_features(lines: ir.Table, clock: Clock, products: ir.Table) -> ir.Table:
    """Repurchase cycle of consumables and the next expected repurchase.

    A consumable line (``is_consumable``) belongs to its leaf category (``category_path``, else the
    product). ``repurchase_cycle_days`` is the mean of the day gaps between consecutive purchase days of
    the same leaf, over all the profile's consumable leaves. For each leaf, the next purchase is expected
    one cycle after its last purchase, the cycle being the person's own for that leaf when they bought it
    twice or more, else the catalogue's typical ``repurchase_days`` of the leaf; ``next_repurchase_at``
    is the earliest of these.
    """
    c = lines.filter(lines.is_consumable.fill_null(False))
    c = c.mutate(leaf=ibis.coalesce(c.category_path, c.product_id), day=clock.local_day(c.ordered_at))
    days = c.group_by(["profile_id", "leaf", "day"]).aggregate(last_at=c.ordered_at.max())
    w = ibis.window(group_by=[days.profile_id, days.leaf], order_by=days.day)
    gaps = days.mutate(gap=(days.day - days.day.lag().over(w)).cast("float64"))
    per_leaf = gaps.group_by(["profile_id", "leaf"]).aggregate(
        last_at=gaps.last_at.max(), own_cycle=gaps.gap.mean(), _gaps=gaps.gap.count(), _gap_sum=gaps.gap.sum())
    per_leaf = left_join(per_leaf, typical_cycles(products), "leaf")
    cycle = ibis.coalesce(per_leaf.own_cycle, per_leaf.typical_days)
    seconds = (cycle * SECONDS_PER_DAY).round().cast("int64")
    per_leaf = per_leaf.mutate(next_at=ibis.ifelse(cycle.notnull(), per_leaf.last_at + seconds.as_interval("s"),
                                                   ibis.null("timestamp('UTC')")))
    agg = per_leaf.group_by("profile_id").aggregate(
        _gap_sum=per_leaf._gap_sum.sum(), _gaps=per_leaf._gaps.sum(), next_repurchase_at=per_leaf.next_at.min())
    return agg.select(
        "profile_id",
        repurchase_cycle_days=ibis.ifelse(agg._gaps > 0, agg._gap_sum / agg._gaps.cast("float64"),
                                          ibis.null("float64")),
        next_repurchase_at=agg.next_repurchase_at,
    )
