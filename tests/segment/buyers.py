"""A hand-built order history for the RFM, lifecycle and snapshot tests: seven people, every figure
worked out by hand in the tests from the rows below.

Purchases are placed a whole number of days before AS_OF (midnight UTC), so recency in days and gaps
between purchase days are those numbers exactly.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

AS_OF = dt.datetime(2024, 6, 30, tzinfo=dt.timezone.utc)
LATER = AS_OF + dt.timedelta(days=45)  # a second moment for snapshots

# person -> [(days before AS_OF, amount)]; negative days are after AS_OF
PURCHASES = {
    "pNew": [(10, 50.0), (-5, 70.0)],
    "pActive": [(100, 100.0), (70, 100.0), (20, 100.0)],
    "pWon": [(300, 40.0), (10, 40.0)],
    "pRisk": [(200, 40.0), (90, 40.0)],
    "pLapsed": [(400, 10.0), (300, 10.0)],
}
PEOPLE = (*PURCHASES, "pReturn", "pNone")


def _order(oid: str, person: str, days: int, amount: float, **extra) -> dict:
    return dict(source="shop", order_id=oid, load_id="l1", quality_flags="", user_id=f"u_{person}",
                ordered_at=pd.Timestamp(AS_OF - dt.timedelta(days=days)), status="completed", is_return=False,
                currency="CNY", amount=amount, n_lines=1, **extra)


def orders() -> pd.DataFrame:
    rows = [_order(f"{p}-{i}", p, d, a) for p, buys in PURCHASES.items() for i, (d, a) in enumerate(buys)]
    rows.append(_order("pNew-cancelled", "pNew", 200, 999.0) | {"status": "cancelled"})
    rows.append(_order("pReturn-R", "pReturn", 5, -30.0) | {"is_return": True, "status": "returned"})
    return pd.DataFrame(rows)


def lines(frame: pd.DataFrame) -> pd.DataFrame:
    """One line of product P1 per order (audiences' `bought` reads order lines)."""
    return pd.DataFrame(dict(source="shop", order_id=frame.order_id, line_no=1, product_id="P1", quantity=1.0,
                             unit_price=frame.amount.abs(), amount=frame.amount, is_return=frame.is_return,
                             load_id="l1", quality_flags=""))


def load_buyers(wh) -> None:
    """Fill an empty warehouse with the people, their identifiers, their orders and order lines."""
    wh.append("identity_map", pd.DataFrame(
        [dict(kind="user_id", key=f"u_{p}", profile_id=p, is_shared=False) for p in PEOPLE]))
    wh.append("profiles", pd.DataFrame([dict(profile_id=p, n_identifiers=1, n_records=0) for p in PEOPLE]))
    wh.append("orders", orders())
    wh.append("order_lines", lines(orders()))
    wh.append("products", pd.DataFrame([dict(source="shop", product_id="P1", category="tea", load_id="l1",
                                             quality_flags="")]))
