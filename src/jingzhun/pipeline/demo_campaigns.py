"""The demo's two campaigns, run on the simulated world from plan to measured result.

1. **Win back** (e-mail): people whose churn risk is high and who bought at least twice, best CLV
   first; coupon lovers get a 10% coupon, everyone else this month's new products; 20% held out; each
   message at the person's best hour. Sent through a real SMTP server on this machine (the e-mails land
   in ``mailbox/``).
2. **Store coupon** (SMS): people living within 5 km of the store with the most customers around it, a
   20 yuan coupon to use there; 10% held out; sent at 11:00 to the SMS vendor's export file
   (``exports/``).

The simulated people then answer from their hidden truth (:mod:`jingzhun.pipeline.simcampaigns`), the
answers are linked and measured like any campaign's, and each campaign gets its report, with the
simulator's true incremental conversions beside the measured ones. The opens and clicks are written
back as tracking events, so the next build's features and models learn from them. The campaign files are written to
``campaigns/`` in the project, so ``jingzhun campaign plan campaigns/winback.yaml`` shows the plan again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from jingzhun.activation import FileConnector, Links, SmtpConnector
from jingzhun.activation.campaigns import load_campaign, plan_campaign, run_campaign, save_plan
from jingzhun.measure.kpis import campaign_kpis
from jingzhun.measure.learn import responses_to_events
from jingzhun.measure.responses import link_responses
from jingzhun.pipeline.build import profile_timezone
from jingzhun.pipeline.mailbox import LocalMailbox
from jingzhun.pipeline.simcampaigns import answer_from_truth
from jingzhun.report.campaign import campaign_report
from jingzhun.report.overview import overview_report

__all__ = ["run_demo_campaigns", "WINBACK", "store_coupon"]

TRACKING_URL = "http://localhost:8000"

_UNSUB = "退订 / unsubscribe: {{ unsubscribe_url }}"
WINBACK = {
    "id": "winback",
    "name": "唤回高风险老客 / Win back customers at risk",
    "audience": "score('churn_risk') >= 0.5 and frequency >= 2",
    "exclude": ["tag('dormant')"],
    "rank_by": "clv_12m",
    "limit": 4000,
    "arms": {"control": 0.2, "A": 0.8},
    "offers": [
        {"id": "coupon10", "kind": "discount", "title": "老客回归 9 折 / 10% off to welcome you back",
         "when": "tag('coupon_lover')", "coupon_code": "WINBACK10", "cost": 6.0, "value": 10,
         "templates": {"email": "winback_coupon"}},
        {"id": "arrivals", "kind": "new_product", "title": "本月新品 / New this month", "cost": 0.0,
         "templates": {"email": "winback_arrivals"}},
    ],
    "channels": ["email"],
    "costs": {"email": 0.002},
    "schedule": {"within_days": 3, "send_time": "best", "quiet_hours": ["21:00", "09:00"]},
    "caps": {"per_day": 1, "per_week": 3},
    "conversion": {"window_days": 14},
    "templates": {
        "winback_coupon": {
            "channel": "email", "subject": "{{ offer.title }}",
            "text": "您好！好久不见。{{ offer.title }}，券码 {{ offer.coupon_code }}。\n"
                    "{% for r in recommendations %}- {{ r.name }}\n{% endfor %}"
                    "{{ track('https://shop.example/welcome-back') }}\n" + _UNSUB,
            "html": "<html><body><p>您好！好久不见。</p><p><a href=\"{{ track('https://shop.example/welcome-back') }}\">"
                    "{{ offer.title }}</a>: <b>{{ offer.coupon_code }}</b></p><ul>{% for r in recommendations %}"
                    "<li>{{ r.name }}</li>{% endfor %}</ul><p><a href=\"{{ unsubscribe_url }}\">退订 / unsubscribe"
                    "</a></p></body></html>"},
        "winback_arrivals": {
            "channel": "email", "subject": "{{ offer.title }}",
            "text": "您好！看看本月新品：{{ track('https://shop.example/new') }}\n"
                    "{% for r in recommendations %}- {{ r.name }}\n{% endfor %}" + _UNSUB},
    },
}


def store_coupon(store_id: str) -> dict:
    return {
        "id": "store-coupon",
        "name": f"门店 {store_id} 周边 20 元券 / A 20 yuan coupon near store {store_id}",
        "audience": f"within 5 km of store '{store_id}'",
        "arms": {"control": 0.1, "A": 0.9},
        "offers": [{"id": "store20", "kind": "discount", "title": "到店立减 20 元 / 20 yuan off in store",
                    "coupon_code": "STORE20", "cost": 20.0, "value": 20, "templates": {"sms": "store_sms"}}],
        "channels": ["sms"],
        "costs": {"sms": 0.05},
        "schedule": {"within_days": 2, "send_time": "11:00", "quiet_hours": ["21:00", "09:00"]},
        "conversion": {"window_days": 14},
        "templates": {"store_sms": {"channel": "sms",
                                    "text": "【门店】{{ offer.title }}，券码 {{ offer.coupon_code }}，14 天内有效。退订回T"}},
    }


def busiest_store(wh, km: float = 5.0) -> str | None:
    """The store with the most profiles living within ``km`` of it as their nearest store."""
    pf = wh.table("profile_features")
    near = pf.filter(pf.nearest_store_km <= km)
    counts = wh.execute(near.group_by("nearest_store_id").aggregate(n=near.count()))
    counts = counts[counts.nearest_store_id.notna()]
    if counts.empty:
        return None
    return str(counts.sort_values(["n", "nearest_store_id"], ascending=[False, True]).nearest_store_id.iloc[0])


def run_demo_campaigns(project, world_dir: Path, as_of, *, step: Callable[[str], None] = lambda s: None) -> dict:
    """Plan, send, answer from the truth, measure and report the demo's campaigns."""
    wh = project.warehouse
    tz = profile_timezone(project.settings)
    start = pd.Timestamp(as_of)
    folder = project.root / "campaigns"
    folder.mkdir(exist_ok=True)
    definitions = [WINBACK]
    store = busiest_store(wh)
    if store is not None:
        definitions.append(store_coupon(store))
    links = Links(TRACKING_URL, project.secret)
    results = {}
    with LocalMailbox(project.root / "mailbox") as mailbox:
        connectors = {
            "email": SmtpConnector("127.0.0.1", mailbox.port, "Jingzhun Shop <news@shop.example>"),
            "sms": FileConnector(project.root / "exports", "smsvendor", address_kind="phone"),
        }
        for spec in definitions:
            path = folder / f"{spec['id']}.yaml"
            path.write_text(yaml.safe_dump({**spec, "schedule": {**spec["schedule"], "start": start.isoformat()}},
                                           allow_unicode=True, sort_keys=False), encoding="utf-8")
            campaign = load_campaign(path)
            step(f"campaign {campaign.id}: plan")
            plan = plan_campaign(wh, campaign, secret=project.secret, as_of=as_of, at=start, timezone=tz)
            save_plan(wh, plan, secret=project.secret)
            step(f"campaign {campaign.id}: send {len(plan.messages):,} messages on their schedule")
            until = start + pd.Timedelta(days=campaign.schedule.within_days + 1)
            sent = run_campaign(wh, campaign, connectors=connectors, links=links, until=until, on_schedule=True)
            results[campaign.id] = {"file": str(path), "plan": plan.summary(), "deliveries": dict(sent.counts)}
        results["_mailbox"] = {"folder": str(project.root / "mailbox"), "received": mailbox.received}

    reports = project.root / "reports"
    for spec in definitions:
        cid = spec["id"]
        step(f"campaign {cid}: the simulated people answer; linking and measuring")
        answered = answer_from_truth(wh, cid, truth_dir=world_dir / "truth", secret=project.secret,
                                     settings=project.settings, seed=7, store_id=store if cid == "store-coupon" else None)
        measured_at = start + pd.Timedelta(days=spec["schedule"]["within_days"] + spec["conversion"]["window_days"] + 1)
        linked = link_responses(wh, cid, at=measured_at)
        written_back = responses_to_events(wh, at=measured_at, campaign_id=cid)  # the next build learns from them
        kpis = campaign_kpis(wh, cid)
        truth = pd.DataFrame({"arm": list(answered["true_incremental_by_arm"]),
                              "true_incremental_conversions": list(answered["true_incremental_by_arm"].values())})
        report = campaign_report(wh, cid, truth=truth, measured_at=measured_at,
                                 truth_note="The simulator knows each person's response to the offer with and "
                                            "without the message: the true incremental conversions are the sum "
                                            "of P(open) x (P(buy | treated) - P(buy | not)) over the messages sent.")
        html, _ = report.write(reports / f"campaign-{cid}")
        table = kpis.table.set_index("arm")
        results[cid].update({
            "answered": answered, "linked": linked, "written_back": written_back, "report": str(html),
            "arms": _arm_rows(table), "decisions": kpis.decisions(),
            "true_incremental_conversions": answered["true_incremental_by_arm"],
        })
    overview, _ = overview_report(wh).write(reports / "overview")
    results["_overview_report"] = str(overview)
    return results


def _arm_rows(table: pd.DataFrame) -> dict:
    keep = ["reach", "delivered", "opens", "clicks", "conversions", "revenue", "cost", "incremental_conversions",
            "incremental_conversions_low", "incremental_conversions_high"]
    counts = {"reach", "delivered", "opens", "clicks", "conversions"}
    out = {}
    for arm, row in table.iterrows():
        out[str(arm)] = {k: (None if pd.isna(row[k]) else int(row[k]) if k in counts else round(float(row[k]), 2))
                         for k in keep if k in row.index}
    return out
