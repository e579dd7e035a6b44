"""A small hand-built shop for tag tests: six people with features, records, purchases and scores.

profile_features rows are written directly (not built), so every value a tag reads is chosen here and
the expected memberships in test_tags_build.py can be worked out by hand from this file.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from jingzhun.schema.tables import table as table_spec

AS_OF = dt.datetime(2024, 6, 30, tzinfo=dt.timezone.utc)
LATER = dt.datetime(2024, 7, 31, tzinfo=dt.timezone.utc)
PEOPLE = ("p1", "p2", "p3", "p4", "p5", "p6")

# the features each person has as of AS_OF (everything else 0 or null)
FEATURES: dict[str, dict] = {
    "p1": dict(frequency=5, monetary_total=2500.0, recency_days=10, avg_order_value=500.0, price_sensitivity=0.8,
               top_category="美妆", top_category_share=0.6, peak_hour=23, n_events=4, tenure_days=400,
               repurchase_due_days=-3.5),
    "p2": dict(frequency=3, monetary_total=2000.0, recency_days=200, avg_order_value=2000.0 / 3,
               price_sensitivity=0.0, top_category="数码", top_category_share=1.0, peak_hour=9, tenure_days=800),
    "p3": dict(frequency=1, monetary_total=99.99, recency_days=400, avg_order_value=99.99, price_sensitivity=1.0,
               top_category="美妆", top_category_share=1.0, peak_hour=0, n_events=1, tenure_days=500,
               repurchase_due_days=6.96),
    "p4": dict(frequency=0, monetary_total=0.0),
    "p5": dict(frequency=2, monetary_total=1000.0, recency_days=100, avg_order_value=500.0, price_sensitivity=0.5,
               top_category="食品", top_category_share=0.5, peak_hour=22, n_events=2, tenure_days=100,
               repurchase_due_days=-7.004),
    "p6": dict(frequency=8, monetary_total=100.0, recency_days=0, avg_order_value=12.5, price_sensitivity=0.25,
               top_category="食品", top_category_share=0.9, peak_hour=12, n_events=9, tenure_days=20),
}

SCORES = [("p1", "churn_risk", 0.9), ("p2", "churn_risk", 0.7), ("p3", "churn_risk", 0.3),
          ("p5", "churn_risk", 0.1), ("p1", "p_alive", 0.95)]
SCORE_REASONS = {("p1", "churn_risk"): "no purchase for 120 days (typical: 30)"}  # the model's own words


def _frame(wh, name: str, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    defaults = {"source": "test", "load_id": "l1", "quality_flags": ""}
    columns = wh.table(name).schema()
    frame = frame.assign(**{c: v for c, v in defaults.items() if c in columns and c not in frame})
    for col, dtype in columns.items():
        if dtype.is_timestamp() and col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True)
    wh.append(name, frame)


def feature_rows(features: dict[str, dict], as_of: dt.datetime) -> pd.DataFrame:
    """profile_features rows: the given values, 0 in the other counters, null elsewhere."""
    spec = table_spec("profile_features")
    rows = []
    for pid, values in features.items():
        row = {c.name: None for c in spec.columns}
        for c in spec.columns:
            if not c.nullable:
                row[c.name] = 0.0 if c.dtype == "float64" else 0
        row.update(profile_id=pid, as_of=pd.Timestamp(as_of), n_identifiers=1, **values)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["birth_date"] = pd.Series([None] * len(frame), dtype=object)
    return frame


def load_world(wh) -> None:
    """Fill an empty warehouse with the tag world, features as of AS_OF."""
    _frame(wh, "identity_map", [dict(kind="user_id", key=f"u{p[1]}", profile_id=p, is_shared=False) for p in PEOPLE])
    _frame(wh, "profiles", [dict(profile_id=p, n_identifiers=1, n_records=1) for p in PEOPLE])
    _frame(wh, "customers", [
        dict(record_id="r1", user_id="u1", gender="F", city="上海", birth_date=dt.date(1990, 1, 1),
             signed_up_at="2023-01-01"),
        dict(record_id="r2", user_id="u2", gender="M", city="北京", signed_up_at="2022-01-01"),
        dict(record_id="r3", user_id="u3", gender="F", city="成都", signed_up_at="2023-02-01"),
        dict(record_id="r5", user_id="u5", gender="F", city="上海", signed_up_at="2024-03-01"),
        dict(record_id="r6", user_id="u6", gender="M", signed_up_at="2024-06-10"),
    ])
    _frame(wh, "products", [dict(product_id="P1", category="美妆", brand="A"),
                            dict(product_id="P2", category="服饰", brand="B"),
                            dict(product_id="P3", category="运动", brand="C")])

    def order(oid, user, when, *products, is_return=False):
        head = dict(order_id=oid, user_id=user, ordered_at=when, status="returned" if is_return else "completed",
                    is_return=is_return, currency="CNY", amount=1.0, n_lines=len(products))
        lines = [dict(order_id=oid, line_no=i + 1, product_id=p, quantity=1.0, unit_price=1.0, amount=1.0,
                      is_return=is_return) for i, p in enumerate(products)]
        return head, lines

    orders = [order("o1", "u1", "2024-06-01", "P1", "P2"), order("o2", "u2", "2024-01-01", "P3"),
              order("o3", "u3", "2023-06-01", "P1"), order("o5", "u5", "2024-03-20", "P3", "P2"),
              order("o6", "u6", "2024-06-29", "P1"), order("o6r", "u6", "2024-06-29", "P2", is_return=True)]
    _frame(wh, "orders", [o for o, _ in orders])
    _frame(wh, "order_lines", [line for _, lines in orders for line in lines])
    _frame(wh, "scores", [dict(profile_id=p, score=s, value=v, model_id="m1", computed_at="2024-06-30",
                               reason=SCORE_REASONS.get((p, s))) for p, s, v in SCORES])
    wh.append("profile_features", feature_rows(FEATURES, AS_OF))
