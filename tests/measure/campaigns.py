"""A hand-built campaign whose every KPI is worked out by hand below.

Campaign ``c1`` (window 14 days; e-mail costs 0.01 a message, SMS 0.05), sent at T0 = 2024-03-01 09:00:

| people | arm | channel | offer |
|---|---|---|---|
| 0-3 | control | email | coupon10 (code SAVE10, costs 2 per redemption) |
| 4-11 | A | email | coupon10 |
| 12-19 | B | sms | points (no code, costs 1 per conversion) |

Person 11 has no consent: suppressed, never sent, still in A's reach. Orders (amount, days after T0):

* p0 (control) 50 at +2d with SAVE10: a conversion and a redemption (the code leaked); p1 30 at +20d: late
* p4 (A) 100 at +1d with save10 (case does not matter), then 40 at +3d: one conversion (the first), one redemption
* p5 (A) 60 at +5d in a store: a conversion and a visit; p6 a return; p7 bought the day before
* p11 (A, suppressed) 80 at +4d: a conversion (intention to treat)
* p12 (B) 20 at +6d; p13 200 at +13d; p14 a cancelled order
* opens: p4, p5; clicks: p4, p12

So: control reach 4, conversions 1, revenue 50, redemptions 1, cost 2 (the redemption);
A reach 8, delivered 7, opens 2, clicks 1, conversions 3, revenue 240, redemptions 1, visits 1,
cost 7 x 0.01 + 2 = 2.07; B reach 8, delivered 8, clicks 1, conversions 2, revenue 220,
cost 8 x 0.05 + 2 x 1 = 2.4. Rates 0.25, 0.375, 0.25; revenue per person 12.5, 30, 27.5;
incremental conversions A (0.375 - 0.25) x 8 = 1, B 0; incremental revenue A 140, B 120.
"""

from __future__ import annotations

import json

import pandas as pd

from jingzhun.activation import FileConnector, LinkToken, Links, deliver, delivery_id_for, record_response, sign_token
from jingzhun.privacy import key_for
from tests.activation.conftest import BASE_URL, SECRET, EMAIL, SMS, Population, T0, fields, pid

DEFINITION = {
    "id": "c1", "name": "Spring sale", "audience": "true",
    "arms": [{"name": "control", "share": 0.2}, {"name": "A", "share": 0.4}, {"name": "B", "share": 0.4}],
    "offers": [{"id": "coupon10", "kind": "discount", "title": "10 off", "cost": 2.0, "coupon_code": "SAVE10"},
               {"id": "points", "kind": "points", "title": "Double points", "cost": 1.0, "coupon_code": None}],
    "channels": ["email", "sms"], "costs": {"email": 0.01, "sms": 0.05},
    "conversion": {"window_days": 14, "min_amount": 0},
}
OFFERS = {"coupon10": {"id": "coupon10", "title": "10 off", "url": "https://shop.example/c",
                       "coupon_code": "SAVE10"},
          "points": {"id": "points", "title": "Double points", "url": "https://shop.example/p"}}


def day(d: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=d)


def write_campaign(wh, cid: str = "c1", definition: dict | None = None) -> None:
    definition = definition or {**DEFINITION, "id": cid}
    wh.append("campaigns", pd.DataFrame({"campaign_id": [cid], "name": [definition.get("name", cid)],
                                         "definition": [json.dumps(definition)], "status": ["running"],
                                         "created_at": [T0 - pd.Timedelta(days=1)]}))


def orders(wh, rows: list[tuple]) -> None:
    """Orders as (person, amount, days after T0[, coupon, channel, status, is_return])."""
    out = []
    for n, row in enumerate(rows):
        i, amount, d = row[:3]
        coupon, channel, status, is_return = (list(row[3:]) + [None, "web", "completed", False][len(row) - 3:])[:4]
        out.append({"order_id": f"o{n}-{i}", "user_id": key_for("user_id", f"u{i}", SECRET), "ordered_at": day(d),
                    "status": status, "is_return": is_return, "channel": channel, "currency": "CNY",
                    "amount": float(amount), "coupon_code": coupon, "n_lines": 1, "source": "pos", "load_id": "l1",
                    "quality_flags": ""})
    wh.append("orders", pd.DataFrame(out))


def messages(cid: str, people, arm: str, channel: str, offer: str, step: str = "1",
             at: pd.Timestamp = T0) -> pd.DataFrame:
    template = "spring_email" if channel == "email" else "spring_sms"
    return pd.DataFrame({
        "campaign_id": cid, "step": step, "profile_id": [pid(i) for i in people], "arm": arm, "channel": channel,
        "template": template, "offer": json.dumps(OFFERS[offer]), "scheduled_at": at,
        "delivery_id": [delivery_id_for(cid, step, pid(i), channel) for i in people]})


def build_c1(wh, tmp_path) -> dict[int, str]:
    """Campaign c1 as the module's docstring describes it, delivered for real; returns delivery ids by person."""
    from jingzhun.activation import TemplateSet

    population = Population(wh)
    population.add(20)
    population.consent([(i, "user_id", "all", "granted", T0 - pd.Timedelta(days=2)) for i in range(20) if i != 11])
    write_campaign(wh)
    plan = pd.concat([messages("c1", range(0, 4), "control", "email", "coupon10"),
                      messages("c1", range(4, 12), "A", "email", "coupon10"),
                      messages("c1", range(12, 20), "B", "sms", "points")], ignore_index=True)
    wh.append("campaign_messages", plan.assign(planned_at=T0 - pd.Timedelta(hours=1)))
    report = deliver(wh, plan.drop(columns=[]), templates=TemplateSet([EMAIL, SMS]), links=Links(BASE_URL, SECRET),
                     fields=fields(wh, 20), connectors={"email": FileConnector(tmp_path / "e", "v"),
                                                        "sms": FileConnector(tmp_path / "s", "v")},
                     clock=lambda: T0.to_pydatetime())
    assert report["sent"] == 15 and report["held_out"] == 4 and report["suppressed_no_consent"] == 1
    ids = dict(zip([int(p[1:]) for p in plan.profile_id], plan.delivery_id))
    for i, kind in ((4, "open"), (4, "click"), (5, "open"), (12, "click")):
        record_response(wh, sign_token(LinkToken(ids[i], kind, "https://shop.example/c" if kind == "click" else None),
                                       SECRET), SECRET, at=day(0.5))
    orders(wh, [(0, 50, 2, "SAVE10"), (1, 30, 20), (4, 100, 1, " save10 "), (4, 40, 3), (5, 60, 5, None, "store"),
                (6, -25, 2, None, "web", "returned", True), (7, 70, -1), (11, 80, 4), (12, 20, 6), (13, 200, 13),
                (14, 90, 2, None, "web", "cancelled", False)])
    return ids
