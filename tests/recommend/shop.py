"""A small hand-built shop for recommendation tests: five people, seven products, known purchase states.

As of 2024-03-01 (every value below is worked out by hand in the tests):

* pA bought P1 (durable) twice (orders o1, o3) and P2 (lens solution, 30-day cycle) on 2024-01-20:
  41 days ago, so P2 is due (27 <= 41 <= 90).
* pB bought P2 on 2024-02-20 (10 days ago: not due), and P4 and P5 in one order (its credit note
  o5-R is no purchase).
* pC bought P1 and P6 (out of stock) in one order, and P2 on 2023-10-01 (152 days ago: more than three
  cycles, no longer due).
* pD bought P4 and P7 (a consumable without a cycle: never due).
* pE bought P1 and P4 on 2024-03-05, after as_of: outside the window.
* an order of an unknown buyer (no identity) is left out.
"""

from __future__ import annotations

import pandas as pd

AS_OF = "2024-03-01T00:00:00Z"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def _order(order_id, at, user, *, is_return=False):
    return {"source": "shop", "order_id": order_id, "load_id": "l1", "quality_flags": "", "ordered_at": ts(at),
            "status": "returned" if is_return else "completed", "is_return": is_return, "currency": "CNY",
            "amount": 1.0, "n_lines": 1, "user_id": user, "channel": "web"}


def _line(order_id, line_no, product, quantity=1.0, *, is_return=False):
    return {"source": "shop", "order_id": order_id, "line_no": line_no, "product_id": product,
            "quantity": quantity, "unit_price": 10.0, "amount": 10.0 * quantity, "is_return": is_return,
            "load_id": "l1", "quality_flags": ""}


def _product(pid, category, price, *, consumable=False, days=None, in_stock=True, brand="X", name=None):
    return {"source": "shop", "load_id": "l1", "quality_flags": "", "product_id": pid, "name": name or f"name {pid}",
            "category": category, "category_path": f"{category} > sub", "brand": brand, "price": price,
            "is_consumable": consumable, "repurchase_days": days, "in_stock": in_stock}


PRODUCTS = [
    _product("P1", "眼镜", 300.0),
    _product("P2", "眼镜", 40.0, consumable=True, days=30.0, name="lens solution"),
    _product("P3", "美妆", 120.0),
    _product("P4", "美妆", 80.0),
    _product("P5", "服饰", 200.0),
    _product("P6", "服饰", 150.0, in_stock=False),
    _product("P7", "食品", 20.0, consumable=True, days=None),
]
ORDERS = [
    _order("o1", "2024-01-02 10:00", "uA"), _order("o2", "2024-01-20 10:00", "uA"),
    _order("o3", "2024-02-01 10:00", "uA"),
    _order("o4", "2024-02-20 10:00", "uB"), _order("o5", "2024-02-21 10:00", "uB"),
    _order("o5-R", "2024-02-25 10:00", "uB", is_return=True),
    _order("o6", "2024-01-10 10:00", "uC"), _order("o7", "2023-10-01 10:00", "uC"),
    _order("o8", "2024-02-10 10:00", "uD"),
    _order("o9", "2024-03-05 10:00", "uE"),
    _order("o10", "2024-02-10 10:00", "nobody"),
]
LINES = [
    _line("o1", 1, "P1"), _line("o2", 1, "P2", 2.0), _line("o3", 1, "P1"),
    _line("o4", 1, "P2"), _line("o5", 1, "P4"), _line("o5", 2, "P5"),
    _line("o5-R", 1, "P5", -1.0, is_return=True),
    _line("o6", 1, "P1"), _line("o6", 2, "P6"), _line("o7", 1, "P2"),
    _line("o8", 1, "P4"), _line("o8", 2, "P7"),
    _line("o9", 1, "P1"), _line("o9", 2, "P4"),
    _line("o10", 1, "P3"),
]
IDENTITY = [("user_id", f"u{x}", f"p{x}", False) for x in "ABCDE"]


def load_shop(wh) -> None:
    wh.append("products", pd.DataFrame(PRODUCTS))
    wh.append("orders", pd.DataFrame(ORDERS))
    wh.append("order_lines", pd.DataFrame(LINES))
    wh.append("identity_map", pd.DataFrame(IDENTITY, columns=["kind", "key", "profile_id", "is_shared"]))
