"""A small hand-built warehouse for the audience tests: six people whose memberships are worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd

AS_OF = dt.datetime(2024, 6, 30, 12, 0, tzinfo=dt.timezone.utc)
PEOPLE = ("p1", "p2", "p3", "p4", "p5", "p6")


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def _load(wh, name: str, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    columns = wh.table(name).schema()
    defaults = {"source": "test", "load_id": "l1", "quality_flags": ""}
    frame = frame.assign(**{c: v for c, v in defaults.items() if c in columns and c not in frame})
    for col, dtype in columns.items():
        if dtype.is_timestamp() and col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True)
    wh.append(name, frame)


def load_world(wh) -> None:
    """Fill an empty warehouse with the test world."""
    _load(wh, "customers", [
        dict(record_id="r1", user_id="u1", gender="F", birth_date=dt.date(1995, 7, 15), city="Shanghai",
             latitude=31.23, longitude=121.47, signed_up_at="2020-01-01"),
        dict(record_id="r2", user_id="u2", crm_id="c2", gender="M", birth_date=dt.date(1990, 1, 1), city="Beijing",
             latitude=39.90, longitude=116.40, signed_up_at="2020-01-01"),
        dict(record_id="r3", user_id="u3", gender="F", birth_date=dt.date(1999, 6, 30), city="Shanghai",
             latitude=31.30, longitude=121.50, signed_up_at="2021-01-01"),
        dict(record_id="r4", user_id="u4", signed_up_at="2022-01-01"),
        dict(record_id="r5", user_id="u5", gender="F", birth_date=dt.date(1994, 3, 3), city="Hangzhou",
             latitude=30.27, longitude=120.15, signed_up_at="2019-05-01"),
        # an older record of p5 with other values: the latest record wins
        dict(record_id="r5old", user_id="u5", gender="M", city="Nanjing", signed_up_at="2010-01-01"),
    ])
    imap = [("user_id", f"u{i}", f"p{i}") for i in range(1, 6)] + [
        ("anonymous_id", "a1", "p1"), ("anonymous_id", "a6", "p6"), ("crm_id", "c2", "p2")]
    _load(wh, "identity_map", [dict(kind=k, key=v, profile_id=p, is_shared=False) for k, v, p in imap]
          + [dict(kind="user_id", key="ushared", profile_id="s000", is_shared=True)])
    _load(wh, "profiles", [dict(profile_id=p, n_identifiers=1, n_records=1) for p in PEOPLE])

    def ev(mid, event, when, props=None, user=None, anon=None, flags=""):
        return dict(message_id=mid, type="track", event=event, user_id=user, anonymous_id=anon, timestamp=when,
                    properties=props, quality_flags=flags)

    _load(wh, "events", [
        ev("e1", "Product Viewed", "2024-06-20 10:00", '{"category": "skincare", "price": 120}', user="u1"),
        ev("e2", "Product Viewed", "2024-06-25 10:00", '{"category":"skincare","price":80}', user="u1"),
        ev("e3", "Product Viewed", "2024-05-01 10:00", '{"category":"makeup","nested":{"price":999}}', anon="a1"),
        ev("e4", "Product Viewed", "2024-06-29 10:00", '{"category":"skincare"}', user="u2", flags="dup,bot"),
        ev("e5", "Product Viewed", "2024-06-28 10:00", '{"category":"skincare","price":"50"}', user="u3"),
        ev("e6", "Order Completed", "2024-01-10 10:00", '{}', user="u3"),
        ev("e7", "Order Completed", "2024-06-29 10:00", '{"category":"护肤 \\"x\\"","total":1e3}', anon="a6"),
        ev("e8", "Product Viewed", "2024-07-05 10:00", '{"category":"skincare"}', user="u5"),
        ev("e9", "Signed Up", "2023-12-01 10:00", '{"plan":"gold","vip":true,"referrer":null}', user="u5"),
        ev("e10", "Product Viewed", "2024-06-29 10:00", '{"category":"skincare"}', user="ushared"),
    ])

    def order(oid, when, is_return=False, **ids):
        return dict(order_id=oid, ordered_at=when, status="returned" if is_return else "completed",
                    is_return=is_return, currency="CNY", amount=1.0, n_lines=1, **ids)

    _load(wh, "orders", [
        order("o1", "2024-06-10 09:00", user_id="u1"), order("o2", "2024-03-01 09:00", crm_id="c2"),
        order("o3", "2024-06-15 09:00", user_id="u1"), order("o4", "2024-06-01 09:00", True, user_id="u3"),
        order("o5", "2023-01-01 09:00", user_id="u5"),
    ])

    def line(oid, no, pid, is_return=False):
        return dict(order_id=oid, line_no=no, product_id=pid, quantity=1.0, unit_price=1.0, amount=1.0,
                    is_return=is_return)

    _load(wh, "order_lines", [line("o1", 1, "P1"), line("o1", 2, "P2"), line("o2", 1, "P2"), line("o3", 1, "P1"),
                              line("o4", 1, "P1", True), line("o5", 1, "P3")])
    _load(wh, "products", [dict(product_id="P1", category="skincare", brand="BrandA"),
                           dict(product_id="P2", category="makeup", brand="BrandB"),
                           dict(product_id="P3", category="food", brand="BrandC")])
    _load(wh, "stores", [dict(store_id="S001", latitude=31.24, longitude=121.48),
                         dict(store_id="S002", latitude=39.91, longitude=116.41)])
    now = "2024-06-30"
    _load(wh, "tags", [dict(profile_id=p, tag=t, as_of=now, computed_at=now) for p, t in
                       (("p1", "vip"), ("p2", "dormant"), ("p5", "vip"))])
    _load(wh, "scores", [dict(profile_id=p, score=s, value=v, model_id="m", computed_at=now) for p, s, v in
                         (("p1", "clv_12m", 800.0), ("p2", "clv_12m", 300.0), ("p1", "p_alive", 0.9),
                          ("p3", "p_alive", 0.2), ("p5", "p_alive", 0.25))])


# expression -> the profile ids it selects, worked out by hand from the rows above
EXPECTED: dict[str, set[str]] = {
    "gender = 'F'": {"p1", "p3", "p5"},
    "gender != 'F'": {"p2"},
    "not gender = 'F'": {"p2", "p4", "p6"},
    "GENDER = 'F'": None,  # an unknown field (names are case-sensitive): checked in the error tests
    "age between 25 and 30": {"p1", "p3", "p5"},
    "age > 30": {"p2"},
    "age = 25": {"p3"},
    "city in ('Shanghai', 'Hangzhou')": {"p1", "p3", "p5"},
    "city not in ('Shanghai')": {"p2", "p5"},
    "city starts with 'Shang'": {"p1", "p3"},
    "city contains 'jing'": {"p2"},
    "gender is null": {"p4", "p6"},
    "gender is not null": {"p1", "p2", "p3", "p5"},
    "birth_date < '1995-01-01'": {"p2", "p5"},
    "tag('vip')": {"p1", "p5"},
    "has tag 'dormant'": {"p2"},
    "not tag('vip')": {"p2", "p3", "p4", "p6"},
    "score('clv_12m') > 500": {"p1"},
    "p_alive < 0.3": {"p3", "p5"},
    "score('clv_12m') is null": {"p3", "p4", "p5", "p6"},
    "score('p_alive') between 0.2 and 0.25": {"p3", "p5"},
    "did 'Product Viewed'": {"p1", "p3"},
    "did 'Product Viewed' in last 30 days": {"p1", "p3"},
    "did 'Product Viewed' in last 72 hours": {"p3"},
    "did 'Product Viewed' where category = 'skincare' at least 2 times in last 30 days": {"p1"},
    "did 'Product Viewed' where price > 100": {"p1"},
    "did 'Product Viewed' where price >= 50 and category = 'skincare'": {"p1", "p3"},
    "did 'Product Viewed' where category in ('makeup', 'toys')": {"p1"},
    "did 'Product Viewed' where category starts with 'skin' exactly 1 time": {"p3"},
    "did 'Product Viewed' where price is null": {"p1"},
    "did not 'Product Viewed'": {"p2", "p4", "p5", "p6"},
    "did 'Order Completed' where category = '护肤 \"x\"'": {"p6"},
    "did 'Order Completed' where total = 1000": {"p6"},
    "did 'Signed Up' where vip = true": {"p5"},
    "did 'Signed Up' where plan in ('gold', 'silver') and referrer is null": {"p5"},
    "first did 'Product Viewed' before '2024-06-01'": {"p1"},
    "last did 'Order Completed' in last 7 days": {"p6"},
    "first did 'Product Viewed' between '2024-06-28' and '2024-06-28'": {"p3"},
    "did 'Product Viewed' after '2024-06-24'": {"p1", "p3"},
    "did 'Product Viewed' exactly 1 time": {"p3"},
    "did 'Product Viewed' at most 1 time": {"p2", "p3", "p4", "p5", "p6"},
    "did 'Product Viewed' exactly 0 times": {"p2", "p4", "p5", "p6"},
    "bought category 'skincare'": {"p1"},
    "bought category 'makeup'": {"p1", "p2"},
    "bought category 'makeup' but not category 'skincare'": {"p2"},
    "never bought category 'skincare'": {"p2", "p3", "p4", "p5", "p6"},
    "bought product 'P3'": {"p5"},
    "bought brand 'BrandB' in last 30 days": {"p1"},
    "bought at least 2 times": {"p1"},
    "bought category 'skincare' at least 2 times in last 60 days": {"p1"},
    "bought between '2024-03-01' and '2024-03-01'": {"p2"},
    "bought at most 1 time": {"p2", "p3", "p4", "p5", "p6"},
    "within 5 km of store 'S001'": {"p1"},
    "within 10 km of store 'S001'": {"p1", "p3"},
    "within 3 km of point(31.23, 121.47)": {"p1"},
    "not within 3 km of point(31.23, 121.47)": {"p2", "p3", "p4", "p5", "p6"},
    "tag('vip') or tag('dormant')": {"p1", "p2", "p5"},
    "gender = 'F' 且 非 tag('vip')": {"p3"},
    "(gender = 'M' 或 tag('vip')) and age >= 30": {"p2", "p5"},
    "gender = 'F' and age between 25 and 30 and did 'Product Viewed' where category = 'skincare' "
    "at least 2 times in last 30 days and not tag('dormant')": {"p1"},
}
EXPECTED = {k: v for k, v in EXPECTED.items() if v is not None}
