"""Triggers: rules that start a campaign step for one person when something happens to them.

A trigger is data (YAML or a mapping)::

    id: cart-1h
    campaign: cart-reminder
    kind: cart_abandoned
    params: {wait_hours: 1}
    cooldown_days: 7

:func:`evaluate` finds the *occasions* of each trigger whose moment falls in a window ``(since, until]``
and writes one ``trigger_firings`` row per occasion that fires, with the reason in words. The kinds
(docs/triggers.md gives every parameter):

* ``cart_abandoned``: a 'Product Added' with no purchase order and no other add by the person within
  ``wait_hours`` after it (a burst of adds is one cart, judged from its last add); the occasion's moment
  is the add plus the wait, when the cart is known to be abandoned.
* ``score_crossed``: a banded score tag (``churn_risk_level``) rising into one of ``levels``
  (``[high]``) between two tag builds, as ``tag_history`` recorded it; the moment is the build's as_of.
  Why through tags: ``scores`` keeps only the latest value, while ``tag_history`` already keeps every
  level change with its moment, on both engines; the tag's cut is the threshold (churn_risk 0.7 for
  ``high``).
* ``tag_gained``: a tag gained between two tag builds (optionally only some ``values``).
* ``birthday``: local midnight of the birthday (``days_before`` earlier, if set), once a year; a
  29 February birthday is kept on 28 February in other years.
* ``days_after_purchase``: ``days`` after buying a consumable, or when it is ``due`` by its product's
  ``repurchase_days``; not when the person bought the same product again in between.
* ``first_purchase``: the person's first purchase order ever (once per person).
* ``event``: any event by name, with property conditions written as in the audience language
  (``where: "category = 'skincare' and price >= 50"``).

Dedup and cooldown. Each occasion has a ``dedup_key`` (trigger, person and the occasion: the add's
message id, the birthday's year, the order and product, ...), the table's key: evaluating a window again,
or overlapping windows, fires nothing new, so batches may overlap to catch late data. An occasion
within ``cooldown_days`` (before or after) of a firing of the same trigger for the same person does not
fire; within one evaluation the earliest occasions fire first. Cooldowns compare occasion moments, not
evaluation times, so one long window and many short ones fire the same people.

Batch now, real time later: the service will call :func:`evaluate` with a window that ends at the
event just received; nothing here assumes a daily batch.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.types as ir
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jingzhun.errors import ConfigError
from jingzhun.profile.keys import keyed_events, keyed_orders
from jingzhun.segment import AudienceContext, AudienceError, audience, parse
from jingzhun.segment.language.nodes import Did
from jingzhun.warehouse import Warehouse

__all__ = ["KINDS", "Trigger", "trigger_from_dict", "load_triggers", "evaluate"]

KINDS = ("cart_abandoned", "score_crossed", "tag_gained", "birthday", "days_after_purchase", "first_purchase",
         "event")
_DAY = 86_400


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CartAbandoned(_Params):
    event: str = "Product Added"
    wait_hours: float = Field(1.0, gt=0, le=24 * 30)


class ScoreCrossed(_Params):
    tag: str = Field(description="a banded score tag, e.g. churn_risk_level")
    levels: tuple[str, ...] = Field(min_length=1, description="the levels that count as above the threshold")


class TagGained(_Params):
    tag: str
    values: tuple[str, ...] | None = None


class Birthday(_Params):
    days_before: int = Field(0, ge=0, le=60)
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None:
            _zone(v)
        return v


class DaysAfterPurchase(_Params):
    days: float | None = Field(None, gt=0, le=3650)
    due: bool = False
    category: str | None = None
    product: str | None = None
    consumables_only: bool = True

    @model_validator(mode="after")
    def _one(self) -> "DaysAfterPurchase":
        if (self.days is None) == (not self.due):
            raise ValueError("give either days: N (N days after the purchase) or due: true (when the product's "
                             "repurchase_days have passed), not " + ("both" if self.due else "neither"))
        return self


class FirstPurchase(_Params):
    pass


class EventParams(_Params):
    event: str = Field(min_length=1)
    where: str | None = Field(None, description="event property conditions in the audience language")

    @model_validator(mode="after")
    def _where(self) -> "EventParams":
        _event_node(self.event, self.where)
        return self


_PARAMS: dict[str, type[_Params]] = {
    "cart_abandoned": CartAbandoned, "score_crossed": ScoreCrossed, "tag_gained": TagGained, "birthday": Birthday,
    "days_after_purchase": DaysAfterPurchase, "first_purchase": FirstPurchase, "event": EventParams,
}


class Trigger(BaseModel):
    """One trigger: which campaign it starts a step of, on what occasion, how often at most per person."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    campaign: str = Field(min_length=1)
    kind: Literal[KINDS]  # type: ignore[valid-type]
    params: dict[str, Any] = Field(default_factory=dict)
    cooldown_days: float = Field(30.0, ge=0, le=3650)

    @model_validator(mode="after")
    def _params(self) -> "Trigger":
        try:
            _PARAMS[self.kind].model_validate(self.params)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'params'}: "
                                 f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
            raise ValueError(f"params of the {self.kind} trigger: {problems}") from None
        return self

    @property
    def settings(self) -> _Params:
        """The parameters, validated and with their defaults."""
        return _PARAMS[self.kind].model_validate(self.params)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the trigger's meaning (its parameters with defaults filled in)."""
        meaning = {"campaign": self.campaign, "kind": self.kind, "cooldown_days": self.cooldown_days,
                   "params": self.settings.model_dump(mode="json")}
        return hashlib.sha256(json.dumps(meaning, sort_keys=True).encode("utf-8")).hexdigest()


def trigger_from_dict(data: Any, *, source: str = "trigger") -> Trigger:
    """A :class:`Trigger` from a mapping; an error names ``source``, the trigger and every key at fault."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a trigger is a mapping (id, campaign, kind, params, cooldown_days), "
                          f"got {type(data).__name__}")
    try:
        return Trigger.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg'].removeprefix('Value error, ')}"
                 for e in exc.errors()]
        raise ConfigError(f"{source}: trigger {data.get('id', '?')!r} is not valid "
                          f"(kinds: {', '.join(KINDS)}):\n" + "\n".join(lines)) from None


def load_triggers(path: str | Path) -> list[Trigger]:
    """Triggers from a YAML file: a list of triggers, or a mapping with a ``triggers`` list."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read triggers: {exc}") from None
    items = data.get("triggers") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ConfigError(f"{path}: expected a list of triggers (or `triggers:` with a list)")
    triggers = [trigger_from_dict(item, source=f"{path}, trigger {i + 1}") for i, item in enumerate(items)]
    _unique(triggers)
    return triggers


def _unique(triggers: Sequence[Trigger]) -> None:
    ids = [t.id for t in triggers]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ConfigError(f"trigger ids must be unique; given twice: {', '.join(twice)}")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai") from None


def _event_node(event: str, where: str | None) -> Did:
    """The ``did`` node of an event trigger; ``where`` may hold event property conditions only."""
    text = "did " + "'" + event.replace("'", "''") + "'" + (f" where {where}" if where else "")
    try:
        node = parse(text)
    except AudienceError as exc:
        raise ValueError(f"where: {exc}") from None
    if not isinstance(node, Did) or node.count is not None or node.window is not None or node.negated:
        raise ValueError(f"where holds event property conditions only (like category = 'skincare' and "
                         f"price >= 50), got {where!r}")
    return node


# -- evaluation --------------------------------------------------------------------------------------

def _utc(when) -> dt.datetime:
    ts = pd.Timestamp(when)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def _ts(when: dt.datetime) -> ir.TimestampScalar:
    return ibis.literal(when, type="timestamp('UTC')")


def _seconds(t: ir.TimestampValue) -> ir.IntegerValue:
    return t.epoch_seconds().cast("int64")


def _text(value: ir.Value) -> ir.StringValue:
    """A value as text, never null (concatenating a null differs between the engines)."""
    return value.cast("string").fill_null("")


class _Window:
    """One evaluation: its window, its time zone, and the tables it staged (dropped when it ends, since
    the service will evaluate again and again in one process)."""

    def __init__(self, warehouse: Warehouse, since: dt.datetime, until: dt.datetime, timezone: str) -> None:
        self.warehouse, self.since, self.until, self.timezone = warehouse, since, until, timezone
        self._staged: list[str] = []

    def holds(self, t: ir.TimestampValue) -> ir.BooleanValue:
        return (t > _ts(self.since)) & (t <= _ts(self.until))

    def stage(self, data) -> ir.Table:
        table = self.warehouse.stage(data)
        self._staged.append(table.get_name().rsplit(".", 1)[-1])  # a stage's own name has no dot
        return table

    def drop_stages(self) -> None:
        for name in self._staged:
            self.warehouse.drop_stage(name)
        self._staged.clear()


def evaluate(warehouse: Warehouse, triggers: Iterable[Trigger], since, until, now=None, *,
             timezone: str = "UTC") -> ir.Table:
    """Fire every trigger for its occasions in ``(since, until]``; write and return the new firings.

    ``now`` (default ``until``) is written as ``fired_at``; ``until`` may not be later than ``now``
    (an occasion is only known once it has happened). ``timezone`` is the zone of local dates
    (birthdays) unless a trigger names its own. Returns a staged table with the columns of
    ``trigger_firings``: only the rows this call wrote.
    """
    triggers = list(triggers)
    _unique(triggers)
    since, until = _utc(since), _utc(until)
    now = until if now is None else _utc(now)
    if not since < until <= now:
        raise ConfigError(f"a trigger window needs since < until <= now, got since={since.isoformat()}, "
                          f"until={until.isoformat()}, now={now.isoformat()}")
    try:
        _zone(timezone)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if not triggers:
        return warehouse.stage(warehouse.table("trigger_firings").limit(0))
    window = _Window(warehouse, since, until, timezone)
    try:
        parts = [_candidates(warehouse, t, window) for t in triggers]
        candidates = ibis.union(*parts) if len(parts) > 1 else parts[0]
        firings = warehouse.table("trigger_firings")
        candidates = candidates.anti_join(firings, candidates.dedup_key == firings.dedup_key)
        once = ibis.row_number().over(ibis.window(group_by=candidates.dedup_key, order_by=candidates.event_at))
        candidates = candidates.mutate(_n=once)
        candidates = window.stage(candidates.filter(candidates._n == 0).drop("_n"))
        fired = _apply_cooldowns(window, candidates, triggers)
        new = warehouse.stage(fired.select(
            "trigger_id", "campaign_id", "profile_id", "event_at", fired_at=_ts(now), dedup_key=fired.dedup_key,
            reason=fired.reason))
        with warehouse.transaction():
            warehouse.append("trigger_firings", new)
    finally:
        window.drop_stages()
    return new


def _apply_cooldowns(window: _Window, candidates: ir.Table, triggers: Sequence[Trigger]) -> ir.Table:
    """The candidates that fire: those no firing of the same trigger and person is within cooldown of.

    Within the batch the earliest occasion of a person fires first and blocks the ones within its
    cooldown; the next still open fires in the next round, and so on (rounds: the most firings of one
    person in the window). Triggers without a cooldown fire every occasion at once.
    """
    cooling = {t.id: int(round(t.cooldown_days * _DAY)) for t in triggers if t.cooldown_days > 0}
    if not cooling:
        return candidates
    free = candidates.filter(~candidates.trigger_id.isin(list(cooling)))
    cool = ibis.cases(*((candidates.trigger_id == tid, s) for tid, s in cooling.items()), else_=0)
    warehouse = window.warehouse
    open_ = window.stage(candidates.filter(candidates.trigger_id.isin(list(cooling)))
                            .mutate(_t=_seconds(candidates.event_at), _cool=cool))
    past = warehouse.table("trigger_firings")
    past = past.filter(past.trigger_id.isin(list(cooling)))
    fired = past.select(trigger_id=past.trigger_id.cast("string"), profile_id=past.profile_id.cast("string"),
                        _t=_seconds(past.event_at))  # cast: the table's columns are not nullable, the union's are
    picked = []
    while True:
        f = fired.select(_ft="trigger_id", _fp="profile_id", _ftime="_t")
        blocked = open_.join(f, (open_.trigger_id == f._ft) & (open_.profile_id == f._fp)
                             & ((open_._t - f._ftime).abs() < open_._cool)).select("dedup_key")
        still = open_.anti_join(blocked, "dedup_key")
        first = ibis.row_number().over(ibis.window(group_by=[still.trigger_id, still.profile_id],
                                                   order_by=[still._t, still.dedup_key]))
        pick = window.stage(still.mutate(_r=first).filter(lambda t: t._r == 0).drop("_r"))
        if not warehouse.execute(pick.count()):
            break
        picked.append(pick)
        fired = fired.union(pick.select("trigger_id", "profile_id", "_t"))
        open_ = window.stage(still.anti_join(pick, "dedup_key"))
    columns = list(candidates.columns)
    return ibis.union(free, *[p.select(*columns) for p in picked]) if picked else free


def _candidates(warehouse: Warehouse, trigger: Trigger, window: _Window) -> ir.Table:
    """trigger_id, campaign_id, profile_id, event_at, dedup_key, reason of every occasion in the window."""
    occasions = _OCCASIONS[trigger.kind](warehouse, trigger.settings, window)
    occasions = occasions.filter(occasions.profile_id.notnull(), window.holds(occasions.event_at))
    key = ibis.literal(f"{trigger.id}|") + occasions.profile_id + ibis.literal("|") + occasions.occasion
    return occasions.select(trigger_id=ibis.literal(trigger.id), campaign_id=ibis.literal(trigger.campaign),
                            profile_id=occasions.profile_id, event_at=occasions.event_at.cast("timestamp('UTC')"),
                            dedup_key=key, reason=occasions.reason)


def _hours(h: float) -> str:
    return f"{h:g} h" if h < 48 else f"{h / 24:g} days"


def _product_of(properties: ir.StringValue) -> ir.StringValue:
    return properties.fill_null("").re_extract(r'"product_id"\s*:\s*"([^"\\]*)"', 1).fill_null("")


def _cart_abandoned(wh: Warehouse, p: CartAbandoned, w: _Window) -> ir.Table:
    wait = int(round(p.wait_hours * 3600))
    lo = w.since - dt.timedelta(seconds=wait)
    ev = keyed_events(wh)
    adds = ev.filter(ev.event == p.event, ev.profile_id.notnull(), ev.timestamp > _ts(lo), ev.timestamp <= _ts(w.until))
    adds = adds.select("profile_id", "message_id", "properties", _t=_seconds(adds.timestamp), at=adds.timestamp)
    later = adds.select(_lp="profile_id", _lm="message_id", _lt="_t")
    orders = keyed_orders(wh)
    orders = orders.filter(~orders.is_return, orders.profile_id.notnull(), orders.ordered_at >= _ts(lo))
    bought = orders.select(_op="profile_id", _ot=_seconds(orders.ordered_at))
    open_ = adds.anti_join(later, (adds.profile_id == later._lp) & (later._lt > adds._t)
                           & (later._lt <= adds._t + wait))
    open_ = open_.anti_join(bought, (open_.profile_id == bought._op) & (bought._ot >= open_._t)
                            & (bought._ot <= open_._t + wait))
    product = _product_of(open_.properties)
    what = ibis.ifelse(product == "", ibis.literal("something"), ibis.literal("product ") + product)
    return open_.select(
        "profile_id", event_at=open_.at + ibis.interval(seconds=wait), occasion=open_.message_id,
        reason=ibis.literal("added ") + what + ibis.literal(f" to the cart ('{p.event}') and bought nothing "
                                                            f"within {_hours(p.wait_hours)}"))


def _tag_changes(wh: Warehouse, tag: str) -> ir.Table:
    """tag_history rows of ``tag`` after its first build (the first build is the baseline, not a change)."""
    h = wh.table("tag_history")
    return h.filter(h.tag == tag, h.previous_as_of.notnull())


def _tag_occasion(h: ir.Table) -> ir.StringValue:
    return _text(_seconds(h.as_of)) + ibis.literal("|") + _text(h.value_after)


def _score_crossed(wh: Warehouse, p: ScoreCrossed, w: _Window) -> ir.Table:
    h = _tag_changes(wh, p.tag)
    levels = list(p.levels)
    rose = h.filter(h.change.isin(["gained", "changed"]), h.value_after.isin(levels),
                    h.value_before.isnull() | h.value_before.notin(levels))
    before = ibis.ifelse(rose.value_before.isnull(), ibis.literal(""), ibis.literal(" from ") + _text(rose.value_before))
    return rose.select("profile_id", event_at=rose.as_of, occasion=_tag_occasion(rose),
                       reason=ibis.literal(f"{p.tag} rose to ") + _text(rose.value_after) + before
                       + ibis.ifelse(rose.reason.isnull(), ibis.literal(""), ibis.literal(": ") + _text(rose.reason)))


def _tag_gained(wh: Warehouse, p: TagGained, w: _Window) -> ir.Table:
    h = _tag_changes(wh, p.tag)
    if p.values is None:
        got = h.filter(h.change == "gained")
    else:
        values = list(p.values)
        got = h.filter(h.change.isin(["gained", "changed"]), h.value_after.isin(values),
                       h.value_before.isnull() | h.value_before.notin(values))
    value = ibis.ifelse(got.value_after.isnull(), ibis.literal(""), ibis.literal(" (") + _text(got.value_after) + ")")
    return got.select("profile_id", event_at=got.as_of, occasion=_tag_occasion(got),
                      reason=ibis.literal(f"gained tag {p.tag}") + value
                      + ibis.ifelse(got.reason.isnull(), ibis.literal(""), ibis.literal(": ") + _text(got.reason)))


def _birthday_calendar(p: Birthday, w: _Window) -> pd.DataFrame:
    """Every (month, day) of a birthday whose occasion falls in the window, with its year and UTC moment."""
    zone = ZoneInfo(p.timezone or w.timezone)
    rows = []
    for year in range(w.since.astimezone(zone).year, w.until.astimezone(zone).year + 2):
        for month in range(1, 13):
            for day in range(1, calendar.monthrange(2024, month)[1] + 1):
                kept = (month, day) if (month, day) != (2, 29) or calendar.isleap(year) else (2, 28)
                local = dt.datetime(year, *kept, tzinfo=zone) - dt.timedelta(days=p.days_before)
                at = local.astimezone(dt.timezone.utc)
                if w.since < at <= w.until:
                    rows.append({"_m": month, "_d": day, "_year": str(year), "_at": at,
                                 "_text": f"birthday on {year}-{kept[0]:02d}-{kept[1]:02d}"
                                 + (f", in {p.days_before} days" if p.days_before else "")})
    frame = pd.DataFrame(rows, columns=["_m", "_d", "_year", "_at", "_text"])
    frame["_at"] = pd.to_datetime(frame["_at"], utc=True)
    return frame.astype({"_m": "int64", "_d": "int64", "_year": str, "_text": str})


def _birthday(wh: Warehouse, p: Birthday, w: _Window) -> ir.Table:
    days = w.stage(_birthday_calendar(p, w))
    pf = wh.table("profile_features")
    born = pf.filter(pf.birth_date.notnull()).select("profile_id", _bm=pf.birth_date.month().cast("int64"),
                                                     _bd=pf.birth_date.day().cast("int64"))
    hit = born.join(days, (born._bm == days._m) & (born._bd == days._d))
    return hit.select("profile_id", event_at=hit._at, occasion=hit._year, reason=hit._text)


def _bought_lines(wh: Warehouse) -> ir.Table:
    """profile_id, order (source/id), ordered_at, product_id, category, is_consumable, repurchase_days."""
    orders = keyed_orders(wh)
    orders = orders.filter(~orders.is_return, orders.profile_id.notnull()).select(
        "profile_id", _src="source", _oid="order_id", ordered_at="ordered_at")
    lines = wh.table("order_lines")
    lines = lines.filter(~lines.is_return, lines.product_id.notnull())
    products = wh.table("products")
    products = products.group_by(_pid=products.product_id).aggregate(
        category=products.category.max(), is_consumable=products.is_consumable.max(),
        repurchase_days=products.repurchase_days.max())
    rows = lines.join(orders, (lines.source == orders._src) & (lines.order_id == orders._oid))
    rows = rows.left_join(products, rows.product_id == products._pid)
    return rows.select("profile_id", order=rows.source + ibis.literal("/") + rows.order_id, ordered_at="ordered_at",
                       product_id="product_id", category="category", is_consumable="is_consumable",
                       repurchase_days="repurchase_days").distinct()


def _days_after_purchase(wh: Warehouse, p: DaysAfterPurchase, w: _Window) -> ir.Table:
    rows = _bought_lines(wh)
    conds = [rows.ordered_at <= _ts(w.until)]
    if p.consumables_only or p.due:
        conds.append(rows.is_consumable.fill_null(False))
    if p.due:
        conds.append(rows.repurchase_days.notnull() & (rows.repurchase_days > 0))
    if p.category is not None:
        conds.append(rows.category == p.category)
    if p.product is not None:
        conds.append(rows.product_id == p.product)
    rows = rows.filter(*conds)
    wait = (rows.repurchase_days * _DAY) if p.due else ibis.literal(p.days * _DAY)
    rows = rows.mutate(_t=_seconds(rows.ordered_at), _wait=wait.round().cast("int64"))
    rows = rows.mutate(_due=rows._t + rows._wait)
    rows = rows.filter(rows._due > int(w.since.timestamp()), rows._due <= int(w.until.timestamp()))
    again = _bought_lines(wh)
    again = again.select(_ap="profile_id", _aprod="product_id", _at=_seconds(again.ordered_at))
    rows = rows.anti_join(again, (rows.profile_id == again._ap) & (rows.product_id == again._aprod)
                          & (again._at > rows._t) & (again._at <= rows._due))
    days = (rows.repurchase_days.round(1) if p.due else ibis.literal(p.days)).cast("string")
    why = (ibis.literal("bought product ") + rows.product_id + ibis.literal(" ") + days
           + ibis.literal(" days ago" + (" (its repurchase cycle) and not again since" if p.due
                                         else " and not again since")))
    return rows.select("profile_id", event_at=rows.ordered_at + rows._wait.as_interval("s"),
                       occasion=rows.order + ibis.literal("|") + rows.product_id, reason=why)


def _first_purchase(wh: Warehouse, p: FirstPurchase, w: _Window) -> ir.Table:
    orders = keyed_orders(wh)
    orders = orders.filter(~orders.is_return, orders.profile_id.notnull())
    first = ibis.row_number().over(ibis.window(group_by=orders.profile_id,
                                               order_by=[orders.ordered_at, orders.source, orders.order_id]))
    orders = orders.mutate(_r=first)
    orders = orders.filter(orders._r == 0)
    return orders.select("profile_id", event_at=orders.ordered_at, occasion=ibis.literal("first"),
                         reason=ibis.literal("first purchase: order ") + orders.order_id)


def _event(wh: Warehouse, p: EventParams, w: _Window) -> ir.Table:
    ev = keyed_events(wh)
    ev = ev.filter(ev.event == p.event, ev.profile_id.notnull(), w.holds(ev.timestamp))
    if p.where:
        # each event is its own "profile" so the audience language's property conditions pick events
        rows = ev.select(profile_id=ev.message_id, event=ev.event, timestamp=ev.timestamp, properties=ev.properties)
        ctx = AudienceContext(base=rows.select("profile_id"), as_of=w.until, events=rows)
        chosen = audience(_event_node(p.event, p.where), ctx)
        ev = ev.semi_join(chosen, ev.message_id == chosen.profile_id)
    said = f"did '{p.event}'" + (f" where {p.where}" if p.where else "")
    return ev.select("profile_id", event_at=ev.timestamp, occasion=ev.message_id, reason=ibis.literal(said))


_OCCASIONS = {
    "cart_abandoned": _cart_abandoned, "score_crossed": _score_crossed, "tag_gained": _tag_gained,
    "birthday": _birthday, "days_after_purchase": _days_after_purchase, "first_purchase": _first_purchase,
    "event": _event,
}
