"""When to send: each person's best local hour and weekday, learned from when they respond and buy.

**Evidence.** Every open or click a person made is evidence of when they attend to messages: the
engagement events of :mod:`jingzhun.profile.behaviour` ('Email Opened', 'Email Link Clicked',
'Push Opened', SMS clicks; bots left out) and the ``open`` and ``click`` rows of ``responses`` whose
message is in ``deliveries`` (so every campaign's results feed the next one's timing). Purchases are
weaker evidence (shop hours and errands time them as well). Per local hour the evidence is
``engagement_weight x responses + purchase_weight x purchases`` (4 and 1, as for ``peak_hour``), and
each hour's count is smoothed around the clock with :data:`~jingzhun.profile.behaviour.HOUR_KERNEL`
(a habit of reading mail "around eight" spreads over 19:00-21:00). Events are attached to people by
user id, anonymous id, device id and, last, the e-mail in the event: people without an account are
known to the shop only by the address their mail went to.

**Shrinkage.** With a dozen events the person's own histogram decides; with one or two it should not.
The posterior score of hour h is ``smoothed(h) + k x 17 x q_s(h)``, where q_s is the hour distribution
of all evidence in the person's segment (17 is the kernel's total, so k counts weighted events) and
k is ``hour_prior_weight``: the Dirichlet-multinomial posterior mean up to a constant, with the
segment's pattern as the prior's mean and k as its strength. The best hour is its argmax; a person
without evidence gets the segment's best hour. Weekdays likewise, unsmoothed
(``weekday_prior_weight``). The segment is a ``profile_features`` column (``age_band`` by default);
a segment with fewer than ``min_segment_size`` people with evidence, and people with no segment, use
the whole population's pattern. Scores are exact integers (the prior is scaled and rounded once, in
Python), so ties go to the earliest hour on every engine.

**Scheduling.** :func:`schedule` turns (best hour, best weekday) into a UTC moment within a campaign's
window, out of quiet hours.
"""

from __future__ import annotations

import logging
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from jingzhun.errors import ConfigError, InputError
from jingzhun.models.base import Model
from jingzhun.profile.behaviour import ENGAGEMENT_WEIGHT, HOUR_KERNEL, PURCHASE_WEIGHT, engagement, peak, \
    smoothed_hours
from jingzhun.profile.clock import SECONDS_PER_DAY, Clock, epoch_seconds
from jingzhun.profile.features import population
from jingzhun.profile.keys import EVENT_KEY_ORDER, attach_profiles, is_bot, keyed_orders
from jingzhun.profile.rfm import is_purchase
from jingzhun.schema.tables import RESPONSE_EVENTS_SOURCE
from jingzhun.warehouse import Warehouse

__all__ = ["SendTimeModel", "sendtime_evidence", "schedule", "allowed_hours", "population_hour",
           "send_time_scores", "RESPONSE_KINDS", "ALL_CUSTOMERS"]

log = logging.getLogger(__name__)

#: the rows of ``responses`` that say a person read a message
RESPONSE_KINDS = ("open", "click")
#: the prior's key for people whose segment is unknown or too small
ALL_CUSTOMERS = "__all__"
#: the integer scale of scores: a weighted event counts SCALE, a prior rounds to 1/SCALE of one
SCALE = 1000
_KERNEL_TOTAL = HOUR_KERNEL[0] + 2 * sum(HOUR_KERNEL[1:])
_WEEKDAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_HOURS = range(24)
_DAYS = range(7)


def sendtime_evidence(warehouse: Warehouse, clock: Clock, *, engagement_weight: int = ENGAGEMENT_WEIGHT,
                      purchase_weight: int = PURCHASE_WEIGHT) -> ir.Table:
    """Per profile, local hour and local weekday before ``clock.as_of``: ``responses`` (opens and
    clicks), ``purchases`` and their integer ``weight``."""
    before = clock.as_of_epoch
    events = warehouse.table("events")
    # responses written back as events (jingzhun.measure.learn) are read from `responses` below, once
    ev = engagement(events.filter((epoch_seconds(events.timestamp) < before) & ~is_bot(events)
                                  & (events.source.fill_null("") != RESPONSE_EVENTS_SOURCE)))
    ev = attach_profiles(ev, warehouse.table("identity_map"), (*EVENT_KEY_ORDER, "email"))
    replies = warehouse.table("responses")
    replies = replies.filter(replies.response.isin(RESPONSE_KINDS)
                             & (epoch_seconds(replies.responded_at) < before))
    replies = replies.semi_join(warehouse.table("deliveries").select("delivery_id"), "delivery_id")
    orders = warehouse.table("orders")
    buys = keyed_orders(warehouse, orders.filter(is_purchase(orders) & (epoch_seconds(orders.ordered_at) < before)))
    acts = ibis.union(
        ev.select("profile_id", ts=ev.timestamp, reply=ibis.literal(1)),
        replies.select("profile_id", ts=replies.responded_at, reply=ibis.literal(1)),
        buys.select("profile_id", ts=buys.ordered_at, reply=ibis.literal(0)),
        distinct=False,
    )
    acts = acts.filter(acts.profile_id.notnull())
    acts = acts.mutate(hour=clock.local_hour(acts.ts), weekday=clock.local_weekday(acts.ts))
    cells = acts.group_by(["profile_id", "hour", "weekday"]).aggregate(
        responses=acts.reply.sum().cast("int64"), n=acts.count())
    cells = cells.mutate(purchases=(cells.n - cells.responses).cast("int64")).drop("n")
    return cells.mutate(weight=(engagement_weight * cells.responses + purchase_weight * cells.purchases)
                        .cast("int64"))


def _histograms(evidence: ir.Table) -> ir.Table:
    """One row per profile: weighted evidence per hour ``_h00``.. and weekday ``_d0``.., and counts."""
    e = evidence
    return e.group_by("profile_id").aggregate(
        responses=e.responses.sum().cast("int64"), purchases=e.purchases.sum().cast("int64"),
        **{f"_h{h:02d}": (e.hour == h).ifelse(e.weight, 0).sum().cast("int64") for h in _HOURS},
        **{f"_d{d}": (e.weekday == d).ifelse(e.weight, 0).sum().cast("int64") for d in _DAYS},
    )


def _segment_label(column: str, value: str) -> str:
    if value == ALL_CUSTOMERS:
        return "all customers"
    if column == "age_band":
        return f"people aged {value}"
    return f"people with {column.replace('_', ' ')} {value}"


def _hour_text(hour: ir.IntegerValue) -> ir.StringValue:
    return hour.cast("string").lpad(2, "0") + ":00"


class SendTimeModel(Model):
    """Each person's best local send hour and weekday, shrunk toward their segment's pattern.

    ``fit(warehouse, as_of)`` learns the segments' (and the population's) hour and weekday patterns;
    ``predict(warehouse, as_of)`` gives everyone in ``identity_map`` a best hour and weekday, as an
    Ibis table, with the evidence counts and a reason in words.
    """

    name: ClassVar[str] = "send_time"
    input_names: ClassVar[tuple[str, ...]] = ("warehouse", "as_of")

    def __init__(self, *, hour_prior_weight: float = 8.0, weekday_prior_weight: float = 8.0,
                 segment: str = "age_band", min_segment_size: int = 200, timezone: str = "UTC",
                 engagement_weight: int = ENGAGEMENT_WEIGHT, purchase_weight: int = PURCHASE_WEIGHT) -> None:
        self.hour_prior_weight = hour_prior_weight
        self.weekday_prior_weight = weekday_prior_weight
        self.segment = segment
        self.min_segment_size = min_segment_size
        self.timezone = timezone
        self.engagement_weight = engagement_weight
        self.purchase_weight = purchase_weight

    # -- inputs ------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        for name in ("hour_prior_weight", "weekday_prior_weight"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} must be a number >= 0 (weighted events of prior), got {value!r}")
        for name in ("engagement_weight", "purchase_weight", "min_segment_size"):
            value = getattr(self, name)
            if not (isinstance(value, (int, np.integer)) and value >= 0):
                raise ConfigError(f"{name} must be a whole number >= 0, got {value!r}")
        if self.engagement_weight + self.purchase_weight == 0:
            raise ConfigError("engagement_weight and purchase_weight cannot both be 0: no evidence would count")

    def _evidence(self, warehouse: Warehouse, as_of: Any) -> ir.Table:
        clock = Clock.at(as_of, self.timezone)
        return sendtime_evidence(warehouse, clock, engagement_weight=self.engagement_weight,
                                 purchase_weight=self.purchase_weight)

    def _people(self, warehouse: Warehouse) -> ir.Table:
        """Everyone in identity_map with their segment value (null when unknown)."""
        people = population(warehouse).select("profile_id")
        features = warehouse.table("profile_features")
        if self.segment not in features.columns:
            raise ConfigError(f"segment column {self.segment!r} is not in profile_features; choose one of its "
                              "columns, for example age_band, gender or city")
        seg = features.select("profile_id", _segment=features[self.segment].cast("string"))
        people = people.left_join(seg, "profile_id").select("profile_id", "_segment")
        return people

    # -- fit ---------------------------------------------------------------------------------------
    def histograms(self, warehouse: Warehouse, as_of: Any) -> ir.Table:
        """Per profile with evidence before ``as_of``: weighted evidence per local hour (``_h00`` ...)
        and weekday (``_d0`` ...), opens and clicks (``responses``) and ``purchases``. Stage it to fit
        and predict from one pass over the events (``histograms=`` of both)."""
        self._check_params()
        return _histograms(self._evidence(warehouse, as_of))

    def fit(self, warehouse: Warehouse, as_of: Any, *, histograms: ir.Table | None = None) -> SendTimeModel:
        """Learn every segment's hour and weekday pattern from all evidence before ``as_of``."""
        self._check_params()
        hist = histograms if histograms is not None else self.histograms(warehouse, as_of)
        people = self._people(warehouse)
        joined = hist.left_join(people, "profile_id")
        cols = [f"_h{h:02d}" for h in _HOURS] + [f"_d{d}" for d in _DAYS]
        joined = joined.mutate(_segment=joined._segment.fill_null(ALL_CUSTOMERS))
        per = joined.group_by("_segment").aggregate(n_people=joined.count(), **{c: joined[c].sum() for c in cols})
        per = warehouse.execute(per).set_index("_segment").sort_index()
        if per.empty:
            raise InputError("no opens, clicks or purchases before as_of: the send-time model has nothing to "
                             "learn from; load events and orders first")
        total = per[cols].sum()
        priors = {ALL_CUSTOMERS: self._pattern(total, int(per.n_people.sum()))}
        for value, row in per.iterrows():
            if value != ALL_CUSTOMERS and row.n_people >= self.min_segment_size:
                priors[str(value)] = self._pattern(row[cols], int(row.n_people))
        self.priors_ = priors
        everyone = priors[ALL_CUSTOMERS]
        self.params_ = {"population_hour": float(np.argmax(everyone["hours"])),
                        "population_weekday": float(np.argmax(everyone["weekdays"])),
                        "n_segments": float(len(priors) - 1), "n_people": float(per.n_people.sum())}
        log.info("send time: %d people with evidence, %d segments of %s; population best hour %d",
                 int(per.n_people.sum()), len(priors) - 1, self.segment, self.params_["population_hour"])
        return self

    @staticmethod
    def _pattern(row: pd.Series, n_people: int) -> dict[str, Any]:
        hours = np.array([float(row[f"_h{h:02d}"]) for h in _HOURS])
        days = np.array([float(row[f"_d{d}"]) for d in _DAYS])
        return {"n_people": n_people, "hours": (hours / max(hours.sum(), 1.0)).tolist(),
                "weekdays": (days / max(days.sum(), 1.0)).tolist()}

    # -- predict -----------------------------------------------------------------------------------
    def _prior_table(self) -> ir.Table:
        """One row per prior: integer pseudo-scores per hour and weekday, and the segment's label."""
        rows = []
        for key, prior in self.priors_.items():
            hours = np.asarray(prior["hours"]) * self.hour_prior_weight * _KERNEL_TOTAL * SCALE
            days = np.asarray(prior["weekdays"]) * self.weekday_prior_weight * SCALE
            row = {"_prior": key, "_label": _segment_label(self.segment, key)}
            row.update({f"_ph{h:02d}": int(round(v)) for h, v in enumerate(hours)})
            row.update({f"_pd{d}": int(round(v)) for d, v in enumerate(days)})
            rows.append(row)
        return ibis.memtable(pd.DataFrame(rows))

    def predict(self, warehouse: Warehouse, as_of: Any, *, histograms: ir.Table | None = None) -> ir.Table:
        """Everyone's ``send_hour`` (local 0-23) and ``send_weekday`` (Monday 0), with ``responses``,
        ``purchases``, ``prior`` (the segment whose pattern was used) and ``reason``. Null only where
        a person has no evidence and the prior weight is 0."""
        self._check_fitted()
        hist = histograms if histograms is not None else self.histograms(warehouse, as_of)
        people = self._people(warehouse)
        people = people.outer_join(hist, "profile_id")
        people = people.select(profile_id=ibis.coalesce(people.profile_id, people.profile_id_right),
                               _segment=people._segment,
                               **{c: people[c] for c in hist.columns if c != "profile_id"})
        known = [k for k in self.priors_ if k != ALL_CUSTOMERS]
        prior_key = ibis.ifelse(people._segment.isin(known), people._segment, ALL_CUSTOMERS) if known else \
            ibis.literal(ALL_CUSTOMERS)
        people = people.mutate(_prior=prior_key)
        t = people.join(self._prior_table(), "_prior")
        own_h = [t[f"_h{h:02d}"].fill_null(0) for h in _HOURS]
        # one projection per step: each score is computed once, not inlined into every argmax comparison
        t = t.select("profile_id", "_label", "_prior", responses=t.responses.fill_null(0),
                     purchases=t.purchases.fill_null(0), _own=sum(own_h[1:], own_h[0]),
                     **{f"_s{h:02d}": s * SCALE + t[f"_ph{h:02d}"] for h, s in zip(_HOURS, smoothed_hours(own_h))},
                     **{f"_w{d}": t[f"_d{d}"].fill_null(0) * SCALE + t[f"_pd{d}"] for d in _DAYS})
        t = t.select("profile_id", "_label", "_prior", "responses", "purchases", "_own",
                     send_hour=peak([t[f"_s{h:02d}"] for h in _HOURS]),
                     send_weekday=peak([t[f"_w{d}"] for d in _DAYS]))
        return t.select("profile_id", "send_hour", "send_weekday", "responses", "purchases",
                        prior=t._prior, reason=self._reason(t))

    def _reason(self, t: ir.Table) -> ir.StringValue:
        """'14 opens and clicks, most around 20:00' or 'little history: the pattern of people aged 25-34'."""
        thin = t._own <= self.hour_prior_weight
        replies = ibis.ifelse(t.responses == 1, "1 open or click", t.responses.cast("string") + " opens and clicks")
        buys = ibis.ifelse(t.purchases == 1, "1 purchase", t.purchases.cast("string") + " purchases")
        counts = ibis.ifelse(t.responses > 0, replies, "")
        counts = counts + ibis.ifelse((t.responses > 0) & (t.purchases > 0), " and ", "")
        counts = counts + ibis.ifelse(t.purchases > 0, buys, "")
        own = counts + ", most around " + _hour_text(t.send_hour)
        none = "no history: the pattern of " + t._label
        little = "little history (" + counts + "): the pattern of " + t._label
        return ibis.cases((t._own == 0, none), (thin, little), else_=own)

    # -- persistence -------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"params": self.params_, "priors": self.priors_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.params_ = {k: float(v) for k, v in state["params"].items()}
        self.priors_ = {str(k): {"n_people": int(v["n_people"]), "hours": [float(x) for x in v["hours"]],
                                 "weekdays": [float(x) for x in v["weekdays"]]} for k, v in state["priors"].items()}


def send_time_scores(predicted: ir.Table) -> ir.Table:
    """The ``scores`` rows of a prediction: ``send_hour`` and ``send_weekday`` with their reasons."""
    weekday = predicted.select("profile_id", score=ibis.literal("send_weekday"),
                               value=predicted.send_weekday.cast("float64"), reason=predicted.reason)
    hour = predicted.select("profile_id", score=ibis.literal("send_hour"),
                            value=predicted.send_hour.cast("float64"), reason=predicted.reason)
    return ibis.union(hour, weekday, distinct=False)


# -- scheduling ------------------------------------------------------------------------------------

def _clock_hour(text: str) -> int:
    try:
        hour, minute = (int(x) for x in text.split(":"))
    except (AttributeError, ValueError):
        raise ConfigError(f"quiet hour {text!r} must be HH:00, for example 21:00") from None
    if minute != 0 or not 0 <= hour <= 24:
        raise ConfigError(f"quiet hour {text!r} must be on the hour (HH:00, 00-24): messages go out on the hour")
    return hour % 24


def allowed_hours(quiet_hours: tuple[str, str] | None) -> dict[int, int]:
    """Each local hour -> the hour a message due then goes at: itself outside quiet hours, else the
    nearest allowed hour around the clock (ties: the end of the quiet hours, the morning)."""
    if not quiet_hours:
        return {h: h for h in _HOURS}
    begin, end = (_clock_hour(x) for x in quiet_hours)
    quiet = {(begin + i) % 24 for i in range((end - begin) % 24)}
    if len(quiet) == 24 or begin == end:
        raise ConfigError(f"quiet hours {quiet_hours[0]}-{quiet_hours[1]} leave no hour to send in" if begin == end
                          else "quiet hours cover the whole day")
    out = {}
    for h in _HOURS:
        if h not in quiet:
            out[h] = h
            continue
        forward = next(d for d in range(1, 24) if (h + d) % 24 not in quiet)
        backward = next(d for d in range(1, 24) if (h - d) % 24 not in quiet)
        out[h] = (h + forward) % 24 if forward <= backward else (h - backward) % 24
    return out


def _moment(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        raise ConfigError(f"start must be a datetime or ISO text, got {value!r}")
    return value.replace(tzinfo=dt_timezone.utc) if value.tzinfo is None else value.astimezone(dt_timezone.utc)


def _most_common_hour(send_times: ir.Table) -> ir.Table:
    """A one-row table ``_fallback``: the hour most people in ``send_times`` have (ties: earliest);
    null when nobody has one (the row is always there, so a cross join keeps everyone)."""
    known = send_times.filter(send_times.send_hour.notnull())
    counts = known.group_by(_fallback=known.send_hour.cast("int64")).aggregate(_n=known.count())
    nobody = ibis.memtable(pd.DataFrame({"_fallback": pd.array([None], dtype="Int64"), "_n": [0]}))
    counts = ibis.union(counts, nobody.select(_fallback=nobody._fallback.cast("int64"), _n=nobody._n.cast("int64")),
                        distinct=False)
    return counts.order_by([ibis.desc("_n"), "_fallback"]).limit(1).select("_fallback")


def schedule(send_times: ir.Table, *, start: Any, within_days: int, quiet_hours: tuple[str, str] | None =
             ("21:00", "09:00"), timezone: str = "Asia/Shanghai", use_weekday: bool = True,
             fallback_hour: int | None = None) -> ir.Table:
    """(profile_id, scheduled_at UTC): the first moment at or after ``start``, within ``within_days``
    days, in the person's best local hour (moved out of quiet hours to the nearest allowed hour), on
    their best weekday when the window holds it and ``use_weekday``.

    ``send_times`` has ``profile_id``, ``send_hour`` and optionally ``send_weekday`` (nulls allowed).
    People without an hour get ``fallback_hour``, by default the hour most people in ``send_times``
    have (``scheduled_at`` is null when nobody has one: pass the model's :func:`population_hour`).
    A message due within its hour goes at ``start`` itself (start 20:15, best hour 20: 20:15).
    """
    if not isinstance(within_days, (int, np.integer)) or within_days < 1:
        raise ConfigError(f"within_days must be a whole number of days >= 1, got {within_days!r}")
    if fallback_hour is not None and fallback_hour not in _HOURS:
        raise ConfigError(f"fallback_hour must be a local hour 0-23, got {fallback_hour!r}")
    begin = _moment(start).replace(microsecond=0)
    clock = Clock.at(begin, timezone)
    start_local = clock.as_of_epoch + clock.offset_seconds
    end_local = start_local + within_days * SECONDS_PER_DAY
    first_day, start_second = divmod(start_local, SECONDS_PER_DAY)
    moves = allowed_hours(quiet_hours)

    t = send_times
    if fallback_hour is None:
        t = t.cross_join(_most_common_hour(send_times))
        wanted = ibis.coalesce(t.send_hour.cast("int64"), t._fallback.cast("int64"))
    else:
        wanted = t.send_hour.cast("int64").fill_null(fallback_hour)
    hour = ibis.cases(*[(wanted == h, moves[h]) for h in _HOURS], else_=ibis.null("int64")).cast("int64")
    # the first day whose slot at `hour` has not ended by the start
    day = ibis.ifelse(start_second < (hour + 1) * 3600, first_day, first_day + 1).cast("int64")
    slot = ibis.greatest(day * SECONDS_PER_DAY + hour * 3600, start_local)
    if use_weekday and "send_weekday" in t.columns:
        shift = (t.send_weekday.cast("int64") - (day + 3) % 7 + 7) % 7
        on_day = ibis.greatest((day + shift) * SECONDS_PER_DAY + hour * 3600, start_local)
        slot = ibis.ifelse(t.send_weekday.notnull() & (on_day < end_local), on_day, slot)
    # greatest() skips nulls on both engines: a person with no hour at all must stay without a time
    seconds_after = ibis.ifelse(hour.notnull(), slot - start_local, ibis.null("int64")).cast("int64")
    at = ibis.literal(begin, type="timestamp('UTC')") + seconds_after.as_interval("s")
    return t.select("profile_id", scheduled_at=at.cast("timestamp('UTC')"))


def population_hour(model: SendTimeModel) -> int:
    """The population's best hour of a fitted model (the fallback of :func:`schedule`)."""
    model._check_fitted()
    return int(model.params_["population_hour"])

