"""Campaign KPIs: what each arm reached, what it cost, what it brought, and what it *changed* against control.

Per group (an arm, a channel, an offer or a segment, always split by arm):

| KPI | meaning |
|---|---|
| reach | people planned (a delivery row of any status, control's ``held_out`` included) |
| delivered | messages sent |
| opens, clicks | messages opened, clicked (each message once) |
| conversions, redemptions, visits | people with at least one (see :mod:`jingzhun.measure.responses`) |
| conversion_rate | conversions / reach (intention to treat: everyone planned, reached or not) |
| revenue | the converting orders' amounts |
| cost | messages sent x the channel's cost (``costs``) + the offer's cost per redemption when the offer has a coupon code (in any arm: the discount was granted), else per conversion in a treated arm |
| roi | (revenue - cost) / cost: what is usually shown, flattering, since it credits buyers who would have bought anyway |
| incremental_conversions | (rate of the arm - rate of control) x reach of the arm, with its interval |
| incremental_revenue | (revenue per person in the arm - in control) x reach of the arm, with its interval |
| incremental_roi | (incremental revenue - cost) / cost: the honest one |

The intervals, p-values and decisions come from :func:`jingzhun.measure.experiments.analyse` on one row
per person (conversion as a proportion, revenue per person as a mean; Holm-adjusted within a group).
A group is compared with control's people in the same group when it has any (control's messages carry
the channel and offer they would have had), else with the whole control group (``control_scope``).
The sample-ratio check is made on the arms of the whole campaign against the definition's shares.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from jingzhun.activation.assignment import CONTROL
from jingzhun.errors import InputError, JingzhunError
from jingzhun.measure.experiments import analyse, sample_ratio_check
from jingzhun.measure.responses import CONVERSION, REDEMPTION, VISIT, CampaignTerms, campaign_terms, reference_times
from jingzhun.profile.clock import epoch_seconds
from jingzhun.profile.keys import left_join
from jingzhun.warehouse import Warehouse

__all__ = ["CampaignKpis", "campaign_kpis", "conversion_curve", "per_person", "DIMENSIONS"]

log = logging.getLogger(__name__)

DIMENSIONS = ("arm", "channel", "offer", "segment")
_CONVERSION, _REVENUE = "conversion", "revenue per person"  # the outcomes' names in the decisions
_COUNTS = ("delivered", "opens", "clicks", "conversions", "redemptions", "visits")


@dataclass
class CampaignKpis:
    """The KPI table of one campaign by one dimension, with the comparisons behind it."""

    campaign_id: str
    name: str
    by: str
    table: pd.DataFrame
    comparisons: list[dict] = field(default_factory=list)
    sample_ratio: dict | None = None

    def decisions(self) -> list[str]:
        return [c["decision"] for c in self.comparisons]


def _terms(warehouse: Warehouse, campaign_id: str) -> CampaignTerms:
    terms = campaign_terms(warehouse, campaign_id)
    if campaign_id not in terms:
        known = sorted(campaign_terms(warehouse))
        raise JingzhunError(f"no campaign {campaign_id!r} in `campaigns`; known: {', '.join(known) or 'none yet'}")
    return terms[campaign_id]


def _per_delivery(warehouse: Warehouse, terms: CampaignTerms) -> ir.Table:
    """One row per delivery with its responses as 0/1 flags, its conversion revenue and its cost."""
    refs = reference_times(warehouse, {terms.campaign_id: terms})
    r = warehouse.table("responses")
    r = r.semi_join(refs, r.delivery_id == refs.delivery_id)

    def flag(kind: str) -> ir.IntegerValue:
        return (r.response == kind).cast("int64").max()

    got = r.group_by("delivery_id").aggregate(
        opened=flag("open"), clicked=flag("click"), converted=flag(CONVERSION), redeemed=flag(REDEMPTION),
        visited=flag(VISIT), revenue=r.value.sum(where=r.response == CONVERSION))
    d = left_join(refs, got, "delivery_id")
    d = d.mutate(**{c: d[c].fill_null(0) for c in ("opened", "clicked", "converted", "redeemed", "visited")},
                 revenue=d.revenue.fill_null(0.0), sent=(d.status == "sent").cast("int64"))
    channel_cost = ibis.memtable(pd.DataFrame({"_channel": list(terms.costs) or [""],
                                               "_channel_cost": list(terms.costs.values()) or [0.0]}))
    offers = terms.offers or {"": {"cost": 0.0, "coupon_code": None}}
    offer_cost = ibis.memtable(pd.DataFrame({"_offer": list(offers), "_offer_cost": [o["cost"] for o in offers.values()],
                                             "_by_code": [o["coupon_code"] is not None for o in offers.values()]}))
    d = d.left_join(channel_cost, d.channel == channel_cost._channel)
    d = d.left_join(offer_cost, d.offer_id == offer_cost._offer)
    per_use = ibis.ifelse(d._by_code.fill_null(False) | d.coupon_code.notnull(), d.redeemed,
                          ibis.ifelse(d.arm != CONTROL, d.converted, 0))
    cost = d.sent * d._channel_cost.fill_null(0.0) + per_use * d._offer_cost.fill_null(0.0)
    return d.mutate(cost=cost.cast("float64")).drop("_channel", "_channel_cost", "_offer", "_offer_cost", "_by_code")


def _group_column(warehouse: Warehouse, d: ir.Table, by: Sequence[str]) -> tuple[ir.Table, str]:
    """``d`` with a ``group`` column for the dimension ``by``, and the dimension's name."""
    dim = by[0] if by else "arm"
    if dim == "arm":
        return d.mutate(group=d.arm), "arm"
    if dim == "channel":
        return d.mutate(group=d.channel), "channel"
    if dim == "offer":
        return d.mutate(group=d.offer_id.fill_null("none")), "offer"
    if dim == "segment":
        if len(by) < 2 or not by[1]:
            raise InputError("by=('segment', NAME) needs a saved segment's name or a tag", field="by")
        return _segment_groups(warehouse, d, str(by[1])), f"segment:{by[1]}"
    raise InputError(f"unknown KPI dimension {dim!r}; use one of {', '.join(DIMENSIONS)}", field="by")


def _segment_groups(warehouse: Warehouse, d: ir.Table, name: str) -> ir.Table:
    """Groups by a tag's value (``yes`` for a yes/no tag, ``without`` for people without the tag) or by
    membership of a saved segment's latest snapshot (``in`` / ``out``)."""
    tags = warehouse.table("tags")
    if warehouse.execute(tags.filter(tags.tag == name).count()):
        t = tags.filter(tags.tag == name).select(_pid="profile_id", _value=tags.value.fill_null("yes"))
        j = d.left_join(t, d.profile_id == t._pid)
        return j.mutate(group=j._value.fill_null("without")).drop("_pid", "_value")
    from jingzhun.segment.saved import get_segment

    segment = get_segment(warehouse, name)
    members = warehouse.table("segment_members")
    members = members.filter(members.segment_id == segment.segment_id)
    last = warehouse.execute(members.snapshot_at.max())
    if last is None or pd.isna(last):
        raise JingzhunError(f"segment {name!r} has no snapshot yet: run `jingzhun segment snapshot {name}`")
    m = members.filter(members.snapshot_at == members.snapshot_at.max()).select(_pid="profile_id").distinct()
    j = d.left_join(m, d.profile_id == m._pid)
    return j.mutate(group=ibis.ifelse(j._pid.notnull(), "in", "out")).drop("_pid")


def per_person(warehouse: Warehouse, campaign_id: str, by: Sequence[str] = ("arm",)) -> tuple[ir.Table, str]:
    """One row per group, arm and person: messages sent, opened, clicked; converted, redeemed, visited
    (0/1); revenue and cost. Returns the table and the dimension's name."""
    terms = _terms(warehouse, campaign_id)
    d, dim = _group_column(warehouse, _per_delivery(warehouse, terms), by)
    table = d.group_by(["group", "arm", "profile_id"]).aggregate(
        delivered=d.sent.sum(), opens=d.opened.sum(), clicks=d.clicked.sum(), conversions=d.converted.max(),
        redemptions=d.redeemed.max(), visits=d.visited.max(), revenue=d.revenue.sum(), cost=d.cost.sum())
    return table, dim


def campaign_kpis(warehouse: Warehouse, campaign_id: str, by: Sequence[str] = ("arm",), *,
                  alpha: float = 0.05) -> CampaignKpis:
    """The KPIs of ``campaign_id`` per group of ``by`` (``("arm",)``, ``("channel",)``, ``("offer",)`` or
    ``("segment", name_or_tag)``) and arm, with incremental conversions and revenue against control."""
    terms = _terms(warehouse, campaign_id)
    people, dim = per_person(warehouse, campaign_id, by)
    people = warehouse.stage(people)  # read twice below: the sums and the frame of people
    sums = people.group_by(["group", "arm"]).aggregate(
        reach=people.count(), **{c: people[c].sum() for c in _COUNTS}, revenue=people.revenue.sum(),
        cost=people.cost.sum())
    table = warehouse.execute(sums.order_by(["group", "arm"]))
    frame = warehouse.execute(people.select("group", "arm", "profile_id", "conversions", "revenue"))
    warehouse.drop_stage(people.get_name())
    for c in ("reach", *_COUNTS):
        table[c] = table[c].astype("int64")
    table["conversion_rate"] = table.conversions / table.reach
    table["roi"] = _ratio(table.revenue - table.cost, table.cost)
    comparisons, sample_ratio = _compare(frame, table, terms, dim, alpha)
    table = _with_increments(table, comparisons)
    table = table.rename(columns={"group": dim}) if dim != "arm" else table.drop(columns="group")
    return CampaignKpis(campaign_id=campaign_id, name=terms.name, by=dim, table=table.reset_index(drop=True),
                        comparisons=comparisons, sample_ratio=sample_ratio)


def _ratio(top: pd.Series, bottom: pd.Series) -> pd.Series:
    return pd.Series(np.where(bottom > 0, top / bottom.where(bottom > 0, 1.0), np.nan), index=top.index)


def _compare(frame: pd.DataFrame, table: pd.DataFrame, terms: CampaignTerms, dim: str,
             alpha: float) -> tuple[list[dict], dict | None]:
    """Each group's treated arms against control (the group's, else everyone's), and the campaign's
    sample-ratio check."""
    frame = frame.rename(columns={"conversions": _CONVERSION, "revenue": _REVENUE})
    frame[_CONVERSION] = frame[_CONVERSION].astype(int)
    everyone_control = frame[frame.arm == CONTROL].drop_duplicates("profile_id")
    sample_ratio = _sample_ratio(frame.drop_duplicates("profile_id"), terms)
    if dim == "arm":  # one experiment: every arm against control, adjusted together
        frame = frame.assign(group="")
    out = []
    for group, g in frame.groupby("group", sort=True):
        control = g[g.arm == CONTROL]
        scope = "group"
        if len(control) < 2:
            control, scope = everyone_control.assign(group=group), "all"
        treated = g[g.arm != CONTROL]
        arms = [a for a, t in treated.groupby("arm") if len(t) >= 2]
        if len(control) < 2 or not arms:
            continue
        both = pd.concat([treated[treated.arm.isin(arms)], control], ignore_index=True)
        # the split is checked once for the whole campaign (above); within a group it need not follow the
        # plan (a channel may be chosen differently by arm), so the group's own check is told what it saw
        seen = both.arm.value_counts(normalize=True).to_dict()
        result = analyse(both, arm="arm", control=CONTROL, outcomes={_CONVERSION: "proportion", _REVENUE: "mean"},
                         alpha=alpha, expected_shares=seen)
        for c in result.comparisons:
            record = c.to_dict() | {"group": c.arm if dim == "arm" else group, "dimension": dim,
                                    "control_scope": scope}
            if dim != "arm":
                record["decision"] = f"[{dim} {group}] " + record["decision"]
            out.append(record)
    return out, sample_ratio


def _sample_ratio(people: pd.DataFrame, terms: CampaignTerms) -> dict | None:
    """The arms' sizes against the definition's shares (equal shares when it names not every arm)."""
    counts = people.arm.value_counts().sort_index()
    if len(counts) < 2:
        return None
    shares = {a: terms.arms[a] for a in counts.index if a in terms.arms}
    srm = sample_ratio_check(counts.to_dict(), shares if len(shares) == len(counts) else None)
    if srm.mismatch:
        log.warning("campaign %s: sample ratio mismatch, arm sizes %s against planned shares %s (p = %.2g); "
                    "the comparisons are not trustworthy until the cause is found", terms.campaign_id,
                    srm.observed, srm.expected_shares, srm.p_value)
    return srm.to_dict()


def _with_increments(table: pd.DataFrame, comparisons: list[dict]) -> pd.DataFrame:
    """Incremental conversions and revenue (the difference per person times the arm's reach) with their
    intervals and p-values, and the incremental ROI."""
    cols = ("incremental_conversions", "incremental_conversions_low", "incremental_conversions_high",
            "conversion_p", "incremental_revenue", "incremental_revenue_low", "incremental_revenue_high",
            "revenue_p", "control_scope")
    table = table.assign(**{c: np.nan for c in cols[:-1]}, control_scope=None)
    for c in comparisons:
        at = (table.group == c["group"]) & (table.arm == c["arm"])
        n = table.loc[at, "reach"]
        p = c["p_adjusted"] if c["p_adjusted"] is not None else c["p_value"]
        stem = "incremental_conversions" if c["outcome"] == _CONVERSION else "incremental_revenue"
        table.loc[at, stem] = c["diff"] * n
        table.loc[at, f"{stem}_low"] = c["ci_low"] * n
        table.loc[at, f"{stem}_high"] = c["ci_high"] * n
        table.loc[at, "conversion_p" if c["outcome"] == _CONVERSION else "revenue_p"] = p
        table.loc[at, "control_scope"] = c["control_scope"]
    table["incremental_roi"] = _ratio(table.incremental_revenue - table.cost, table.cost)
    return table


def conversion_curve(warehouse: Warehouse, campaign_id: str, *, days: int | None = None) -> pd.DataFrame:
    """Cumulative conversion rate by whole days since each person's message (its reference time), per arm:
    columns arm, day, conversions (cumulative people), reach, rate. Days run 0 .. the window's length."""
    terms = _terms(warehouse, campaign_id)
    d = _per_delivery(warehouse, terms)
    reach = warehouse.execute(d.group_by("arm").aggregate(reach=d.profile_id.nunique()))
    r = warehouse.table("responses")
    r = r.filter(r.response == CONVERSION)
    j = r.join(d.select("delivery_id", "arm", "ref_at"), "delivery_id")
    j = j.mutate(day=((epoch_seconds(j.responded_at) - epoch_seconds(j.ref_at)) // 86_400).cast("int64"))
    firsts = j.group_by(["arm", "profile_id"]).aggregate(day=j.day.min())
    per_day = warehouse.execute(firsts.group_by(["arm", "day"]).aggregate(n=firsts.count()))
    horizon = int(days if days is not None else np.ceil(terms.window_days))
    rows = []
    for arm, n in zip(reach.arm, reach.reach):
        counts = per_day[per_day.arm == arm].set_index("day").n
        total = 0
        for day in range(horizon + 1):
            total += int(counts.get(day, 0))
            rows.append({"arm": arm, "day": day, "conversions": total, "reach": int(n), "rate": total / int(n)})
    return pd.DataFrame(rows, columns=["arm", "day", "conversions", "reach", "rate"]).sort_values(
        ["arm", "day"], ignore_index=True)
