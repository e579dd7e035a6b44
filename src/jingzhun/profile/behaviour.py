"""When people are active and how they engage: hour and weekday histograms, peaks, recent engagement.

Activity is every purchase order plus every engagement event: a response to a message (e-mail opened or
clicked, push opened, SMS clicked; the names in ``ENGAGEMENT_EVENTS``). Browsing (page views, product
views) is not engagement: it follows the shop's hours more than the person's. Bots are already left out
by :func:`jingzhun.profile.keys.keyed_events`. Hours and weekdays are local (see
:mod:`jingzhun.profile.clock`). The histogram is stored as plain columns ``hour_00`` ... ``hour_23`` and
``weekday_0`` ... ``weekday_6`` so that audiences and tags can use them directly.

``peak_hour`` is the hour a person most likely attends to messages, which is what send-time choices
need. Two things make the raw histogram's tallest column a poor estimate of it. A response to a message
says more about that hour than a purchase does (purchases follow shop opening hours and errands), so an
engagement event counts ``ENGAGEMENT_WEIGHT`` times and a purchase ``PURCHASE_WEIGHT`` times. And a habit
of reading mail "around eight" spreads over 19:00-21:00, so with a dozen events the tallest single column
is often a neighbour of the habit's centre: the weighted counts are smoothed around the clock (hour 23 is
next to hour 0) with the integer bell ``HOUR_KERNEL`` before the peak is taken. Integer weights keep the
scores exact, so ties are the same on every engine; they go to the earliest hour. ``peak_weekday`` is the
weekday with most activity (ties: the earliest). The engines' ``mode()`` is neither portable nor
deterministic, so neither peak uses it.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from jingzhun.profile.clock import Clock, epoch_seconds
from jingzhun.profile.rfm import is_purchase

__all__ = ["ENGAGEMENT_TYPES", "ENGAGEMENT_EVENTS", "ENGAGEMENT_NAMES", "HOURS", "WEEKDAYS", "ENGAGEMENT_WEIGHT",
           "PURCHASE_WEIGHT", "HOUR_KERNEL", "activity_features", "engagement_features", "peak", "smoothed_hours"]

ENGAGEMENT_TYPES = ("track",)
# feature column -> event names (compared lower-cased, spaces and underscores alike)
ENGAGEMENT_EVENTS: dict[str, tuple[str, ...]] = {
    "email_opened_90d": ("email opened",),
    "email_clicked_90d": ("email link clicked", "email clicked"),
    "push_opened_90d": ("push opened", "push notification opened"),
    "sms_clicked_90d": ("sms link clicked", "sms clicked"),
}
WINDOW_DAYS = 90
# evidence of the hour a person attends to messages: a response to a message against a purchase
ENGAGEMENT_WEIGHT = 4
PURCHASE_WEIGHT = 1
# smoothing weights for the hour itself, one hour away and two hours away (a bell about 1.5 hours wide)
HOUR_KERNEL = (5, 4, 2)
HOURS = tuple(f"hour_{h:02d}" for h in range(24))
WEEKDAYS = tuple(f"weekday_{d}" for d in range(7))


def _event_name(events: ir.Table) -> ir.StringValue:
    return events.event.fill_null("").lower().replace("_", " ").strip()


ENGAGEMENT_NAMES = tuple(sorted({n for names in ENGAGEMENT_EVENTS.values() for n in names}))


def engagement(events: ir.Table) -> ir.Table:
    """The engagement events among ``events``: track messages responding to a message."""
    return events.filter(events.type.isin(ENGAGEMENT_TYPES) & _event_name(events).isin(ENGAGEMENT_NAMES))


def peak(values: list[ir.NumericValue]) -> ir.IntegerValue:
    """Index of the largest of ``values`` (the first on ties); null when all are 0."""
    top = ibis.greatest(*values)
    cases = [((v == top) & (top > 0), i) for i, v in enumerate(values)]
    return ibis.cases(*cases, else_=ibis.null("int64")).cast("int64")


def smoothed_hours(weights: list[ir.NumericValue]) -> list[ir.NumericValue]:
    """Each hour's score: its weight and its neighbours' around the clock, weighted by ``HOUR_KERNEL``."""
    n = len(weights)
    scores = []
    for h in range(n):
        score = HOUR_KERNEL[0] * weights[h]
        for d, k in enumerate(HOUR_KERNEL[1:], start=1):
            score = score + k * (weights[(h - d) % n] + weights[(h + d) % n])
        scores.append(score)
    return scores


def activity_features(orders: ir.Table, events: ir.Table, clock: Clock) -> ir.Table:
    """Hour and weekday histograms of purchases plus engagement events, the peaks and ``n_events``."""
    buys = orders.filter(is_purchase(orders))
    ev = engagement(events)
    acts = ibis.union(
        buys.select("profile_id", ts=buys.ordered_at, is_event=ibis.literal(0)),
        ev.select("profile_id", ts=ev.timestamp, is_event=ibis.literal(1)),
        distinct=False,
    )
    acts = acts.mutate(hour=clock.local_hour(acts.ts), weekday=clock.local_weekday(acts.ts))
    cells = acts.group_by(["profile_id", "hour", "weekday"]).aggregate(n=acts.count(), events=acts.is_event.sum())
    evidence = PURCHASE_WEIGHT * (cells.n - cells.events) + ENGAGEMENT_WEIGHT * cells.events
    weighted = [f"_w{h:02d}" for h in range(len(HOURS))]
    hist = cells.group_by("profile_id").aggregate(
        n_events=cells.events.sum().cast("int64"),
        **{name: (cells.hour == h).ifelse(cells.n, 0).sum().cast("int64") for h, name in enumerate(HOURS)},
        **{name: (cells.weekday == d).ifelse(cells.n, 0).sum().cast("int64") for d, name in enumerate(WEEKDAYS)},
        **{name: (cells.hour == h).ifelse(evidence, 0).sum().cast("int64") for h, name in enumerate(weighted)},
    )
    scored = [f"_s{h:02d}" for h in range(len(HOURS))]
    hist = hist.mutate(**dict(zip(scored, smoothed_hours([hist[c] for c in weighted]))))
    return hist.mutate(
        peak_hour=peak([hist[c] for c in scored]),
        peak_weekday=peak([hist[c] for c in WEEKDAYS]),
    ).drop(*weighted, *scored)


def engagement_features(events: ir.Table, clock: Clock) -> ir.Table:
    """Counts of engagement events in the ``WINDOW_DAYS`` days before as_of, in total and by kind."""
    ev = engagement(events)
    since = ibis.literal(clock.epoch_literal(WINDOW_DAYS))
    ev = ev.filter(epoch_seconds(ev.timestamp) >= since).mutate(_name=_event_name(ev))
    return ev.group_by("profile_id").aggregate(
        events_90d=ev.count(),
        **{col: ev._name.isin(names).ifelse(1, 0).sum().cast("int64") for col, names in ENGAGEMENT_EVENTS.items()},
    )
