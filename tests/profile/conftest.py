"""A small hand-built shop for feature tests: three people, a shared device, two stores, three products.

Every value the tests expect is worked out by hand in test_features.py from the rows below.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from jingzhun.warehouse import Warehouse

AS_OF = "2024-03-01T00:00:00Z"
_seq = itertools.count()


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def order(order_id, at, *, amount, n_lines, channel="web", discount=0.0, coupon=None, store=None,
          is_return=False, load_id="l1", **ids) -> dict:
    return {"source": "shop", "order_id": order_id, "load_id": load_id, "quality_flags": "", "ordered_at": ts(at),
            "status": "returned" if is_return else "completed", "is_return": is_return, "currency": "CNY",
            "amount": amount, "discount": discount, "coupon_code": coupon, "channel": channel, "store_id": store,
            "n_lines": n_lines, **ids}


def line(order_id, line_no, product, quantity, amount, *, load_id="l1", is_return=False) -> dict:
    return {"source": "shop", "order_id": order_id, "line_no": line_no, "product_id": product,
            "quantity": quantity, "unit_price": abs(amount / quantity), "amount": amount, "is_return": is_return,
            "load_id": load_id, "quality_flags": ""}


def event(at, *, type_="track", name=None, flags="", load_id="l1", **ids) -> dict:
    return {"source": "web", "message_id": f"m{next(_seq)}", "type": type_, "event": name, "timestamp": ts(at),
            "load_id": load_id, "quality_flags": flags, **ids}


IDENTITY = [
    ("user_id", "u1", "pA", False), ("crm_id", "c1", "pA", False), ("anonymous_id", "a1", "pA", False),
    ("user_id", "u2", "pB", False), ("email", "e2", "pB", False),
    ("anonymous_id", "a3", "pC", False),
    ("device_id", "dShared", "sShared", True),
]

STORES = [
    {"source": "shop", "store_id": "S1", "latitude": 31.23, "longitude": 121.47},
    {"source": "shop", "store_id": "S2", "latitude": 39.90, "longitude": 116.40},
]
PRODUCTS = [
    {"source": "shop", "product_id": "P1", "category": "美妆", "category_path": "美妆 > 护肤 > 面霜", "brand": "X",
     "is_consumable": True, "repurchase_days": 30.0},
    {"source": "shop", "product_id": "P2", "category": "服饰", "category_path": "服饰 > 上衣", "brand": "Y",
     "is_consumable": False},
    {"source": "shop", "product_id": "P3", "category": "食品", "category_path": "食品 > 零食", "brand": "X",
     "is_consumable": True, "repurchase_days": 10.0},
]
ORDERS = [
    order("o1", "2024-01-01 10:00", amount=100.0, n_lines=2, user_id="u1"),
    order("o2", "2024-01-11 10:30", amount=90.0, discount=10.0, coupon="C10", n_lines=1, channel="store",
          store="S1", crm_id="c1"),
    order("o3", "2024-01-31 15:00", amount=50.0, n_lines=1, channel="app", user_id="u1"),
    order("o3-R", "2024-02-05 12:00", amount=-50.0, n_lines=1, channel="app", is_return=True, user_id="u1"),
    order("o4", "2024-03-01 08:00", amount=999.0, n_lines=1, user_id="u1"),  # after as_of
    order("o6", "2024-02-20 09:00", amount=200.0, discount=50.0, n_lines=1, channel="wechat", user_id="u2"),
    order("o7", "2024-02-21 09:00", amount=70.0, n_lines=1, user_id="nobody"),  # unknown buyer
]
LINES = [
    line("o1", 1, "P1", 1, 60.0), line("o1", 2, "P2", 2, 40.0),
    line("o2", 1, "P1", 3, 90.0),
    line("o3", 1, "P2", 1, 50.0),
    line("o3-R", 1, "P2", -1, -50.0, is_return=True),
    line("o4", 1, "P1", 1, 999.0),
    line("o6", 1, "P3", 4, 200.0),
    line("o7", 1, "P2", 1, 70.0),
]
EVENTS = [
    event("2024-02-10 10:15", name="Email Opened", user_id="u1"),
    event("2024-02-11 10:40", name="Push Opened", anonymous_id="a1"),
    event("2023-10-01 21:00", name="Product Viewed", user_id="u1"),
    event("2024-02-12 03:00", name="Product Viewed", user_id="u1", flags="duplicate_exact,bot"),  # a bot: left out
    event("2024-02-12 04:00", type_="identify", user_id="u1"),  # not engagement
    event("2024-02-25 09:10", name="Email Link Clicked", user_id="u2", anonymous_id="a1"),  # user_id first: pB
    event("2024-02-13 05:00", type_="page", name="home", device_id="dShared"),  # a shared device: nobody
    event("2024-02-28 22:00", name="email_opened", anonymous_id="a3"),
]
CUSTOMERS = [
    {"source": "crm", "record_id": "r1", "crm_id": "c1", "gender": "F", "birth_date": "1990-03-25", "city": "上海",
     "region": "上海市", "latitude": 31.22, "longitude": 121.46, "education": "本科",
     "signed_up_at": ts("2023-12-01 00:00")},
    {"source": "web", "record_id": "r2", "user_id": "u1", "gender": "F", "city": "北京", "region": "北京市",
     "signed_up_at": ts("2024-01-05 00:00")},
    {"source": "web", "record_id": "r3", "email": "e2", "gender": "M", "birth_date": "2006-05-01",
     "signed_up_at": ts("2024-02-20 08:00")},
]


def frame(rows: list[dict], **extra) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for k, v in extra.items():
        df[k] = v
    if "birth_date" in df:
        df["birth_date"] = pd.to_datetime(df["birth_date"]).dt.date
    return df


def identity_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["kind", "key", "profile_id", "is_shared"])


def load_shop(wh: Warehouse) -> None:
    wh.append("stores", frame(STORES, load_id="l1", quality_flags=""))
    wh.append("products", frame(PRODUCTS, load_id="l1", quality_flags=""))
    wh.append("orders", frame(ORDERS))
    wh.append("order_lines", frame(LINES))
    wh.append("events", frame(EVENTS))
    wh.append("customers", frame(CUSTOMERS, load_id="l1", quality_flags=""))
    wh.append("identity_map", identity_frame(IDENTITY))


def read_features(wh: Warehouse) -> pd.DataFrame:
    """profile_features sorted by profile, timestamps as naive UTC (Spark returns naive, DuckDB aware)."""
    df = wh.execute(wh.table("profile_features")).sort_values("profile_id").reset_index(drop=True)
    for col in df.columns:
        if isinstance(df[col].dtype, pd.DatetimeTZDtype):
            df[col] = df[col].dt.tz_convert("UTC").dt.tz_localize(None)
        elif df[col].dtype.kind == "M":
            df[col] = df[col].astype("datetime64[us]")
    for col in df.columns:
        if df[col].dtype.kind == "M":
            df[col] = df[col].astype("datetime64[us]")
    if "birth_date" in df:
        df["birth_date"] = pd.to_datetime(df["birth_date"]).dt.date
    return df


@pytest.fixture
def shop(warehouse):
    load_shop(warehouse)
    return warehouse
