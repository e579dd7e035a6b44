"""Triggers on hand-built events, orders, tags and birthdays: every kind, window edges, dedup, cooldowns.

Every expected firing below is worked out by hand from the rows written in the test.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from jingzhun.activation.triggers import evaluate, load_triggers, trigger_from_dict
from jingzhun.errors import ConfigError

T0 = pd.Timestamp("2024-03-01 00:00", tz="UTC")


def at(hours: float = 0, days: float = 0) -> pd.Timestamp:
    return T0 + pd.Timedelta(hours=hours) + pd.Timedelta(days=days)


def trig(kind, params=None, *, id="t1", cooldown=0.0):
    return trigger_from_dict({"id": id, "campaign": "c1", "kind": kind, "params": params or {},
                              "cooldown_days": cooldown})


def _append(wh, name, rows):
    frame = pd.DataFrame(rows)
    cols = wh.table(name).columns
    for col, value in {"source": "shop", "load_id": "l1", "quality_flags": ""}.items():
        if col in cols and col not in frame:
            frame[col] = value
    wh.append(name, frame)


def people(wh, *names):
    _append(wh, "identity_map", [{"kind": "user_id", "key": f"u{n}", "profile_id": f"p{n}", "is_shared": False}
                                 for n in names])


_seq = iter(range(10**6))


def event(name, who, when, properties=None, flags=""):
    return {"message_id": f"m{next(_seq)}", "type": "track", "event": name, "user_id": f"u{who}", "timestamp": when,
            "properties": properties, "quality_flags": flags}


def order(oid, who, when, lines=(), is_return=False):
    o = {"order_id": oid, "user_id": f"u{who}", "ordered_at": when, "status": "completed", "is_return": is_return,
         "currency": "CNY", "amount": 10.0, "n_lines": len(lines)}
    ls = [{"order_id": oid, "line_no": i + 1, "product_id": p, "quantity": 1.0, "unit_price": 10.0, "amount": 10.0,
           "is_return": is_return} for i, p in enumerate(lines)]
    return o, ls


def orders(wh, *items):
    _append(wh, "orders", [o for o, _ in items])
    lines = [line for _, ls in items for line in ls]
    if lines:
        _append(wh, "order_lines", lines)


def fired(result, wh) -> list[tuple]:
    """(profile, moment as naive UTC) of the firings, sorted."""
    df = wh.execute(result)
    at = pd.to_datetime(df.event_at)
    at = at.dt.tz_localize(None) if at.dt.tz is None else at.dt.tz_convert(None)  # Spark gives naive UTC
    return sorted(zip(df.profile_id, at))


def naive(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert(None)


# -- cart abandoned --------------------------------------------------------------------------------

@pytest.fixture
def carts(warehouse):
    people(warehouse, "A", "B", "C", "D")
    _append(warehouse, "events", [
        event("Product Added", "A", at(10), '{"product_id":"P1","price":10}'),
        event("Product Added", "B", at(10), '{"product_id":"P1"}'),          # bought at 10:30
        event("Product Added", "C", at(10), '{"product_id":"P1"}'),          # a burst: one cart,
        event("Product Added", "C", at(10 + 1 / 3), '{"product_id":"P2"}'),  # judged from 10:20
        event("Product Added", "A", at(20), '{"product_id":"P3"}'),          # bought at 21:30: too late
        event("Product Added", "D", at(10), '{"product_id":"P1"}', flags="bot"),
        event("Product Viewed", "D", at(10), '{"product_id":"P1"}'),
    ])
    orders(warehouse, order("o1", "B", at(10.5), ["P1"]), order("o2", "A", at(21.5), ["P3"]))
    return warehouse


def test_cart_abandoned_fires_an_hour_after_the_last_add_without_a_purchase(carts):
    result = evaluate(carts, [trig("cart_abandoned")], T0, at(days=1))
    assert fired(result, carts) == [("pA", naive(at(11))), ("pA", naive(at(21))), ("pC", naive(at(10 + 1 / 3 + 1)))]
    assert set(carts.execute(result).reason) == {
        "added product P1 to the cart ('Product Added') and bought nothing within 1 h",
        "added product P2 to the cart ('Product Added') and bought nothing within 1 h",
        "added product P3 to the cart ('Product Added') and bought nothing within 1 h"}
    # the rows are in trigger_firings, and a second run over the same window fires nothing new
    assert carts.count("trigger_firings") == 3
    again = evaluate(carts, [trig("cart_abandoned")], T0, at(days=1), now=at(days=2))
    assert carts.execute(again.count()) == 0 and carts.count("trigger_firings") == 3


def test_window_edges_since_is_excluded_until_is_included(carts):
    first = evaluate(carts, [trig("cart_abandoned")], T0, at(11))
    assert fired(first, carts) == [("pA", naive(at(11)))]
    second = evaluate(carts, [trig("cart_abandoned")], at(11), at(days=1))
    assert fired(second, carts) == [("pA", naive(at(21))), ("pC", naive(at(10 + 1 / 3 + 1)))]
    # an occasion after `until` waits for a later window even when `now` is long after
    late = evaluate(carts, [trig("cart_abandoned", {"wait_hours": 2}, id="t2")], T0, at(11.9), now=at(days=5))
    assert fired(late, carts) == []


def test_cooldown_blocks_a_second_firing_within_the_batch_and_across_batches(carts):
    one_day = trig("cart_abandoned", cooldown=1)
    assert fired(evaluate(carts, [one_day], T0, at(15)), carts) == [("pA", naive(at(11))), ("pC", naive(at(11 + 1 / 3)))]
    # pA's 21:00 cart is within a day of the 11:00 firing: blocked in the next batch too
    assert fired(evaluate(carts, [one_day], at(15), at(days=1)), carts) == []
    # a shorter cooldown (9 h) lets it through; different triggers do not block each other
    nine = trig("cart_abandoned", id="t9", cooldown=9 / 24)
    assert fired(evaluate(carts, [nine], T0, at(days=1)), carts) == [
        ("pA", naive(at(11))), ("pA", naive(at(21))), ("pC", naive(at(11 + 1 / 3)))]


def test_an_evaluation_leaves_one_staged_table_its_result(carts):
    if carts.engine != "duckdb":
        pytest.skip("temporary tables are counted in DuckDB's catalogue")

    def temporary() -> int:
        return carts.con.raw_sql("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0]

    before = temporary()
    evaluate(carts, [trig("cart_abandoned", cooldown=1), trig("birthday", id="b")], T0, at(days=1))
    assert temporary() == before + 1


def test_cooldown_in_one_long_window_keeps_the_earliest_and_the_next_outside_it(warehouse):
    people(warehouse, "A")
    # events at 0, 10, 20, 30 h; cooldown 15 h: 0 fires, 10 is blocked, 20 fires, 30 is blocked
    _append(warehouse, "events", [event("Coupon Viewed", "A", at(h)) for h in (0.5, 10.5, 20.5, 30.5)])
    t = trig("event", {"event": "Coupon Viewed"}, cooldown=15 / 24)
    assert fired(evaluate(warehouse, [t], T0, at(days=2)), warehouse) == [("pA", naive(at(0.5))), ("pA", naive(at(20.5)))]


# -- tags and scores -------------------------------------------------------------------------------

def _history(rows):
    out = []
    for who, tag, change, before, after, as_of, previous in rows:
        out.append({"profile_id": who, "tag": tag, "change": change, "value_before": before, "value_after": after,
                    "reason": "churn risk 80%" if after == "high" else None, "as_of": as_of,
                    "previous_as_of": previous, "computed_at": as_of})
    return out


@pytest.fixture
def history(warehouse):
    b1, b2, b3, b4 = at(days=1), at(days=2), at(days=3), at(days=20)
    _append(warehouse, "tag_history", _history([
        ("pA", "churn_risk_level", "gained", None, "high", b1, None),     # first build: the baseline
        ("pB", "churn_risk_level", "gained", None, "medium", b1, None),
        ("pB", "churn_risk_level", "changed", "medium", "high", b2, b1),  # rose
        ("pC", "churn_risk_level", "gained", None, "high", b2, b1),       # newly scored, already high
        ("pA", "churn_risk_level", "changed", "high", "medium", b2, b1),  # fell
        ("pD", "churn_risk_level", "changed", "low", "medium", b2, b1),   # rose, not into high
        ("pB", "churn_risk_level", "changed", "high", "medium", b3, b2),
        ("pB", "churn_risk_level", "changed", "medium", "high", b4, b3),  # rose again 18 days later
        ("pA", "vip", "gained", None, None, b2, b1),
        ("pB", "vip", "gained", None, None, b1, None),                    # first build: baseline
        ("pC", "vip", "lost", None, None, b2, b1),
    ]))
    return warehouse


def test_score_crossed_reads_level_changes_between_tag_builds(history):
    t = trig("score_crossed", {"tag": "churn_risk_level", "levels": ["high"]}, cooldown=30)
    result = evaluate(history, [t], T0, at(days=30))
    assert fired(result, history) == [("pB", naive(at(days=2))), ("pC", naive(at(days=2)))]
    reasons = set(history.execute(result).reason)
    assert reasons == {"churn_risk_level rose to high from medium: churn risk 80%",
                       "churn_risk_level rose to high: churn risk 80%"}
    # with a 10-day cooldown pB's second rise fires too
    t10 = trig("score_crossed", {"tag": "churn_risk_level", "levels": ["high"]}, id="t10", cooldown=10)
    assert fired(evaluate(history, [t10], T0, at(days=30)), history) == [
        ("pB", naive(at(days=2))), ("pB", naive(at(days=20))), ("pC", naive(at(days=2)))]


def test_tag_gained(history):
    assert fired(evaluate(history, [trig("tag_gained", {"tag": "vip"})], T0, at(days=30)), history) == [
        ("pA", naive(at(days=2)))]
    medium = trig("tag_gained", {"tag": "churn_risk_level", "values": ["medium"]}, id="t2")
    assert fired(evaluate(history, [medium], T0, at(days=30)), history) == [
        ("pA", naive(at(days=2))), ("pB", naive(at(days=3))), ("pD", naive(at(days=2)))]


# -- birthdays -------------------------------------------------------------------------------------

def _features(wh, births: dict[str, dt.date | None]):
    wh.append("profile_features", pd.DataFrame({
        "profile_id": list(births), "as_of": T0, "n_identifiers": 1, "n_records": 1, "frequency": 0,
        "purchase_days": 0, "monetary_total": 0.0, "returns": 0, "returned_amount": 0.0, "n_categories": 0,
        "n_brands": 0, **{f"hour_{h:02d}": 0 for h in range(24)}, **{f"weekday_{d}": 0 for d in range(7)},
        "n_events": 0, "events_90d": 0, "email_opened_90d": 0, "email_clicked_90d": 0, "push_opened_90d": 0,
        "sms_clicked_90d": 0, "birth_date": list(births.values())}))


def test_birthday_at_local_midnight_once_a_year(warehouse):
    _features(warehouse, {"pA": dt.date(1990, 3, 5), "pB": dt.date(1992, 2, 29), "pC": None,
                          "pD": dt.date(1985, 3, 6)})
    t = trig("birthday", cooldown=0)
    # Shanghai midnight of 5 March is 4 March 16:00 UTC; 6 March's is 5 March 16:00, just past `until`
    result = evaluate(warehouse, [t], "2024-03-04T00:00Z", "2024-03-05T15:59:59Z", timezone="Asia/Shanghai")
    assert fired(result, warehouse) == [("pA", pd.Timestamp("2024-03-04 16:00"))]
    assert list(warehouse.execute(result).reason) == ["birthday on 2024-03-05"]
    # a whole year: everyone with a birthday once; 29 February is 28 February in 2023
    year = evaluate(warehouse, [trig("birthday", id="y")], "2022-12-31T16:00Z", "2023-12-31T16:00Z",
                    timezone="Asia/Shanghai")
    assert fired(year, warehouse) == [("pA", pd.Timestamp("2023-03-04 16:00")), ("pB", pd.Timestamp("2023-02-27 16:00")),
                                      ("pD", pd.Timestamp("2023-03-05 16:00"))]
    # three days early, in UTC
    early = trig("birthday", {"days_before": 3, "timezone": "UTC"}, id="e")
    assert fired(evaluate(warehouse, [early], "2024-03-01T00:00Z", "2024-03-03T00:00Z"), warehouse) == [
        ("pA", pd.Timestamp("2024-03-02 00:00")), ("pD", pd.Timestamp("2024-03-03 00:00"))]


# -- purchases -------------------------------------------------------------------------------------

@pytest.fixture
def shop(warehouse):
    people(warehouse, "A", "B", "C")
    _append(warehouse, "products", [
        {"product_id": "P1", "category": "skincare", "is_consumable": True, "repurchase_days": 30.0},
        {"product_id": "P2", "category": "apparel", "is_consumable": False},
        {"product_id": "P3", "category": "food", "is_consumable": True, "repurchase_days": 10.0},
    ])
    orders(warehouse,
           order("o1", "A", at(9), ["P1", "P2"]), order("o2", "A", at(9, days=40), ["P2"]),
           order("o3", "B", at(9), ["P1"]), order("o4", "B", at(9, days=20), ["P1"]),
           order("o5", "C", at(9, days=5), ["P3"], is_return=True))
    return warehouse


def test_days_after_purchase_of_a_consumable(shop):
    week = trig("days_after_purchase", {"days": 7})
    assert fired(evaluate(shop, [week], T0, at(days=60)), shop) == [
        ("pA", naive(at(9, days=7))), ("pB", naive(at(9, days=7))), ("pB", naive(at(9, days=27)))]


def test_due_by_repurchase_days_unless_bought_again(shop):
    due = trig("days_after_purchase", {"due": True})
    result = evaluate(shop, [due], T0, at(days=60))
    # pB's first P1 (due day 30) is skipped: pB bought P1 again on day 20; that one is due on day 50
    assert fired(result, shop) == [("pA", naive(at(9, days=30))), ("pB", naive(at(9, days=50)))]
    assert "bought product P1 30.0 days ago (its repurchase cycle) and not again since" in set(shop.execute(result).reason)


def test_first_purchase_fires_once(shop):
    first = trig("first_purchase")
    assert fired(evaluate(shop, [first], T0, at(days=10)), shop) == [("pA", naive(at(9))), ("pB", naive(at(9)))]
    assert fired(evaluate(shop, [first], at(days=10), at(days=60)), shop) == []  # pC only returned something


def test_event_with_property_conditions(warehouse):
    people(warehouse, "A", "B", "C")
    _append(warehouse, "events", [
        event("Signed Up", "A", at(1), '{"plan":"gold","seats":5}'),
        event("Signed Up", "B", at(2), '{"plan":"silver","seats":9}'),
        event("Signed Up", "C", at(3), '{"plan":"gold","seats":1}'),
    ])
    t = trig("event", {"event": "Signed Up", "where": "plan = 'gold' and seats >= 2"})
    result = evaluate(warehouse, [t], T0, at(days=1))
    assert fired(result, warehouse) == [("pA", naive(at(1)))]
    assert list(warehouse.execute(result).reason) == ["did 'Signed Up' where plan = 'gold' and seats >= 2"]


# -- definitions -----------------------------------------------------------------------------------

def test_definitions_are_checked_with_clear_errors(tmp_path, warehouse):
    with pytest.raises(ConfigError, match="kind"):
        trigger_from_dict({"id": "x", "campaign": "c", "kind": "cart_abandonned"})
    with pytest.raises(ConfigError, match="either days: N .* not both"):
        trig("days_after_purchase", {"days": 3, "due": True})
    with pytest.raises(ConfigError, match="wait_hours"):
        trig("cart_abandoned", {"wait_hours": 0})
    with pytest.raises(ConfigError, match="extra|not permitted"):
        trig("birthday", {"day_before": 3})
    with pytest.raises(ConfigError, match="event property conditions only"):
        trig("event", {"event": "X", "where": "plan = 'gold' and tag('vip')"})
    with pytest.raises(ConfigError, match="event property conditions only"):
        trig("event", {"event": "X", "where": "plan = 'gold' at least 2 times"})
    with pytest.raises(ConfigError, match="closes no"):
        trig("event", {"event": "X", "where": "plan = 'gold') or (tag('vip')"})
    with pytest.raises(ConfigError, match="unknown time zone"):
        trig("birthday", {"timezone": "Mars/Olympus"})
    with pytest.raises(ConfigError, match="since < until <= now"):
        evaluate(warehouse, [trig("first_purchase")], at(days=2), at(days=1))
    with pytest.raises(ConfigError, match="since < until <= now"):
        evaluate(warehouse, [trig("first_purchase")], T0, at(days=2), now=at(days=1))
    with pytest.raises(ConfigError, match="unique"):
        evaluate(warehouse, [trig("first_purchase"), trig("birthday")], T0, at(days=1))
    path = tmp_path / "triggers.yaml"
    path.write_text("triggers:\n  - {id: cart-1h, campaign: cart, kind: cart_abandoned, params: {wait_hours: 1},"
                    " cooldown_days: 7}\n  - {id: bday, campaign: birthday, kind: birthday}\n", encoding="utf-8")
    loaded = load_triggers(path)
    assert [t.id for t in loaded] == ["cart-1h", "bday"] and loaded[0].settings.event == "Product Added"
    assert loaded[0].fingerprint != trig("cart_abandoned", {"wait_hours": 2}, id="cart-1h").fingerprint
