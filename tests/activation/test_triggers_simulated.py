"""Triggers on a simulated shop (2,000 customers, a month's window) against the same rules in pandas.

The reference reads the people-attached events and orders (`profile.keys`, as the triggers do) and the
catalogue, applies each rule row by row in pandas, then the cooldown greedily per person in time order.
"""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.activation.triggers import evaluate, trigger_from_dict
from jingzhun.config import Settings
from jingzhun.pipeline import load_source
from jingzhun.pipeline.build import build
from jingzhun.pipeline.demo import write_simulation
from jingzhun.profile.keys import keyed_events, keyed_orders
from jingzhun.warehouse import Warehouse

SINCE, UNTIL = pd.Timestamp("2024-11-01", tz="UTC"), pd.Timestamp("2024-12-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)
pytestmark = pytest.mark.slow  # a simulated shop loaded and built: about a minute


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("trigger_shop")
    mapping = write_simulation(root / "world", customers=2_000, seed=8)
    wh = Warehouse.duckdb(root / "w.duckdb")
    wh.ensure_schema()
    settings = Settings()
    load_source(wh, mapping, secret="cd" * 32, settings=settings)
    build(wh, settings, steps=["identity", "features"], as_of="2025-01-01T00:00:00Z")
    yield wh
    wh.close()


def _utc(s: pd.Series) -> pd.Series:
    s = pd.to_datetime(s)
    return s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")


def _cooled(occasions: pd.DataFrame, days: float) -> set[tuple[str, pd.Timestamp]]:
    """Greedy cooldown: per person in time order, an occasion fires unless within `days` of the last firing."""
    out = set()
    for pid, rows in occasions.sort_values(["profile_id", "moment"]).groupby("profile_id"):
        last = None
        for at in rows.moment:
            if last is None or at - last >= pd.Timedelta(days=days):
                out.add((pid, at))
                last = at
    return out


def _fired(wh, trigger) -> set[tuple[str, pd.Timestamp]]:
    df = wh.execute(evaluate(wh, [trigger], SINCE, UNTIL))
    return set(zip(df.profile_id, _utc(df.event_at)))


def test_cart_abandoned_equals_pandas(shop):
    ev = shop.execute(keyed_events(shop).select("profile_id", "event", "timestamp"))
    adds = ev[(ev.event == "Product Added") & ev.profile_id.notna()].assign(t=lambda d: _utc(d.timestamp))
    orders = shop.execute(keyed_orders(shop).select("profile_id", "ordered_at", "is_return"))
    orders = orders[~orders.is_return & orders.profile_id.notna()].assign(t=lambda d: _utc(d.ordered_at))
    adds_by = {p: sorted(g.t) for p, g in adds.groupby("profile_id")}
    buys_by = {p: sorted(g.t) for p, g in orders.groupby("profile_id")}
    rows = []
    for pid, t in zip(adds.profile_id, adds.t):
        if not SINCE < t + HOUR <= UNTIL:
            continue
        if any(t < u <= t + HOUR for u in adds_by[pid]) or any(t <= b <= t + HOUR for b in buys_by.get(pid, [])):
            continue
        rows.append((pid, t + HOUR))
    expected = pd.DataFrame(rows, columns=["profile_id", "moment"]).drop_duplicates()
    assert len(expected) > 20
    trigger = trigger_from_dict({"id": "cart", "campaign": "c", "kind": "cart_abandoned", "cooldown_days": 3})
    assert _fired(shop, trigger) == _cooled(expected, 3)


def test_repurchase_due_equals_pandas(shop):
    orders = shop.execute(keyed_orders(shop).select("source", "order_id", "profile_id", "ordered_at", "is_return"))
    orders = orders[~orders.is_return & orders.profile_id.notna()]
    lines = shop.execute(shop.table("order_lines").select("source", "order_id", "product_id", "is_return"))
    lines = lines[~lines.is_return]
    products = shop.execute(shop.table("products").select("product_id", "is_consumable", "repurchase_days"))
    bought = lines.merge(orders, on=["source", "order_id"]).merge(products, on="product_id")
    bought = bought.assign(t=_utc(bought.ordered_at)).drop_duplicates(["profile_id", "source", "order_id", "product_id"])
    again = {k: sorted(g.t) for k, g in bought.groupby(["profile_id", "product_id"])}
    due = bought[bought.is_consumable.fillna(False).astype(bool) & (bought.repurchase_days > 0)]
    rows = []
    for r in due.itertuples():
        at = r.t + pd.Timedelta(seconds=round(r.repurchase_days * 86400))
        if SINCE < at <= UNTIL and not any(r.t < u <= at for u in again[(r.profile_id, r.product_id)]):
            rows.append((r.profile_id, at))
    expected = pd.DataFrame(rows, columns=["profile_id", "moment"])
    assert len(expected) > 20
    trigger = trigger_from_dict({"id": "due", "campaign": "c", "kind": "days_after_purchase",
                                 "params": {"due": True}, "cooldown_days": 0})
    assert _fired(shop, trigger) == set(zip(expected.profile_id, expected.moment))
