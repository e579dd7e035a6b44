"""Saving a plan, sending what is due, and telling where a campaign stands.

A campaign's life in the warehouse:

* ``campaigns``: the definition as JSON and a status (planned, running, done);
* ``assignments``: each person's arm (written once; a grown audience adds only newcomers);
* ``campaign_messages``: the plan, one row per message, keyed by the delivery id it will carry;
* ``deliveries`` and ``responses``: what happened (:func:`jingzhun.activation.deliver`).

Planning again is safe: people already planned keep their message (and arm); newcomers are added. A
definition that changes after messages went out is refused: the campaign's results would mix two
campaigns. Give the new version a new id.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone as dt_timezone

import pandas as pd

from jingzhun.activation.assignment import assign
from jingzhun.activation.campaigns.definition import Campaign, CampaignError, campaign_from_dict
from jingzhun.activation.campaigns.planner import Plan, people_table
from jingzhun.activation.connectors.base import Connector
from jingzhun.activation.deliver import deliver
from jingzhun.activation.links import Links
from jingzhun.segment.context import as_utc
from jingzhun.warehouse import Warehouse

__all__ = ["save_plan", "saved_campaign", "run_campaign", "RunReport", "campaign_status", "PLANNED", "RUNNING", "DONE"]

PLANNED, RUNNING, DONE = "planned", "running", "done"
# a trigger campaign evaluates from this long before its last firing (not from its start every time):
# occasions whose data arrived late are still found, and dedup keys stop anything firing twice
TRIGGER_OVERLAP = pd.Timedelta(days=2)
_PLAN_COLUMNS = ("campaign_id", "step", "delivery_id", "profile_id", "arm", "channel", "template", "offer",
                 "scheduled_at", "rank_value", "planned_at")


def saved_campaign(warehouse: Warehouse, campaign_id: str) -> Campaign | None:
    """The campaign as saved in ``campaigns`` (None if it was never planned)."""
    row = _campaign_row(warehouse, campaign_id)
    return None if row is None else campaign_from_dict(json.loads(row["definition"]),
                                                       source=f"campaigns row {campaign_id!r}")


def _campaign_row(warehouse: Warehouse, campaign_id: str) -> dict | None:
    c = warehouse.table("campaigns")
    rows = warehouse.execute(c.filter(c.campaign_id == campaign_id))
    return None if rows.empty else rows.iloc[0].to_dict()


def _sent_any(warehouse: Warehouse, campaign_id: str) -> bool:
    d = warehouse.table("deliveries")
    return int(warehouse.execute(d.filter(d.campaign_id == campaign_id).limit(1).count())) > 0


def save_plan(warehouse: Warehouse, plan: Plan, *, secret: str) -> dict[str, int]:
    """Write the campaign, its arms and its planned messages; returns how many messages were new."""
    c = plan.campaign
    row = _campaign_row(warehouse, c.id)
    definition = c.to_json()
    if row is not None and row["definition"] != definition:
        if _sent_any(warehouse, c.id):
            raise CampaignError(f"campaign {c.id!r} already sent messages under another definition; "
                                "give the changed campaign a new id so each result belongs to one campaign")
        # the old plan goes first, in its own transaction: nothing was sent, and Spark shows deletes made
        # inside a transaction only when it ends, too late for the reads below
        with warehouse.transaction():
            for table in ("campaign_messages", "assignments", "campaigns"):
                warehouse.delete_where(table, lambda t: t.campaign_id == c.id)
        row = None
    with warehouse.transaction():
        if row is None:
            warehouse.append("campaigns", pd.DataFrame([{
                "campaign_id": c.id, "name": c.name, "definition": definition, "status": PLANNED,
                "created_at": plan.planned_at}]))
        messages = plan.messages
        if not messages.empty:
            audience = people_table(warehouse, messages.profile_id)
            assign(warehouse, c.id, audience, c.split(), secret, at=plan.planned_at)
        existing = warehouse.table("campaign_messages")
        existing = warehouse.execute(existing.filter(existing.campaign_id == c.id).select("delivery_id"))
        fresh = messages[~messages.delivery_id.isin(set(existing.delivery_id))]
        if not fresh.empty:
            warehouse.append("campaign_messages", fresh[list(_PLAN_COLUMNS)])
    return {"messages_new": int(len(fresh)), "messages_already_planned": int(len(messages) - len(fresh))}


@dataclass
class RunReport:
    """What a run sent: deliveries by status, messages due and still waiting for their time."""

    counts: Counter = field(default_factory=Counter)
    due: int = 0
    waiting: int = 0
    status: str = PLANNED

    def to_dict(self) -> dict:
        return {"counts": dict(self.counts), "due": self.due, "waiting": self.waiting, "status": self.status}


def _unsent(warehouse: Warehouse, campaign_id: str) -> pd.DataFrame:
    m = warehouse.table("campaign_messages")
    m = m.filter(m.campaign_id == campaign_id)
    d = warehouse.table("deliveries")
    m = m.anti_join(d, m.delivery_id == d.delivery_id)
    frame = warehouse.execute(m)
    frame["scheduled_at"] = pd.to_datetime(frame.scheduled_at, utc=True)
    return frame


def run_campaign(warehouse: Warehouse, campaign: Campaign, *, connectors: Mapping[str, Connector], links: Links,
                 until=None, on_schedule: bool = False, fields=None, recommendations: bool = True,
                 batch_size: int = 500, secret: str | None = None, as_of=None, timezone: str = "UTC") -> RunReport:
    """Send the planned messages due by ``until`` (default: now) that have not been sent.

    With ``on_schedule`` each message goes at its own scheduled moment on a simulated clock (consent,
    caps and ``sent_at`` judged then): a simulation or a test can replay a campaign's days in seconds.
    Without it every due message goes now, which is what a scheduler running every few minutes does.

    A trigger campaign first evaluates its trigger from the moment it was planned to ``until`` (windows
    may overlap: a firing is recorded once) and plans a message for each firing (this needs ``secret``).
    """
    saved = saved_campaign(warehouse, campaign.id)
    if saved is None:
        raise CampaignError(f"campaign {campaign.id!r} has no plan yet: run `jingzhun campaign plan` first")
    if saved.to_json() != campaign.to_json():
        raise CampaignError(f"campaign {campaign.id!r} was planned under another definition; plan it again "
                            "(nothing was sent) or give the changed campaign a new id")
    until = pd.Timestamp(as_utc(until) if until is not None else datetime.now(dt_timezone.utc))
    if campaign.trigger is not None:
        if secret is None:
            raise CampaignError(f"campaign {campaign.id!r} is started by a trigger: running it needs the project "
                                "secret to assign arms to the people it fires for")
        _plan_firings(warehouse, campaign, until, secret=secret, as_of=as_of, timezone=timezone)
    unsent = _unsent(warehouse, campaign.id)
    due = unsent[unsent.scheduled_at <= until]
    report = RunReport(due=int(len(due)), waiting=int(len(unsent) - len(due)))
    if not due.empty:
        plan = due[["campaign_id", "step", "delivery_id", "profile_id", "arm", "channel", "template", "offer",
                    "scheduled_at"]].assign(purpose=campaign.purpose)
        if recommendations:
            plan = plan.assign(recommendations=_recommendations(warehouse, plan.profile_id))
        fields = fields if fields is not None else warehouse.table("profile_features")
        common = dict(templates=campaign.template_set(), connectors=connectors, links=links, fields=fields,
                      caps=campaign.caps.frequency_cap(), purpose=campaign.purpose, batch_size=batch_size)
        if on_schedule:
            for moment, group in plan.groupby("scheduled_at", sort=True):
                report.counts.update(deliver(warehouse, group, clock=_fixed(moment), **common).counts)
        else:
            report.counts.update(deliver(warehouse, plan, clock=_fixed(until), **common).counts)
    report.status = DONE if report.waiting == 0 else RUNNING
    _set_status(warehouse, campaign.id, report.status)
    return report


def _plan_firings(warehouse: Warehouse, campaign: Campaign, until: pd.Timestamp, *, secret: str, as_of,
                  timezone: str) -> None:
    from jingzhun.activation.campaigns.planner import plan_campaign
    from jingzhun.activation.triggers import evaluate

    since = pd.Timestamp(as_utc(_campaign_row(warehouse, campaign.id)["created_at"]))
    f = warehouse.table("trigger_firings")
    last = warehouse.execute(f.filter(f.campaign_id == campaign.id).fired_at.max())
    if last is not None and not pd.isna(last):  # from shortly before the last firing: late data still counts
        since = max(since, pd.Timestamp(as_utc(last)) - TRIGGER_OVERLAP)
    if since < until:
        evaluate(warehouse, [campaign.trigger.trigger(campaign.id)], since.to_pydatetime(), until.to_pydatetime(),
                 timezone=campaign.schedule.timezone or timezone)
    firings = warehouse.execute(f.filter(f.campaign_id == campaign.id))
    if firings.empty:
        return
    plan = plan_campaign(warehouse, campaign, secret=secret, as_of=as_of, at=until, timezone=timezone,
                         firings=firings)
    save_plan(warehouse, plan, secret=secret)


def _fixed(moment) -> Callable[[], datetime]:
    when = pd.Timestamp(moment).to_pydatetime()
    return lambda: when


def _set_status(warehouse: Warehouse, campaign_id: str, status: str) -> None:
    row = _campaign_row(warehouse, campaign_id)
    if row is None or row["status"] == status:
        return
    row["status"] = status
    with warehouse.transaction():
        warehouse.delete_where("campaigns", lambda t: t.campaign_id == campaign_id)
        warehouse.append("campaigns", pd.DataFrame([row]))


def _recommendations(warehouse: Warehouse, profile_ids: pd.Series, n: int = 3) -> list[str]:
    """Each person's top ``n`` recommendations as JSON (product id, name, reason), ``[]`` without any."""
    people = people_table(warehouse, profile_ids)
    r = warehouse.table("recommendations")
    r = r.filter(r.rank <= n).semi_join(people, r.profile_id == people.profile_id)
    p = warehouse.table("products").select("product_id", "name").distinct()
    rows = warehouse.execute(r.left_join(p, r.product_id == p.product_id).select(
        r.profile_id, r.product_id, p.name, r.reason, r.rank))
    lists: dict[str, list] = {}
    for row in rows.sort_values(["profile_id", "rank", "product_id"]).itertuples(index=False):
        lists.setdefault(row.profile_id, []).append(
            {"product_id": row.product_id, "name": None if pd.isna(row.name) else row.name,
             "reason": None if pd.isna(row.reason) else row.reason})
    return [json.dumps(lists.get(pid, []), ensure_ascii=False) for pid in profile_ids]


def campaign_status(warehouse: Warehouse, campaign_id: str) -> dict:
    """Where a campaign stands: planned messages, deliveries by status, responses by kind."""
    row = _campaign_row(warehouse, campaign_id)
    if row is None:
        raise CampaignError(f"no campaign {campaign_id!r} in this project; plan one with `jingzhun campaign plan FILE`")
    m = warehouse.table("campaign_messages")
    m = m.filter(m.campaign_id == campaign_id)
    planned = warehouse.execute(m.group_by(["step", "arm", "channel"]).aggregate(
        n=m.count(), first=m.scheduled_at.min(), last=m.scheduled_at.max()))
    d = warehouse.table("deliveries")
    d = d.filter(d.campaign_id == campaign_id)
    delivered = warehouse.execute(d.group_by(["arm", "status"]).aggregate(n=d.count()))
    r = warehouse.table("responses")
    r = r.semi_join(d, r.delivery_id == d.delivery_id)
    responded = warehouse.execute(r.group_by("response").aggregate(n=r.count(), people=r.profile_id.nunique()))
    return {
        "campaign": campaign_id, "name": row["name"], "status": row["status"],
        "created_at": pd.Timestamp(row["created_at"]).isoformat(),
        "planned": int(planned.n.sum()) if not planned.empty else 0,
        "planned_by": [{"step": s, "arm": a, "channel": c, "messages": int(n),
                        "first": pd.Timestamp(f).isoformat(), "last": pd.Timestamp(l).isoformat()}
                       for s, a, c, n, f, l in planned.sort_values(["step", "arm", "channel"]).itertuples(index=False)],
        "deliveries": {f"{a}/{s}": int(n) for a, s, n in delivered.sort_values(["arm", "status"]).itertuples(index=False)},
        "unsent": int(len(_unsent(warehouse, campaign_id))),
        "responses": {k: {"responses": int(n), "people": int(p)} for k, n, p in responded.itertuples(index=False)},
    }
