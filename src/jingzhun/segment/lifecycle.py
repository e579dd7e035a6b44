"""Lifecycle stages: new, active, at risk, lapsed, won back.

Read from each buyer's purchase history before as_of (purchases as in the profile features: orders
that are not returns, not cancelled, with a positive amount, attached to people through
``identity_map``). With ``recency`` = whole days from the last purchase to as_of, ``age`` = whole days
from the first purchase to as_of, and ``gap`` = days between the last purchase day and the purchase
day before it (local days; none for a single purchase day), the first rule that holds gives the stage:

1. **new**: ``age <= new_days`` (the first purchase is recent);
2. **won back**: ``recency <= active_days`` and ``gap > lapse_days`` (came back after a lapse);
3. **active**: ``recency <= active_days``;
4. **at risk**: ``recency <= lapse_days``;
5. **lapsed**: otherwise.

People who never bought have no stage.

**Thresholds from the data.** Unless given, they come from the gaps between consecutive purchase days
of every repeat buyer (pooled): ``active_days`` is the 80th percentile of the gaps (four repeat
purchases in five come sooner than that), ``lapse_days`` the 95th, and ``new_days`` equals
``active_days``. Percentiles are the smallest gap whose cumulative share reaches the level, read from
an exact histogram of whole-day gaps, so both engines give the same numbers. Without any repeat
purchase there are no gaps to learn from, and the thresholds fall back to 30, 90 and 180 days.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.errors import ConfigError
from jingzhun.profile.clock import SECONDS_PER_DAY, Clock, epoch_seconds
from jingzhun.profile.keys import keyed_orders
from jingzhun.profile.rfm import is_purchase
from jingzhun.segment.saved import Segment, save_segment

__all__ = ["STAGES", "LifecycleRules", "purchase_days", "derive_rules", "lifecycle_stages", "rules_of",
           "save_lifecycle_segments", "LIFECYCLE_PREFIX", "FALLBACK_RULES"]

log = logging.getLogger(__name__)

STAGES = ("new", "active", "at risk", "lapsed", "won back")
LIFECYCLE_PREFIX = "Lifecycle: "
ACTIVE_LEVEL, LAPSE_LEVEL = 0.80, 0.95
_DESCRIPTIONS = {
    "new": "first purchase within the last {new_days} days",
    "active": "bought within the last {active_days} days",
    "at risk": "last purchase more than {active_days} and at most {lapse_days} days ago",
    "lapsed": "no purchase for more than {lapse_days} days",
    "won back": "bought within {active_days} days after a gap of more than {lapse_days} days",
}


@dataclass(frozen=True)
class LifecycleRules:
    """The thresholds in days, and where they came from ("data", "given" or "fallback")."""

    new_days: int
    active_days: int
    lapse_days: int
    source: str = "given"

    def __post_init__(self) -> None:
        for name in ("new_days", "active_days", "lapse_days"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ConfigError(f"lifecycle {name} is a whole number of days >= 0, not {v!r}")
        if self.lapse_days < self.active_days:
            raise ConfigError(f"lifecycle lapse_days ({self.lapse_days}) must be at least active_days "
                              f"({self.active_days}): a person is at risk before lapsing")

    def to_dict(self) -> dict:
        return asdict(self)


FALLBACK_RULES = LifecycleRules(new_days=30, active_days=90, lapse_days=180, source="fallback")


def purchase_days(warehouse, clock: Clock) -> ir.Table:
    """profile_id, day (local day number), first_at and last_at of that day, for purchases before as_of."""
    o = keyed_orders(warehouse)
    o = o.filter(o.profile_id.notnull() & is_purchase(o) & (epoch_seconds(o.ordered_at) < clock.as_of_epoch))
    o = o.mutate(day=clock.local_day(o.ordered_at))
    return o.group_by(["profile_id", "day"]).aggregate(first_at=o.ordered_at.min(), last_at=o.ordered_at.max())


def _gaps(days: ir.Table) -> ir.Table:
    w = ibis.window(group_by=days.profile_id, order_by=days.day)
    return days.mutate(gap=(days.day - days.day.lag().over(w)).cast("int64"))


def _percentile(hist: pd.DataFrame, level: float) -> int:
    """Smallest gap whose cumulative share of all gaps reaches ``level``."""
    hist = hist.sort_values("gap")
    share = hist.n.cumsum() / hist.n.sum()
    return int(hist.gap[share >= level - 1e-12].iloc[0])


def derive_rules(warehouse, clock: Clock, *, new_days: int | None = None, active_days: int | None = None,
                 lapse_days: int | None = None) -> LifecycleRules:
    """Thresholds from the gaps between purchase days (see the module docstring); given ones win."""
    gaps = _gaps(purchase_days(warehouse, clock))
    gaps = gaps.filter(gaps.gap.notnull())
    hist = warehouse.execute(gaps.group_by("gap").aggregate(n=gaps.count()))
    if hist.empty:
        base = FALLBACK_RULES
        log.info("no repeat purchases before %s: lifecycle thresholds fall back to %s", clock.as_of, base)
    else:
        active = _percentile(hist, ACTIVE_LEVEL)
        base = LifecycleRules(new_days=active, active_days=active,
                              lapse_days=max(_percentile(hist, LAPSE_LEVEL), active), source="data")
    given = {k: v for k, v in dict(new_days=new_days, active_days=active_days, lapse_days=lapse_days).items()
             if v is not None}
    if not given:
        return base
    values = {**base.to_dict(), **given, "source": "given" if len(given) == 3 else f"{base.source}+given"}
    if "lapse_days" not in given and values["lapse_days"] < values["active_days"]:
        values["lapse_days"] = values["active_days"]
    return LifecycleRules(**values)


def lifecycle_stages(warehouse, clock: Clock, rules: LifecycleRules) -> ir.Table:
    """Every buyer before as_of with ``stage`` and what decided it: recency_days, age_days, gap_days."""
    days = _gaps(purchase_days(warehouse, clock))
    last_day = days.day.max().over(ibis.window(group_by=days.profile_id))
    days = days.mutate(_last_day=last_day)
    per = days.group_by("profile_id").aggregate(
        first_at=days.first_at.min(), last_at=days.last_at.max(),
        gap_days=days.gap.max(where=days.day == days._last_day))
    now = ibis.literal(clock.as_of_epoch)
    per = per.mutate(
        recency_days=((now - epoch_seconds(per.last_at)) // SECONDS_PER_DAY).cast("int64"),
        age_days=((now - epoch_seconds(per.first_at)) // SECONDS_PER_DAY).cast("int64"),
    )
    recent = per.recency_days <= rules.active_days
    stage = ibis.cases(
        (per.age_days <= rules.new_days, "new"),
        (recent & (per.gap_days.fill_null(0) > rules.lapse_days), "won back"),
        (recent, "active"),
        (per.recency_days <= rules.lapse_days, "at risk"),
        else_="lapsed",
    )
    return per.mutate(stage=stage).select("profile_id", "stage", "recency_days", "age_days", "gap_days",
                                          "first_at", "last_at")


def rules_of(rule: dict) -> LifecycleRules:
    """The thresholds a saved lifecycle rule holds."""
    days = {k: rule[k] for k in ("new_days", "active_days", "lapse_days")}
    return LifecycleRules(**days, source=rule.get("source", "given"))


def save_lifecycle_segments(warehouse, rules: LifecycleRules, *, timezone: str = "UTC",
                            prefix: str = LIFECYCLE_PREFIX) -> list[tuple[Segment, str]]:
    """Save the five stages (kind ``lifecycle``) with these thresholds frozen in their rule, so that
    snapshots over time compare like with like."""
    out = []
    for stage in STAGES:
        rule = {"stage": stage, **rules.to_dict(), "timezone": timezone}
        desc = _DESCRIPTIONS[stage].format(**rules.to_dict())
        out.append(save_segment(warehouse, prefix + stage, rule, kind="lifecycle", description=desc))
    return out
