"""RFM scores and the eleven classic RFM segments.

**Scores.** Among the profiles with at least one purchase (``frequency > 0``), each of recency, frequency
and monetary gets a score from 1 to 5 by quintile of rank:

    score = 1 + floor(5 * r / n)

where ``n`` is the number of buyers and ``r`` the number of buyers with a strictly worse value (for
recency a *larger* ``recency_days`` is worse; for frequency and monetary a smaller value is worse).
**Ties are never split**: equal values get the same rank ``r`` and so the same score, whatever order
the engine reads rows in, which makes the scores identical on DuckDB and Spark (``ntile`` splits ties
arbitrarily and differs between them). The price is that quintiles can be uneven where many people
share a value: in a shop where a third of buyers bought once, all of them get F = 1. Monetary values
are ranked at whole cents, so sums that differ only by floating-point rounding tie as they should.

**Segments** are read from the R x F grid (M is shown as each cell's mean spend). Frequency and spend
move together, and a two-dimensional map can be shown as one grid in which each cell belongs to exactly
one segment:

    R \\ F    1                2                   3                   4                  5
    5        New              Potential Loyalist  Potential Loyalist  Champions          Champions
    4        Promising        Potential Loyalist  Loyal               Champions          Champions
    3        About to Sleep   About to Sleep      Need Attention      Loyal              Loyal
    2        Hibernating      Hibernating         At Risk             At Risk            Can't Lose Them
    1        Lost             Lost                At Risk             Can't Lose Them    Can't Lose Them
"""

from __future__ import annotations

import logging

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.errors import JingzhunError
from jingzhun.segment.saved import Segment, save_segment

__all__ = ["RFM_SEGMENTS", "RFM_GRID", "segment_of", "rfm_scores", "rfm_grid", "rfm_summary", "rfm_members",
           "save_rfm_segments", "RFM_PREFIX", "grid_frame", "summary_rows"]

log = logging.getLogger(__name__)

RFM_SEGMENTS = ("Champions", "Loyal", "Potential Loyalist", "New", "Promising", "Need Attention", "About to Sleep",
                "At Risk", "Can't Lose Them", "Hibernating", "Lost")
# R score -> the segment of F = 1 .. 5
RFM_GRID: dict[int, tuple[str, ...]] = {
    5: ("New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential Loyalist", "Loyal", "Champions", "Champions"),
    3: ("About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),
    1: ("Lost", "Lost", "At Risk", "Can't Lose Them", "Can't Lose Them"),
}
RFM_PREFIX = "RFM: "
_DESCRIPTIONS = {
    "Champions": "bought recently, buy often",
    "Loyal": "buy often, fairly recently",
    "Potential Loyalist": "recent buyers with a few orders",
    "New": "bought for the first time very recently",
    "Promising": "recent buyers with one order",
    "Need Attention": "middling recency and frequency",
    "About to Sleep": "below average recency and frequency, slipping away",
    "At Risk": "bought often, but long ago",
    "Can't Lose Them": "bought most often, but not for a long time",
    "Hibernating": "few orders, long ago",
    "Lost": "fewest orders, longest ago",
}


def segment_of(r: int, f: int) -> str:
    """The segment of an R and an F score (the grid above)."""
    return RFM_GRID[r][f - 1]


def _cells(segment: str) -> list[tuple[int, int]]:
    return [(r, f) for r, row in sorted(RFM_GRID.items(), reverse=True) for f, s in enumerate(row, 1) if s == segment]


def _score(value: ir.NumericValue, n: ir.IntegerValue, *, low_is_better: bool) -> ir.IntegerValue:
    """1 + floor(5 r / n), r = buyers with a strictly worse value (ties share the lowest rank)."""
    order = value.desc() if low_is_better else value.asc()
    r = ibis.rank().over(ibis.window(order_by=order))
    return ((r * 5) // n + 1).cast("int64")


def rfm_scores(features: ir.Table) -> ir.Table:
    """Buyers' R, F, M scores, their three-digit ``rfm`` code and ``segment``.

    ``features`` has profile_id, recency_days, frequency and monetary_total (``profile_features`` or
    :func:`jingzhun.segment.inputs.features_at`); profiles without a purchase are left out.
    """
    buyers = features.filter(features.frequency > 0).select(
        "profile_id", "recency_days", "frequency", monetary_total=features.monetary_total.fill_null(0.0))
    n = buyers.profile_id.count().over(ibis.window())
    cents = buyers.monetary_total.round(2)
    scored = buyers.mutate(
        r=_score(buyers.recency_days, n, low_is_better=True),
        f=_score(buyers.frequency, n, low_is_better=False),
        m=_score(cents, n, low_is_better=False),
    )
    cell = scored.r * 10 + scored.f
    branches = [(cell == r * 10 + f, segment_of(r, f)) for r in RFM_GRID for f in range(1, 6)]
    return scored.mutate(
        rfm=scored.r.cast("string") + scored.f.cast("string") + scored.m.cast("string"),
        segment=ibis.cases(*branches),
    )


def rfm_grid(scores: ir.Table) -> ir.Table:
    """Per R x F cell: its segment, profiles, mean monetary and mean recency (an edge query: small result)."""
    return scores.group_by(["r", "f", "segment"]).aggregate(
        profiles=scores.count(), mean_monetary=scores.monetary_total.mean(),
        mean_recency_days=scores.recency_days.mean())


def rfm_summary(scores: ir.Table) -> ir.Table:
    """Per segment: profiles, total and mean monetary, mean recency and frequency."""
    return scores.group_by("segment").aggregate(
        profiles=scores.count(), monetary_total=scores.monetary_total.sum(),
        mean_monetary=scores.monetary_total.mean(), mean_recency_days=scores.recency_days.mean(),
        mean_frequency=scores.frequency.mean())


def grid_frame(grid: pd.DataFrame) -> dict:
    """The executed grid as nested plain data: rows R 5..1, columns F 1..5 (cells with nobody are 0)."""
    cells = {(int(r.r), int(r.f)): r for r in grid.itertuples()}
    rows = []
    for r in (5, 4, 3, 2, 1):
        row = []
        for f in range(1, 6):
            c = cells.get((r, f))
            row.append({"r": r, "f": f, "segment": segment_of(r, f), "profiles": 0 if c is None else int(c.profiles),
                        "mean_monetary": None if c is None else float(c.mean_monetary)})
        rows.append(row)
    return {"rows": rows}


def summary_rows(summary: pd.DataFrame) -> list[dict]:
    """The executed summary as plain rows in the order of RFM_SEGMENTS (segments with nobody are 0)."""
    found = {r.segment: r for r in summary.itertuples()}
    rows = []
    for name in RFM_SEGMENTS:
        r = found.get(name)
        rows.append({"segment": name, "profiles": int(r.profiles) if r else 0,
                     "monetary_total": float(r.monetary_total) if r else 0.0,
                     "mean_monetary": float(r.mean_monetary) if r else None})
    return rows


def rfm_members(features: ir.Table, rule: dict) -> ir.Table:
    """profile_id of the buyers an RFM rule's cells hold."""
    cells = [tuple(c) for c in rule.get("cells", ())]
    if not cells:
        raise JingzhunError(f"an RFM rule lists the (R, F) cells it holds; this one has none: {rule}")
    scores = rfm_scores(features)
    cond = ibis.or_(*[(scores.r == r) & (scores.f == f) for r, f in cells])
    return scores.filter(cond).select("profile_id")


def save_rfm_segments(warehouse, *, prefix: str = RFM_PREFIX) -> list[tuple[Segment, str]]:
    """Save the eleven RFM segments (kind ``rfm``) as ``RFM: Champions`` ... ``RFM: Lost``."""
    out = []
    for name in RFM_SEGMENTS:
        rule = {"segment": name, "cells": [list(c) for c in _cells(name)], "grid": "R x F quintile ranks"}
        out.append(save_segment(warehouse, prefix + name, rule, kind="rfm", description=_DESCRIPTIONS[name]))
    return out
