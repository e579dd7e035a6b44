"""When people are active and how they engage: hour and weekday histograms, peaks, recent engagement.

Activity is every purchase order plus every engagement event: a response to a message (e-mail opened or
clicked, push opened, SMS clicked; the names in ``ENGAGEMENT_EVENTS``). Browsing (page views, product
views) is not engagement: it follows the shop's hours more than the person's. Bots are already left out
by :func:`jingzhun.profile.keys.keyed_events`. Hours and weekdays are local (see
:mod:`jingzhun.profile.clock`). The histogram is stored as plain columns ``hour_00`` ... ``hour_23`` and
``weekday_0`` ... ``weekday_6`` so that audiences and tags can use them directly. The peak is the hour
(weekday) with most activity; ties go to the earliest, which makes it the same on every engine (the
engines' ``mode()`` is neither portable nor deterministic).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from jingzhun.profile.clock import Clock, epoch_seconds
from jingzhun.profile.rfm import is_purchase

__all__ = ["ENGAGEMENT_TYPES", "ENGAGEMENT_EVENTS", "ENGAGEMENT_NAMES", "HOURS", "WEEKDAYS", "activity_features", "engagement_features",
           "peak"]

ENGAGEMENT_TYPES = ("track",)
# feature column -> event names (compared lower-cased, spaces and underscores alike)
ENGAGEMENT_EVENTS: dict[str, tuple[str, ...]] = {
    "email_opened_90d": ("email opened",),
    "email_clicked_90d": ("email link clicked", "email clicked"),
    "push_opened_90d": ("push opened", "push notification opened"),
    "sms_clicked_90d": ("sms link clicked", "sms clicked"),
}
WINDOW_DAYS = 90
HOURS = tuple(f"hour_{h:02d}" for h in range(24))
WEEKDAYS = tuple(f"weekday_{d}" for d in range(7))


def _event_name(events: ir.Table) -> ir.StringValue:
    return events.event.fill_null("").lower().replace("_", " ").strip()


ENGAGEMENT_NAMES = tuple(sorted({n for names in ENGAGEMENT_EVENTS.values() for n in names}))


def engagement(events: ir.Table) -> ir.Table:
    """The engagement events among ``events``: track messages responding to a message."""
    return events.filter(events.type.isin(ENGAGEMENT_TYPES) & _event_name(events).isin(ENGAGEMENT_NAMES))


def peak(t: ir.Table, columns: tuple[str, ...]) -> ir.IntegerValue:
    """Index of the largest of ``columns`` (the first on ties); null when all are 0."""
    top = ibis.greatest(*[t[c] for c in columns])
    cases = [((t[c] == top) & (top > 0), i) for i, c in enumerate(columns)]
    return ibis.cases(*cases, else_=ibis.null("int64")).cast("int64")


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
    hist = cells.group_by("profile_id").aggregate(
        n_events=cells.events.sum().cast("int64"),
        **{name: (cells.hour == h).ifelse(cells.n, 0).sum().cast("int64") for h, name in enumerate(HOURS)},
        **{name: (cells.weekday == d).ifelse(cells.n, 0).sum().cast("int64") for d, name in enumerate(WEEKDAYS)},
    )
    return hist.mutate(peak_hour=peak(hist, HOURS), peak_weekday=peak(hist, WEEKDAYS))


def engagement_features(events: ir.Table, clock: Clock) -> ir.Table:
    """Counts of engagement events in the ``WINDOW_DAYS`` days before as_of, in total and by kind."""
    ev = engagement(events)
    since = ibis.literal(clock.epoch_literal(WINDOW_DAYS))
    ev = ev.filter(epoch_seconds(ev.timestamp) >= since).mutate(_name=_event_name(ev))
    return ev.group_by("profile_id").aggregate(
        events_90d=ev.count(),
        **{col: ev._name.isin(names).ifelse(1, 0).sum().cast("int64") for col, names in ENGAGEMENT_EVENTS.items()},
    )
