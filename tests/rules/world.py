"""Small hand-built shops for the rules tests: baskets whose counts are worked out by hand."""

from __future__ import annotations

import pandas as pd

# Ten purchase baskets of products A-D. Item counts: A 6, B 6, C 5, D 4; pairs: AB 4, AC 3, BC 3, BD 2,
# CD 2, AD 1; triples: ABC 2, ABD 1, BCD 1, ACD 1; ABCD 1.
BASKETS = {
    "o01": "ABC", "o02": "AB", "o03": "AB", "o04": "AC", "o05": "BC",
    "o06": "A", "o07": "BD", "o08": "CD", "o09": "ABCD", "o10": "D",
}
CATEGORY = {"A": "drinks", "B": "snacks", "C": "snacks", "D": "household"}
PATH = {"A": "food > drinks > tea", "B": "food > snacks > nuts", "C": "food > snacks > crisps",
        "D": "home > cleaning"}


def load(wh, name: str, rows: list[dict]) -> None:
    """Append ``rows`` to canonical table ``name`` with the bookkeeping columns filled in."""
    frame = pd.DataFrame(rows)
    columns = wh.table(name).schema()
    defaults = {"source": "test", "load_id": "l1", "quality_flags": ""}
    frame = frame.assign(**{c: v for c, v in defaults.items() if c in columns and c not in frame})
    for col, dtype in columns.items():
        if dtype.is_timestamp() and col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True)
    wh.append(name, frame)


def order(oid: str, when: str = "2024-06-01 10:00", *, is_return: bool = False, status: str = "completed",
          **ids) -> dict:
    return dict(order_id=oid, ordered_at=when, status=status, is_return=is_return, currency="CNY", amount=1.0,
                n_lines=1, **ids)


def line(oid: str, no: int, pid: str, *, quantity: float = 1.0, price: float = 1.0, is_return: bool = False) -> dict:
    return dict(order_id=oid, line_no=no, product_id=pid, quantity=quantity, unit_price=price,
                amount=quantity * price, is_return=is_return)


def load_baskets(wh) -> None:
    """The ten baskets, plus rows that must not count: a return, a cancelled order, a return line, a
    free line, a zero-quantity line and a line without a product."""
    orders = [order(o) for o in BASKETS]
    lines = [line(o, i + 1, p) for o, items in BASKETS.items() for i, p in enumerate(items)]
    lines.append(line("o01", 9, "A"))  # the same product twice in a basket is one item
    orders += [order("r1", is_return=True), order("x1", status="cancelled")]
    lines += [line("r1", 1, "A", quantity=-1), line("r1", 2, "D", quantity=-1),
              line("x1", 1, "A"), line("x1", 2, "D"),
              line("o06", 5, "D", quantity=-1, is_return=True), line("o06", 6, "D", price=0.0),
              line("o02", 7, "D", quantity=0.0), line("o03", 8, None)]
    load(wh, "orders", orders)
    load(wh, "order_lines", lines)
    load(wh, "products", [dict(product_id=p, name=f"product {p}", category=CATEGORY[p], category_path=PATH[p])
                          for p in "ABCD"])
