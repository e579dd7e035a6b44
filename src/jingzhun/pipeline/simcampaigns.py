"""The simulated people answer a campaign: responses drawn from the simulator's hidden truth and written
back the way a shop's systems would write them.

For every recorded delivery of the campaign, :func:`jingzhun.sim.responses.respond` decides from the
person's truth whether they open, click and buy: a message that went (``sent``) is a treatment; a
held-out, suppressed or failed one is not, and its person still buys at their untreated rate (so the
comparison of arms by assignment stays honest). Opens and clicks become ``responses`` rows, as the
tracking service writes them; purchases become ``orders`` of the person (under one of their own
identifiers, so identity attaches them like any order), in store when the campaign sent people to a
store, with the offer's coupon code when the person was treated with a coupon. Measurement then links
those orders to the deliveries by itself (:func:`jingzhun.measure.responses.link_responses`): nothing
here tells it which order answered which message.

The truth also says what the campaign really added: the expected incremental conversions of each
treated message (:func:`jingzhun.sim.responses.true_uplift`), summed per arm for the report.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from jingzhun.config import Settings
from jingzhun.measure.learn import first_identifiers
from jingzhun.pipeline.referee import person_profiles
from jingzhun.sim.responses import respond, true_uplift
from jingzhun.warehouse import Warehouse

__all__ = ["answer_from_truth", "ORDER_KINDS"]

SOURCE = "sim-campaigns"
OFFER_KINDS = ("discount", "new_product", "points")
# the identifier an order is written under: the first the profile has, in the order tills record them
ORDER_KINDS = ("user_id", "loyalty_card", "phone", "email", "wechat_openid", "crm_id")


def answer_from_truth(warehouse: Warehouse, campaign_id: str, *, truth_dir: str | Path, secret: str,
                      settings: Settings, seed: int = 0, store_id: str | None = None,
                      currency: str = "CNY") -> dict:
    """Write the simulated responses to ``campaign_id``'s deliveries; return what was written and the truth.

    ``store_id``: the campaign invited people to this store, so its purchases are store orders there.
    """
    truth_dir = Path(truth_dir)
    persons = pd.read_parquet(truth_dir / "persons.parquet")
    messages = _messages(warehouse, campaign_id,
                         person_profiles(warehouse, truth_dir, secret=secret, settings=settings))
    if messages.empty:
        return {"messages": 0, "opens": 0, "clicks": 0, "orders": 0, "true_incremental_by_arm": {}}
    window = _window_days(warehouse, campaign_id)
    drawn = respond(persons, messages[["message_id", "person_id", "channel", "offer_kind", "treated", "sent_at"]],
                    seed=seed, window_days=window)
    truth = true_uplift(persons, messages[["message_id", "person_id", "channel", "offer_kind", "treated", "sent_at"]],
                        window_days=window)
    by_message = messages.set_index("message_id")

    engaged = drawn[drawn.response.isin(["open", "click"])]
    responses = pd.DataFrame({
        "delivery_id": engaged.message_id.to_numpy(), "profile_id": by_message.profile_id[engaged.message_id].to_numpy(),
        "response": engaged.response.to_numpy(), "value": np.nan, "responded_at": engaged["at"].to_numpy(),
        "detail": "drawn from the simulator's truth"})
    bought = drawn[drawn.response == "conversion"]
    orders = _orders(warehouse, bought, by_message, store_id=store_id, currency=currency)
    with warehouse.transaction():
        if not responses.empty:
            warehouse.append("responses", responses.astype({"responded_at": "datetime64[ns, UTC]"}))
        if not orders.empty:
            warehouse.append("orders", orders)
    treated = messages.treated.to_numpy()
    per_arm = pd.Series(np.where(treated, truth, 0.0)).groupby(messages.arm.to_numpy()).sum()
    return {"messages": int(len(messages)), "opens": int((engaged.response == "open").sum()),
            "clicks": int((engaged.response == "click").sum()), "orders": int(len(orders)),
            "true_incremental_by_arm": {str(a): round(float(v), 2) for a, v in per_arm.items()}}


def _window_days(warehouse: Warehouse, campaign_id: str) -> float:
    c = warehouse.table("campaigns")
    row = warehouse.execute(c.filter(c.campaign_id == campaign_id).select("definition"))
    if row.empty:
        return 14.0
    return float(json.loads(row.definition.iloc[0]).get("conversion", {}).get("window_days", 14.0))


def _messages(warehouse: Warehouse, campaign_id: str, persons_of: pd.DataFrame) -> pd.DataFrame:
    """Every recorded delivery of the campaign with its person, offer kind and (would-be) send time."""
    d = warehouse.table("deliveries")
    d = d.filter(d.campaign_id == campaign_id)
    m = warehouse.table("campaign_messages")
    rows = warehouse.execute(d.left_join(m, d.delivery_id == m.delivery_id).select(
        d.delivery_id, d.profile_id, d.arm, d.channel, d.status, d.sent_at, d.scheduled_at, m.offer))
    person = dict(zip(persons_of.profile_id, persons_of.person_id))
    rows["person_id"] = rows.profile_id.map(person)
    rows = rows[rows.person_id.notna()]
    kind = rows.offer.map(lambda o: json.loads(o).get("kind") if isinstance(o, str) else None)
    return pd.DataFrame({
        "message_id": rows.delivery_id, "person_id": rows.person_id, "profile_id": rows.profile_id, "arm": rows.arm,
        "channel": rows.channel, "offer_kind": kind.where(kind.isin(OFFER_KINDS), None),
        "offer": rows.offer, "treated": (rows.status == "sent").to_numpy(),
        "sent_at": pd.to_datetime(rows.sent_at, utc=True).fillna(pd.to_datetime(rows.scheduled_at, utc=True)),
    }).reset_index(drop=True)


def _orders(warehouse: Warehouse, bought: pd.DataFrame, by_message: pd.DataFrame, *, store_id: str | None,
            currency: str) -> pd.DataFrame:
    """One order per drawn conversion, under an identifier of the buyer's own profile."""
    if bought.empty:
        return pd.DataFrame()
    profiles = by_message.profile_id[bought.message_id].to_numpy()
    ident = first_identifiers(warehouse, set(profiles), ORDER_KINDS)
    frame = pd.DataFrame({"profile_id": profiles, "message_id": bought.message_id.to_numpy(),
                          "ordered_at": bought["at"].to_numpy(), "amount": bought.value.round(2).to_numpy()})
    frame = frame.merge(ident, on="profile_id", how="inner")
    treated = by_message.treated[frame.message_id].to_numpy()
    codes = by_message.offer[frame.message_id].map(
        lambda o: json.loads(o).get("coupon_code") if isinstance(o, str) else None).to_numpy()
    out = pd.DataFrame({
        "order_id": "sim-" + frame.message_id, "ordered_at": pd.to_datetime(frame.ordered_at, utc=True),
        "status": "completed", "is_return": False, "channel": "store" if store_id else "web",
        "store_id": store_id, "currency": currency, "amount": frame.amount, "discount": 0.0,
        "coupon_code": np.where(treated, codes, None), "n_lines": 1,
        "source": SOURCE, "load_id": "sim-campaigns", "quality_flags": ""})
    for kind in ORDER_KINDS:
        out[kind] = np.where(frame.kind == kind, frame.key, None)
    return out
