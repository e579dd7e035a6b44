"""From a campaign definition to its plan: every message, to whom, in which arm, with which offer, on
which channel, at what time; and everyone left out, with the reason.

The order of decisions, and why it is this one:

1. **Audience** at ``as_of`` (an expression or a saved segment), then **exclusions** (each its own
   reason, the first that applies is reported).
2. **Arms** by the keyed hash of :mod:`jingzhun.activation.assignment`. A person's arm depends on
   nobody else, so drawing arms before the cap leaves the arms balanced within any cap.
3. **Offer**: the arm's offer in an A/B test of offers, else the first offer whose ``when`` holds, else
   the default offer; nobody gets an offer meant for someone else.
4. **Channel**: among the campaign's channels that the offer has a template for, the person has
   consent on (at planning time; deliver checks again when sending) and has an address kind for
   (``identity_map``: no raw data is read to plan), the one with the best expected response
   (``response_<channel>`` scores from :mod:`jingzhun.models.channels`); without those scores, the
   first in the campaign's order.
5. **Rank and cap**: by ``rank_by`` (a score or a profile field, highest first; people without a
   value last; ties broken by the arm hash, so the cap is reproducible), at most ``limit`` people or
   as many as the ``budget`` pays messages for. The control arm is capped like the others, so the
   holdout stays a random share of exactly the people the campaign would have messaged.
6. **Time**: each person's best send time from :mod:`jingzhun.models.sendtime` (``send_time: best``),
   or one local clock time, within the schedule's window and outside quiet hours.

The control arm gets a full plan row too (channel, offer, time): deliver records it ``held_out`` and
measurement compares like with like.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from jingzhun.activation.assignment import CONTROL, assignment_expr, bucket_expr
from jingzhun.activation.campaigns.definition import Campaign, CampaignError
from jingzhun.activation.consent import consented
from jingzhun.activation.deliver import delivery_id_for
from jingzhun.activation.surveys import sample
from jingzhun.segment import members
from jingzhun.segment.context import as_utc
from jingzhun.warehouse import Warehouse

__all__ = ["Plan", "plan_campaign", "people_table", "ADDRESS_KINDS", "MAIN_STEP"]

MAIN_STEP = "main"
DEFAULT_CLOCK = time(10, 0)  # the send time of people the send-time model knows nothing about, nor their peers
# the identifier kind a channel writes to; direct mail goes to a postal address the vault holds as text
ADDRESS_KINDS = {"email": "email", "sms": "phone", "phone": "phone", "wechat": "wechat_openid", "push": "device_id"}


@dataclass
class Plan:
    """A campaign's plan as of one moment: the messages and the people left out (``profile_id, reason``)."""

    campaign: Campaign
    planned_at: pd.Timestamp
    as_of: datetime
    timezone: str
    messages: pd.DataFrame
    excluded: pd.DataFrame
    audience_size: int
    estimates: pd.DataFrame  # per message: expected_conversion, expected_revenue, expected_uplift (NaN: unknown)

    def counts(self, by: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.messages[by].value_counts().sort_index().items()}

    def local_hours(self) -> dict[str, int]:
        hours = self.messages.scheduled_at.dt.tz_convert(self.timezone).dt.hour
        return {f"{h:02d}:00": int(n) for h, n in hours.value_counts().sort_index().items()}

    def cost(self) -> dict[str, float]:
        """Messages at their channel cost, plus each offer's cost times its expected conversions."""
        treated = self.messages.arm != CONTROL
        per_message = self.messages.channel.map(lambda c: self.campaign.costs.get(c, 0.0))
        messages = float(per_message[treated].sum())
        offer_cost = self.messages.offer_id.map(lambda o: self.campaign.offer(o).cost)
        conv = self.estimates.expected_conversion
        offers = float((offer_cost * conv)[treated].sum()) if conv.notna().any() else math.nan
        return {"messages": round(messages, 4), "offers_expected": _round(offers),
                "total_expected": _round(messages + (0.0 if math.isnan(offers) else offers))}

    def expected(self) -> dict[str, float | str]:
        """Expected conversions and revenue of the treated arms from the models, where they exist."""
        treated = self.messages.arm != CONTROL
        est = self.estimates[treated]
        out: dict[str, float | str] = {}
        if est.expected_conversion.notna().any():
            out["conversions"] = _round(float(est.expected_conversion.sum()))
            out["revenue"] = _round(float(est.expected_revenue.sum()))
            out["basis"] = f"p_buy_90d over a {self.campaign.conversion.window_days:g}-day window, x avg_order_value"
        if est.expected_uplift.notna().any():
            out["incremental_conversions"] = _round(float(est.expected_uplift.sum()))
        return out

    def exclusions(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.excluded.reason.value_counts().items()}

    def summary(self) -> dict:
        """The dry run: what would be sent, what it costs and brings, who is left out and why."""
        return {
            "campaign": self.campaign.id, "name": self.campaign.name,
            "planned_at": self.planned_at.isoformat(), "as_of": as_utc(self.as_of).isoformat(),
            "audience": self.audience_size, "messages": int(len(self.messages)),
            "by_arm": self.counts("arm"), "by_channel": self.counts("channel"), "by_offer": self.counts("offer_id"),
            "by_local_hour": self.local_hours(), "timezone": self.timezone,
            "first_send": _iso(self.messages.scheduled_at.min()), "last_send": _iso(self.messages.scheduled_at.max()),
            "cost": self.cost(), "expected": self.expected(), "excluded": self.exclusions(),
        }


def _round(x: float) -> float:
    return x if math.isnan(x) else round(x, 4)


def _iso(ts) -> str | None:
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).isoformat()


def plan_campaign(warehouse: Warehouse, campaign: Campaign, *, secret: str, as_of=None, at=None,
                  timezone: str = "UTC", firings: pd.DataFrame | None = None) -> Plan:
    """The plan of ``campaign``: audience at ``as_of`` (default: the latest feature build), consent at
    ``at`` (default: now), local times in the schedule's timezone or ``timezone``.

    A trigger campaign plans one message per firing in ``firings`` (rows of ``trigger_firings``) of a
    person in the audience, due when the occasion happened (out of quiet hours); without firings its
    plan is empty and tells only who may receive it.
    """
    from jingzhun.segment.inputs import default_as_of

    planned_at = pd.Timestamp(as_utc(at) if at is not None else datetime.now(dt_timezone.utc))
    as_of = as_utc(as_of) if as_of is not None else default_as_of(warehouse)
    tz = campaign.schedule.timezone or timezone
    _check_zone(tz)

    people = members(warehouse, campaign.audience, as_of).select("profile_id").distinct()
    people = warehouse.stage(people)
    audience_size = int(warehouse.execute(people.count()))
    excluded: list[pd.DataFrame] = []

    for expression in campaign.exclude:
        out = members(warehouse, expression, as_of).select("profile_id").distinct()
        hit = people.semi_join(out, people.profile_id == out.profile_id)
        excluded.append(_reasons(warehouse.execute(hit), f"excluded: {expression}"))
        people = warehouse.stage(people.anti_join(out, people.profile_id == out.profile_id))

    if campaign.survey is not None:
        asked = sample(warehouse, people, campaign.survey.share, campaign.id, secret)
        skipped = people.anti_join(asked, people.profile_id == asked.profile_id)
        excluded.append(_reasons(warehouse.execute(skipped), f"not drawn for the survey's "
                                                              f"{campaign.survey.share:.2%} sample"))
        people = warehouse.stage(asked)
    if campaign.trigger is not None:
        fired = _fired(firings, campaign.id)
        people = warehouse.stage(people.semi_join(people_table(warehouse, fired.profile_id), "profile_id"))

    arms = assignment_expr(people, campaign.id, campaign.split(), secret)
    arms = arms.mutate(_bucket=bucket_expr(campaign.id, arms.profile_id, secret))
    frame = warehouse.execute(arms.select("profile_id", "arm", "_bucket"))

    frame, no_offer = _offers(warehouse, campaign, frame, as_of)
    excluded.append(no_offer)
    frame, no_channel = _channels(warehouse, campaign, frame, planned_at)
    excluded.append(no_channel)
    frame = _ranked(warehouse, campaign, frame)
    frame, over_cap = _capped(campaign, frame)
    excluded.append(over_cap)
    if campaign.trigger is None:
        frame["scheduled_at"] = _times(warehouse, campaign, frame.profile_id, planned_at, tz)
        frame["step"] = MAIN_STEP
    else:
        frame = _per_firing(frame, fired, campaign, tz)

    frame["campaign_id"] = campaign.id
    frame["template"] = [campaign.offer(o).templates[c] for o, c in zip(frame.offer_id, frame.channel)]
    frame["offer"] = [_offer_json(campaign, o) for o in frame.offer_id]
    frame["delivery_id"] = [delivery_id_for(campaign.id, st, p, c)
                            for st, p, c in zip(frame.step, frame.profile_id, frame.channel)]
    frame["planned_at"] = planned_at
    messages = frame[["campaign_id", "step", "delivery_id", "profile_id", "arm", "channel", "template", "offer",
                      "offer_id", "scheduled_at", "rank_value", "planned_at"]]
    messages = messages.sort_values(["scheduled_at", "delivery_id"], kind="stable").reset_index(drop=True)
    estimates = _estimates(warehouse, campaign, messages)
    left_out = pd.concat([e for e in excluded if not e.empty] or [_reasons(pd.DataFrame(), "")], ignore_index=True)
    return Plan(campaign, planned_at, as_of, tz, messages, left_out, audience_size, estimates)


def people_table(warehouse: Warehouse, profile_ids) -> ir.Table:
    """The distinct ``profile_ids`` staged as a one-column table (typed, so that none is fine too)."""
    ids = pd.DataFrame({"profile_id": sorted({str(p) for p in profile_ids})}, dtype=object)
    return warehouse.stage(ibis.memtable(ids, schema={"profile_id": "string"}))


def _check_zone(tz: str) -> None:
    try:
        ZoneInfo(tz)
    except Exception:
        raise CampaignError(f"unknown time zone {tz!r}: use an IANA name such as 'Asia/Shanghai'") from None


def _reasons(frame: pd.DataFrame, reason: str) -> pd.DataFrame:
    ids = frame.profile_id if "profile_id" in frame else pd.Series([], dtype=object)
    return pd.DataFrame({"profile_id": ids.astype(object).to_numpy(), "reason": reason})


# -- triggers --------------------------------------------------------------------------------------
def _fired(firings: pd.DataFrame | None, campaign_id: str) -> pd.DataFrame:
    cols = ["profile_id", "dedup_key", "event_at"]
    if firings is None or firings.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    f = firings[firings.campaign_id == campaign_id][cols].copy()
    f["event_at"] = pd.to_datetime(f.event_at, utc=True)
    return f


def _per_firing(frame: pd.DataFrame, fired: pd.DataFrame, campaign: Campaign, tz: str) -> pd.DataFrame:
    """One message per firing: its own step (so each occasion is its own delivery), due when the occasion
    happened, or at the end of the quiet hours if it happened inside them."""
    out = frame.merge(fired, on="profile_id", how="inner")
    out["step"] = ["trigger:" + hashlib.sha256(k.encode("utf-8")).hexdigest()[:16] for k in out.dedup_key]
    quiet = campaign.schedule.quiet_hours
    out["scheduled_at"] = pd.to_datetime([out_of_quiet(t, quiet, tz) for t in out.event_at], utc=True)
    return out.drop(columns=["dedup_key", "event_at"])


def out_of_quiet(moment: pd.Timestamp, quiet_hours, tz: str) -> pd.Timestamp:
    """``moment`` itself, or the end of the quiet hours it falls in (local time ``tz``)."""
    if quiet_hours is None:
        return moment
    local = pd.Timestamp(moment).tz_convert(ZoneInfo(tz))
    if not _is_quiet(local.hour * 60 + local.minute, quiet_hours):
        return moment
    end_h, end_m = (int(x) for x in quiet_hours[1].split(":"))
    end = pd.Timestamp(datetime(local.year, local.month, local.day, end_h, end_m), tz=ZoneInfo(tz))
    if end <= local:
        nxt = (local + timedelta(days=1)).date()
        end = pd.Timestamp(datetime(nxt.year, nxt.month, nxt.day, end_h, end_m), tz=ZoneInfo(tz))
    return end.tz_convert("UTC")


# -- offers ----------------------------------------------------------------------------------------
def _offers(warehouse: Warehouse, campaign: Campaign, frame: pd.DataFrame, as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each person's offer: the arm's, else the first whose ``when`` holds, else the default."""
    offer = pd.Series(pd.NA, index=frame.index, dtype=object)
    for arm, offer_id in campaign.arm_offers.items():
        offer[frame.arm == arm] = offer_id
    for o in campaign.offers:
        todo = offer.isna()
        if not todo.any():
            break
        if o.when is None:
            continue
        fits = set(warehouse.execute(members(warehouse, o.when, as_of).select("profile_id")).profile_id)
        offer[todo & frame.profile_id.isin(fits)] = o.id
    default = [o.id for o in campaign.offers if o.when is None]
    if default:
        offer[offer.isna()] = default[0]
    frame = frame.assign(offer_id=offer)
    lost = frame[frame.offer_id.isna()]
    return frame[frame.offer_id.notna()].reset_index(drop=True), _reasons(lost, "no offer applies (no `when` "
                                                                               "holds and there is no default offer)")


def _offer_json(campaign: Campaign, offer_id: str) -> str:
    o = campaign.offer(offer_id)
    return json.dumps({"id": o.id, "kind": o.kind, "title": o.title, "coupon_code": o.coupon_code,
                       "value": o.value, "cost": o.cost}, ensure_ascii=False, sort_keys=True)


# -- channels --------------------------------------------------------------------------------------
def _channels(warehouse: Warehouse, campaign: Campaign, frame: pd.DataFrame,
              at: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The channel of each person: consented, reachable, served by the offer's templates, best expected response."""
    people = people_table(warehouse, frame.profile_id)
    usable = {}
    for channel in campaign.channels:
        ok = consented(warehouse, people, channel, at.to_pydatetime(), campaign.purpose)
        kind = ADDRESS_KINDS.get(channel)
        if kind is not None:
            im = warehouse.table("identity_map")
            reach = im.filter((im.kind == kind) & ~im.is_shared)
            ok = ok.semi_join(reach, ok.profile_id == reach.profile_id)
        usable[channel] = set(warehouse.execute(ok.select("profile_id")).profile_id)
    response = _response_scores(warehouse, campaign.channels, people)

    chosen = []
    for pid, offer_id in zip(frame.profile_id, frame.offer_id):
        served = campaign.offer(offer_id).templates
        options = [c for c in campaign.channels if c in served and pid in usable[c]]
        if not options:
            chosen.append(None)
            continue
        scored = [(response.get((pid, c), -1.0), -i, c) for i, c in enumerate(options)]
        chosen.append(max(scored)[2])
    frame = frame.assign(channel=chosen)
    lost = frame[frame.channel.isna()]
    why = (f"no consent for {campaign.purpose} or no address on any of the campaign's channels "
           f"({', '.join(campaign.channels)}) that the offer has a template for")
    return frame[frame.channel.notna()].reset_index(drop=True), _reasons(lost, why)


def _response_scores(warehouse: Warehouse, channels, people: ir.Table) -> dict[tuple[str, str], float]:
    """(profile_id, channel) -> expected response, from the channel model's ``response_<channel>`` scores."""
    s = warehouse.table("scores")
    names = {f"response_{c}": c for c in channels}
    s = s.filter(s.score.isin(list(names)))
    s = s.semi_join(people, s.profile_id == people.profile_id).select("profile_id", "score", "value")
    rows = warehouse.execute(s)
    return {(p, names[n]): float(v) for p, n, v in zip(rows.profile_id, rows.score, rows.value)}


# -- ranking and the cap ---------------------------------------------------------------------------
def _ranked(warehouse: Warehouse, campaign: Campaign, frame: pd.DataFrame) -> pd.DataFrame:
    """Best first by ``rank_by`` (people without a value last), ties by the arm hash."""
    values = pd.Series(np.nan, index=frame.index)
    if campaign.rank_by:
        values = frame.profile_id.map(_rank_values(warehouse, campaign.rank_by, frame.profile_id)).astype(float)
    frame = frame.assign(rank_value=values)
    return frame.sort_values(["rank_value", "_bucket"], ascending=[False, True], na_position="last",
                             kind="stable").reset_index(drop=True)


def _rank_values(warehouse: Warehouse, name: str, profile_ids: pd.Series) -> dict[str, float]:
    people = people_table(warehouse, profile_ids)
    s = warehouse.table("scores")
    by_score = s.filter(s.score == name)
    if int(warehouse.execute(by_score.limit(1).count())):
        rows = warehouse.execute(by_score.semi_join(people, by_score.profile_id == people.profile_id)
                                 .select("profile_id", "value"))
        return dict(zip(rows.profile_id, rows.value))
    pf = warehouse.table("profile_features")
    if name in pf.columns and pf[name].type().is_numeric():
        rows = warehouse.execute(pf.semi_join(people, pf.profile_id == people.profile_id)
                                 .select("profile_id", value=pf[name].cast("float64")))
        return dict(zip(rows.profile_id, rows.value))
    numeric = [c for c in pf.columns if pf[c].type().is_numeric()]
    raise CampaignError(f"rank_by {name!r} is neither a score in `scores` nor a numeric profile field; "
                        f"scores are built by `jingzhun build`; numeric fields include {', '.join(numeric[:12])}")


def _capped(campaign: Campaign, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    keep = pd.Series(True, index=frame.index)
    reason = ""
    if campaign.limit is not None:
        keep &= frame.index < campaign.limit
        reason = f"below the cap: only the best {campaign.limit:,} by {campaign.rank_by or 'the arm hash'}"
    if campaign.budget is not None:
        spend = frame.channel.map(lambda c: campaign.costs.get(c, 0.0)).cumsum()
        keep &= spend <= campaign.budget + 1e-9
        reason = (reason + "; " if reason else "") + (f"over the budget of {campaign.budget:g} for messages "
                                                      f"(ranked by {campaign.rank_by or 'the arm hash'})")
    return frame[keep].reset_index(drop=True), _reasons(frame[~keep], reason)


# -- send times ------------------------------------------------------------------------------------
def _window_start(campaign: Campaign, planned_at: pd.Timestamp) -> pd.Timestamp:
    start = campaign.schedule.start
    if start is None:
        return planned_at
    start = pd.Timestamp(start)
    if start.tzinfo is None:
        raise CampaignError(f"campaign {campaign.id!r}: schedule.start needs a UTC offset, e.g. "
                            "'2026-12-01T09:00:00+08:00'")
    return start.tz_convert("UTC")


def _times(warehouse: Warehouse, campaign: Campaign, profile_ids: pd.Series, planned_at: pd.Timestamp,
           tz: str) -> pd.Series:
    start = _window_start(campaign, planned_at)
    s = campaign.schedule
    if profile_ids.empty:
        return pd.Series([], dtype="datetime64[ns, UTC]")
    if s.send_time == "best":
        from jingzhun.models.sendtime import schedule

        send_times = warehouse.stage(_send_times(warehouse, profile_ids))
        times = warehouse.execute(schedule(send_times, start=start.to_pydatetime(), within_days=s.within_days,
                                           quiet_hours=s.quiet_hours, timezone=tz, use_weekday=s.use_weekday,
                                           fallback_hour=_fallback_hour(warehouse, send_times)))
        by_person = dict(zip(times.profile_id, pd.to_datetime(times.scheduled_at, utc=True)))
        return pd.to_datetime(profile_ids.map(by_person), utc=True)
    when = fixed_time(start, s.fixed_clock(), s.quiet_hours, tz)
    return pd.Series(pd.Timestamp(when), index=profile_ids.index).dt.tz_convert("UTC")


def _send_times(warehouse: Warehouse, profile_ids: pd.Series) -> ir.Table:
    """profile_id, send_hour, send_weekday (null where the send-time model has no score) for the plan's people."""
    people = people_table(warehouse, profile_ids)
    s = warehouse.table("scores")
    s = s.filter(s.score.isin(["send_hour", "send_weekday"]))
    wide = s.group_by("profile_id").aggregate(
        send_hour=s.value.max(where=s.score == "send_hour"), send_weekday=s.value.max(where=s.score == "send_weekday"))
    return people.left_join(wide, people.profile_id == wide.profile_id).select(
        people.profile_id, wide.send_hour.cast("int64").name("send_hour"),
        wide.send_weekday.cast("int64").name("send_weekday"))


def _fallback_hour(warehouse: Warehouse, send_times: ir.Table) -> int:
    """The hour of people the send-time model knows nothing about: the one most of the audience has
    (ties: the earliest), else :data:`DEFAULT_CLOCK` when nobody has a learnt send time yet."""
    known = send_times.filter(send_times.send_hour.notnull())
    counts = warehouse.execute(known.group_by("send_hour").aggregate(n=known.count()))
    if counts.empty:
        return DEFAULT_CLOCK.hour
    return int(counts.sort_values(["n", "send_hour"], ascending=[False, True]).send_hour.iloc[0])


def fixed_time(start: pd.Timestamp, clock, quiet_hours, tz: str) -> pd.Timestamp:
    """The first moment at or after ``start`` that is ``clock`` local time; a clock inside the quiet
    hours moves to their end (a campaign must not set 23:00 by mistake and wake people)."""
    zone = ZoneInfo(tz)
    local = start.tz_convert(zone)
    hour, minute = clock.hour, clock.minute
    if quiet_hours is not None and _is_quiet(hour * 60 + minute, quiet_hours):
        end_h, end_m = (int(x) for x in quiet_hours[1].split(":"))
        hour, minute = end_h, end_m
    candidate = pd.Timestamp(datetime(local.year, local.month, local.day, hour, minute), tz=zone)
    if candidate < local:
        day = (local + timedelta(days=1)).date()
        candidate = pd.Timestamp(datetime(day.year, day.month, day.day, hour, minute), tz=zone)
    return candidate.tz_convert("UTC")


def _is_quiet(minute_of_day: int, quiet_hours) -> bool:
    a, b = ((int(h) * 60 + int(m)) for h, m in (t.split(":") for t in quiet_hours))
    return (a <= minute_of_day < b) if a < b else (minute_of_day >= a or minute_of_day < b)


# -- what the models expect ------------------------------------------------------------------------
def _estimates(warehouse: Warehouse, campaign: Campaign, messages: pd.DataFrame) -> pd.DataFrame:
    """Per message: P(a purchase within the conversion window) from ``p_buy_90d`` (a constant hazard
    over 90 days scaled to the window), revenue at the person's average order value, and the
    ``uplift`` score where one was written."""
    out = pd.DataFrame({"expected_conversion": np.nan, "expected_revenue": np.nan, "expected_uplift": np.nan},
                       index=messages.index)
    if messages.empty:
        return out
    p90 = _optional_values(warehouse, "p_buy_90d", messages.profile_id)
    if p90:
        p = messages.profile_id.map(p90).astype(float).clip(0, 1 - 1e-9)
        window = campaign.conversion.window_days
        out["expected_conversion"] = 1 - (1 - p) ** (window / 90.0)
        aov = _optional_values(warehouse, "avg_order_value", messages.profile_id, field=True)
        out["expected_revenue"] = out.expected_conversion * messages.profile_id.map(aov).astype(float)
    uplift = _optional_values(warehouse, "uplift", messages.profile_id)
    if uplift:
        out["expected_uplift"] = messages.profile_id.map(uplift).astype(float)
    return out


def _optional_values(warehouse: Warehouse, name: str, profile_ids: pd.Series, field: bool = False) -> dict:
    try:
        if field:
            pf = warehouse.table("profile_features")
            if name not in pf.columns:
                return {}
        return _rank_values(warehouse, name, profile_ids)
    except CampaignError:
        return {}
