"""Small staged batches shared by the quality tests (one per table, each exercising many rules)."""

from datetime import datetime, timezone

import pandas as pd

REF = datetime(2024, 6, 1, tzinfo=timezone.utc)


def ts(*values):
    return pd.to_datetime(list(values), utc=True, format="ISO8601")


def order_lines_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "order_id":   ["A1", "A1", "A1", "A2", None, "A3", "A4", "A4", "A5", "A6"],
        "line_no":    [1, 1, 2, 1, 1, 1, 1, 2, 1, 1],
        "product_id": ["P1", "P1", "P1", "P2", "P3", "P4", "P5", "P5", "P6", "P7"],
        "quantity":   [2.0, 2.0, 2.0, -1.0, 1.0, 1.0, 3.0, 3.0, 0.0, 1.0],
        "unit_price": [5.0, 5.0, 5.0, 3.0, 1.0, -2.0, 0.0, 0.0, 4.0, 9e6],
        "amount":     [10.0, 10.0, 10.0, -3.0, 1.0, -2.0, 0.0, 0.0, 0.0, 9e6],
        "is_return":  [False, False, False, None, False, False, True, True, False, False],
        "_row": list(range(2, 12)), "_file": ["lines.csv"] * 10,
    })


def customers_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "record_id": ["c1", "c2", "c3", "c4", " c5 ", "c6", "c6", "  "],
        "email": ["Li.Wei@QQ.com", "none@none.com", "bad-email", None, "wang@163.com.", "x@shop.cn", "y@shop.cn", "z@shop.cn"],
        "phone": ["138 0013 8000", "00000000000", "12345", "+44 20 7946 0958", None, None, None, None],
        "name": ["LI WEI", "王五", "Zhang San", None, "  mary  ann ", "A", "B", "C"],
        "latitude": [31.2, 95.0, 0.0, None, 39.9, None, None, None],
        "longitude": [121.5, 10.0, 0.0, 116.4, 116.4, None, None, None],
        "signed_up_at": ts("2020-01-01", "1985-05-05", "2024-06-03", "2024-06-01 12:00", None,
                            "2021-01-01", "2021-01-02", "2021-01-03"),
        "_row": list(range(2, 10)), "_file": ["crm.csv"] * 8,
    })


def events_frame() -> pd.DataFrame:
    base = pd.Timestamp("2024-05-01 10:00:00", tz="UTC")
    rows = []

    def add(uid, aid, offset_ms, message=None):
        rows.append({"message_id": message or f"m{len(rows)}", "type": "track", "event": "Clicked",
                     "user_id": uid, "anonymous_id": aid, "timestamp": base + pd.Timedelta(milliseconds=offset_ms)})

    for i in range(40):                 # rate bot: 40 events in 20 s, 0.5 s apart
        add("rate-bot", None, i * 500)
    for i in range(12):                 # burst bot: 12 clicks 50 ms apart, then quiet
        add(None, "burst-bot", 100_000 + i * 50)
    for i in range(25):                 # a fast person: 25 events 2 s apart ...
        add("human", "h-anon", i * 2_000)
    add("human", "h-anon", 60_200)      # ... and a double click
    for i in range(3):                  # a person whose 3 events are fine
        add("calm", None, i * 20_000)
    add("calm", None, 30_000, message="m0")                               # duplicate message id
    add("late", None, 0)
    rows[-1]["timestamp"] = pd.Timestamp("2024-05-05", tz="UTC")          # > 1 day after received
    add("old", None, 0)
    rows[-1]["timestamp"] = pd.Timestamp("1989-12-31", tz="UTC")
    df = pd.DataFrame(rows)
    df["received_at"] = pd.Timestamp("2024-05-01 12:00", tz="UTC")
    df["_row"] = range(1, len(df) + 1)
    df["_file"] = "events.jsonl"
    return df
