"""Cross-table checks: orphans are counted, per source, and nothing is deleted."""

import pandas as pd

from jingzhun.quality import check_references

NOW = pd.Timestamp("2024-05-01", tz="UTC")


def _load(warehouse, name, rows):
    df = pd.DataFrame(rows)
    df["load_id"] = "L1"
    df["quality_flags"] = ""
    warehouse.append(name, df)


def _orders(source, rows):
    return [{"source": source, "order_id": o, "store_id": s, "crm_id": c, "user_id": u, "ordered_at": NOW,
             "status": "completed", "is_return": False, "currency": "CNY", "amount": 1.0, "n_lines": 1}
            for o, s, c, u in rows]


def _lines(source, rows):
    return [{"source": source, "order_id": o, "line_no": 1, "product_id": p, "quantity": 1.0, "unit_price": 1.0,
             "amount": 1.0, "is_return": False} for o, p in rows]


def _fill(warehouse):
    _load(warehouse, "orders", _orders("shop", [("o1", "S1", "k1", None), ("o2", "S9", None, "u-unknown"),
                                                ("o3", None, None, None)])
          + _orders("app", [("a1", "S1", "k-nobody", None)]))
    _load(warehouse, "order_lines", _lines("shop", [("o1", "P1"), ("o2", "P404"), ("o-missing", "P1")])
          + _lines("app", [("a1", "P-any")]))
    _load(warehouse, "stores", [{"source": "stores", "store_id": "S1"}])
    _load(warehouse, "products", [{"source": "shop", "product_id": "P1"}])
    _load(warehouse, "customers", [{"source": "shop", "record_id": "r1", "crm_id": "k1"}])


def test_orphans_per_source(warehouse):
    _fill(warehouse)
    got = {c.rule: (c.checked, c.flagged) for c in check_references(warehouse, "shop")}
    assert got == {
        "orphan_order_lines": (3, 1),       # o-missing
        "orphan_order_stores": (2, 1),      # S9
        "orphan_order_products": (3, 1),    # P404
        "orphan_order_customers": (2, 1),   # u-unknown; o1 matches by crm_id
    }
    every = {c.rule: (c.checked, c.flagged) for c in check_references(warehouse)}
    # app loaded no products and no customers: its rows are not checked against them
    assert every["orphan_order_products"] == (3, 1) and every["orphan_order_customers"] == (2, 1)
    assert every["orphan_order_lines"] == (4, 1) and every["orphan_order_stores"] == (3, 1)
    assert warehouse.count("order_lines") == 4            # reported, not deleted


def test_no_stores_loaded_means_not_checked(warehouse):
    _load(warehouse, "orders", _orders("shop", [("o1", "S1", None, None)]))
    got = {c.rule: c for c in check_references(warehouse)}
    assert got["orphan_order_stores"].checked == 0 and "not checked" in got["orphan_order_stores"].description
    assert all(c.flagged == 0 for c in got.values())
