"""Which channel reaches a person: the expected response (open or click) to one message per channel.

**After campaigns.** On each channel (email, sms, push, wechat, direct_mail) a person was sent n
messages (``deliveries`` with status ``sent``) and responded to y of them (an ``open`` or ``click`` in
``responses``). Their rate is the beta-binomial posterior mean ``(y + M mu) / (n + M)``: the prior mean
mu is their segment's rate, itself shrunk the same way toward the population's
(``(Y_s + M r) / (N_s + M)``), and the prior's strength M (in messages) is estimated per channel by the
method of moments from how much people's rates vary beyond chance: with
``rho = (sum (y - n r)^2 / (r (1 - r)) - sum n) / sum n (n - 1)``, the intra-person correlation of a
beta-binomial, ``M = 1 / rho - 1`` (Kleinman 1973; Ennis & Bi 1998 for the moments). People who always
or never respond make rho large and M small: their own record is worth believing early.

**Before campaigns**, and for a channel no campaign used yet, the engagement events the shop already
collects say which channels a person answers: 'Email Opened' and 'Email Link Clicked' for email,
'Push Opened' for push, SMS clicks for sms. A person's *lift* on a channel is their share of activity
(engagement events on every channel plus purchases) spent on it, shrunk toward the population's share
with ``lift_prior`` pseudo-events, over the population's share: ``((k + L pi) / (A + L)) / pi``. The
prior mean becomes ``segment rate x lift`` (at most 1), so someone who opens every e-mail and never
clicks an SMS starts with email above sms. A channel with no campaign history anywhere starts from
``base_rate``. Wechat and direct mail have no engagement events: lift 1.

The planner picks, among the channels a person has consent and an address for, the best expected
response per unit of cost. Scores: ``response_<channel>``.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from jingzhun.errors import ConfigError, InputError
from jingzhun.models.base import Model
from jingzhun.models.sendtime import ALL_CUSTOMERS, RESPONSE_KINDS
from jingzhun.profile.behaviour import engagement
from jingzhun.profile.clock import Clock, epoch_seconds
from jingzhun.profile.features import population
from jingzhun.profile.keys import EVENT_KEY_ORDER, attach_profiles, is_bot, keyed_orders, left_join
from jingzhun.profile.rfm import is_purchase
from jingzhun.schema.tables import RESPONSE_EVENTS_SOURCE
from jingzhun.warehouse import Warehouse

__all__ = ["ChannelResponseModel", "CHANNELS", "CHANNEL_EVENTS", "channel_history", "channel_scores"]

log = logging.getLogger(__name__)

CHANNELS = ("email", "sms", "push", "wechat", "direct_mail")
#: engagement event names (lower case) that are a response on a channel
CHANNEL_EVENTS: dict[str, tuple[str, ...]] = {
    "email": ("email opened", "email link clicked", "email clicked"),
    "push": ("push opened", "push notification opened"),
    "sms": ("sms link clicked", "sms clicked"),
}
#: the largest prior strength (messages): no over-dispersion at all means "believe the segment"
MAX_STRENGTH = 1000.0


def channel_history(warehouse: Warehouse, clock: Clock) -> ir.Table:
    """Per profile and channel before ``clock.as_of``: ``sent`` messages, ``responded`` (an open or
    click), ``engaged`` (engagement events on the channel) and ``activity`` (all engagement events and
    purchases of the person, on every row)."""
    before = clock.as_of_epoch
    sent = warehouse.table("deliveries")
    sent = sent.filter((sent.status == "sent")
                       & (epoch_seconds(sent.sent_at.fill_null(sent.scheduled_at)) < before))
    replies = warehouse.table("responses")
    replies = replies.filter(replies.response.isin(RESPONSE_KINDS) & (epoch_seconds(replies.responded_at) < before))
    answered = replies.select("delivery_id").distinct().mutate(_answered=ibis.literal(1))
    sent = left_join(sent, answered, "delivery_id").select("profile_id", "channel", "_answered")
    by_send = sent.group_by(["profile_id", "channel"]).aggregate(
        sent=sent.count(), responded=sent._answered.fill_null(0).sum().cast("int64"))

    events = warehouse.table("events")
    # responses written back as events (jingzhun.measure.learn) are read from `responses` below, once
    ev = engagement(events.filter((epoch_seconds(events.timestamp) < before) & ~is_bot(events)
                                  & (events.source.fill_null("") != RESPONSE_EVENTS_SOURCE)))
    ev = attach_profiles(ev, warehouse.table("identity_map"), (*EVENT_KEY_ORDER, "email"))
    name = ev.event.lower().replace("_", " ").strip()
    channel = ibis.cases(*[(name.isin(names), c) for c, names in CHANNEL_EVENTS.items()], else_=ibis.null("string"))
    ev = ev.filter(ev.profile_id.notnull()).mutate(channel=channel)
    orders = warehouse.table("orders")
    buys = keyed_orders(warehouse, orders.filter(is_purchase(orders) & (epoch_seconds(orders.ordered_at) < before)))
    acts = ibis.union(ev.select("profile_id", "channel"),
                      buys.filter(buys.profile_id.notnull()).select("profile_id", channel=ibis.null("string")),
                      distinct=False)
    activity = acts.group_by("profile_id").aggregate(activity=acts.count())
    engaged = ev.filter(ev.channel.notnull())
    engaged = engaged.group_by(["profile_id", "channel"]).aggregate(engaged=engaged.count())

    keys = ibis.union(by_send.select("profile_id", "channel"), engaged.select("profile_id", "channel"), distinct=True)
    out = left_join(left_join(left_join(keys, by_send, ["profile_id", "channel"]), engaged, ["profile_id", "channel"]),
                    activity, "profile_id")
    return out.select("profile_id", "channel", **{c: out[c].fill_null(0).cast("int64")
                                                  for c in ("sent", "responded", "engaged", "activity")})


class ChannelResponseModel(Model):
    """Expected response to one message per person and channel, beta-binomial shrinkage toward the
    segment and the population, seeded by engagement events where no campaign ran."""

    name: ClassVar[str] = "channel_response"
    input_names: ClassVar[tuple[str, ...]] = ("warehouse", "as_of")

    def __init__(self, *, segment: str = "age_band", min_segment_size: int = 200, prior_messages: float | None = None,
                 lift_prior: float = 10.0, base_rate: float = 0.1, timezone: str = "UTC") -> None:
        self.segment = segment
        self.min_segment_size = min_segment_size
        self.prior_messages = prior_messages
        self.lift_prior = lift_prior
        self.base_rate = base_rate
        self.timezone = timezone

    def _check_params(self) -> None:
        if self.prior_messages is not None and not (np.isfinite(self.prior_messages) and self.prior_messages > 0):
            raise ConfigError(f"prior_messages must be a number > 0 or None (estimated), got {self.prior_messages!r}")
        if not (np.isfinite(self.lift_prior) and self.lift_prior > 0):
            raise ConfigError(f"lift_prior must be a number > 0 (events), got {self.lift_prior!r}")
        if not 0 < self.base_rate < 1:
            raise ConfigError(f"base_rate must be a rate between 0 and 1, got {self.base_rate!r}")

    def history(self, warehouse: Warehouse, as_of: Any) -> ir.Table:
        """:func:`channel_history` with each person's segment (``_segment``, null when unknown). Stage it
        to fit and predict from one pass over the events (``history=`` of both)."""
        history = channel_history(warehouse, Clock.at(as_of, self.timezone))
        features = warehouse.table("profile_features")
        if self.segment not in features.columns:
            raise ConfigError(f"segment column {self.segment!r} is not in profile_features; choose one of its "
                              "columns, for example age_band, gender or city")
        seg = features.select("profile_id", _segment=features[self.segment].cast("string"))
        return left_join(history, seg, "profile_id")

    # -- fit ---------------------------------------------------------------------------------------
    def fit(self, warehouse: Warehouse, as_of: Any, *, history: ir.Table | None = None) -> ChannelResponseModel:
        """Learn each channel's population rate, prior strength, engagement share and segment rates.

        ``history`` is :meth:`history` staged, when the caller predicts from the same pass too."""
        self._check_params()
        h = history if history is not None else self.history(warehouse, as_of)
        h = h.mutate(_segment=h._segment.fill_null(ALL_CUSTOMERS))
        y, n = h.responded.cast("float64"), h.sent.cast("float64")
        per_seg = warehouse.execute(h.group_by(["_segment", "channel"]).aggregate(
            sent=n.sum(), responded=y.sum(), engaged=h.engaged.sum(), senders=(h.sent > 0).ifelse(1, 0).sum(),
            # the sums the method of moments needs (module docstring), over people sent anything
            yy=(y * y).sum(), ny=(n * y).sum(), nn=(n * n).sum(), pairs=(n * (n - 1)).sum())
        ).rename(columns={"_segment": "segment"})
        people = h.group_by("profile_id").aggregate(activity=h.activity.max())
        totals = warehouse.execute(people.aggregate(activity=people.activity.sum(), people=people.count()))
        if int(totals.people.iloc[0]) == 0:
            raise InputError("no deliveries, engagement events or purchases before as_of: the channel model has "
                             "nothing to learn from")
        activity = float(totals.activity.fillna(0).iloc[0])
        channels: dict[str, dict[str, Any]] = {}
        for channel in CHANNELS:
            rows = per_seg[per_seg.channel == channel]
            sums = rows[["sent", "responded", "engaged", "yy", "ny", "nn", "pairs"]].fillna(0).sum()
            rate = sums.responded / sums.sent if sums.sent > 0 else self.base_rate
            rate = float(min(max(rate, 1e-4), 1 - 1e-4))
            channels[channel] = {"rate": rate, "sent": float(sums.sent), "responded": float(sums.responded),
                                 "strength": self._strength(sums, rate),
                                 "share": float(sums.engaged) / activity if activity > 0 else 0.0, "segments": {}}
        for row in per_seg.itertuples():
            if row.segment == ALL_CUSTOMERS or row.channel not in channels or row.senders < self.min_segment_size:
                continue
            c = channels[row.channel]
            shrunk = (row.responded + c["strength"] * c["rate"]) / (row.sent + c["strength"])
            c["segments"][str(row.segment)] = float(shrunk)
        self.channels_ = channels
        self.params_ = {f"rate_{c}": v["rate"] for c, v in channels.items()}
        self.params_.update({f"strength_{c}": v["strength"] for c, v in channels.items()})
        log.info("channel response: %s", {c: round(v["rate"], 4) for c, v in channels.items()})
        return self

    def _strength(self, sums: pd.Series, rate: float) -> float:
        """The prior's strength M in messages: given, or by the method of moments (module docstring)."""
        if self.prior_messages is not None:
            return float(self.prior_messages)
        if sums.pairs <= 0:
            return 10.0  # nobody got two messages: a modest prior until they do
        chi = sums.yy - 2 * rate * sums.ny + rate * rate * sums.nn  # sum of (y - n r)^2
        rho = (chi / (rate * (1 - rate)) - sums.sent) / sums.pairs
        return MAX_STRENGTH if rho <= 1.0 / (MAX_STRENGTH + 1) else float(min(max(1.0 / rho - 1.0, 0.5), MAX_STRENGTH))

    # -- predict -----------------------------------------------------------------------------------
    def _priors(self) -> ir.Table:
        rows = []
        for channel, c in self.channels_.items():
            for segment, rate in [(ALL_CUSTOMERS, c["rate"]), *c["segments"].items()]:
                rows.append({"channel": channel, "_prior": segment, "_rate": float(rate),
                             "_strength": float(c["strength"]), "_share": float(c["share"])})
        return ibis.memtable(pd.DataFrame(rows))

    def predict(self, warehouse: Warehouse, as_of: Any, *, history: ir.Table | None = None) -> ir.Table:
        """(profile_id, channel, expected_response, sent, responded, engaged, prior) for everyone in
        identity_map and every channel."""
        self._check_fitted()
        h = history if history is not None else self.history(warehouse, as_of)
        people = population(warehouse).select("profile_id")
        features = warehouse.table("profile_features")
        seg = features.select("profile_id", _segment=features[self.segment].cast("string"))
        people = left_join(people, seg, "profile_id")
        grid = people.cross_join(ibis.memtable(pd.DataFrame({"channel": list(CHANNELS)})))
        acts = h.group_by("profile_id").aggregate(_activity=h.activity.max())
        grid = left_join(grid, h.select("profile_id", "channel", "sent", "responded", "engaged"),
                         ["profile_id", "channel"])
        grid = left_join(grid, acts, "profile_id")
        by_channel = {}
        for channel, c in self.channels_.items():
            by_channel[channel] = list(c["segments"])
        known = ibis.cases(*[((grid.channel == ch) & grid._segment.isin(segs), grid._segment)
                             for ch, segs in by_channel.items() if segs], else_=ALL_CUSTOMERS) \
            if any(by_channel.values()) else ibis.literal(ALL_CUSTOMERS)
        grid = grid.mutate(_prior=known).join(self._priors(), ["channel", "_prior"])
        n, y = grid.sent.fill_null(0), grid.responded.fill_null(0)
        k, a = grid.engaged.fill_null(0).cast("float64"), grid._activity.fill_null(0).cast("float64")
        lift = ibis.ifelse(grid._share > 0, ((k + self.lift_prior * grid._share) / (a + self.lift_prior)) / grid._share,
                           1.0)
        mean = ibis.least(grid._rate * lift, 1.0)
        rate = (y.cast("float64") + grid._strength * mean) / (n.cast("float64") + grid._strength)
        return grid.select("profile_id", "channel", expected_response=rate, sent=n, responded=y,
                           engaged=grid.engaged.fill_null(0), prior=grid._prior)

    # -- persistence -------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"params": self.params_, "channels": self.channels_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.params_ = {k: float(v) for k, v in state["params"].items()}
        self.channels_ = {c: {**v, "segments": {str(s): float(r) for s, r in v["segments"].items()}}
                          for c, v in state["channels"].items()}


def channel_scores(predicted: ir.Table) -> ir.Table:
    """The ``scores`` rows of a prediction: ``response_<channel>``, with the evidence in words."""
    p = predicted
    reason = ibis.ifelse(p.sent > 0, p.responded.cast("string") + " of " + p.sent.cast("string")
                         + " messages opened or clicked",
                         ibis.ifelse(p.engaged > 0, p.engaged.cast("string") + " responses in tracked events",
                                     "no history on the channel: the pattern of similar customers"))
    return p.select("profile_id", score="response_" + p.channel, value=p.expected_response, reason=reason)
