"""Row rules on both engines: each rule fires where it must and nowhere else; the counts add up."""

import json
from datetime import datetime

import pandas as pd
import pytest

from jingzhun.errors import MappingError, SchemaError
from jingzhun.quality import QualityOptions, apply_rules
from jingzhun.quality.rules import RULES

from quality_batches import REF, customers_frame, events_frame, order_lines_frame, ts


def run(warehouse, table_name, frame, **options):
    staged = warehouse.stage(frame)
    out = apply_rules(warehouse, table_name, staged, options=QualityOptions(**options))
    rows = warehouse.execute(out.rows).sort_values("_row").reset_index(drop=True)
    quarantined = warehouse.execute(out.quarantined).sort_values("_row").reset_index(drop=True)
    counts = {c.rule: c for c in out.counts}
    assert len(rows) + len(quarantined) == len(frame)
    assert sum(c.quarantined for c in out.counts) == len(quarantined)
    assert set(rows._row) | set(quarantined._row) == set(frame._row)
    return rows, quarantined, counts


def _flags(rows, row):
    value = rows.loc[rows._row == row, "quality_flags"].iloc[0]
    return value.split(",") if value else []


def _none(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def test_order_lines(warehouse):
    rows, q, counts = run(warehouse, "order_lines", order_lines_frame(), max_unit_price=1e6)
    assert dict(zip(q._row, q.rule)) == {3: "duplicate_key", 6: "required", 7: "price_range", 11: "price_range"}
    assert q.set_index("_row").loc[6, "field"] == "order_id"
    assert q.set_index("_row").loc[3, "reason"] == "same key as lines.csv row 2 (order_id=A1, line_no=1)"
    assert _flags(rows, 2) == []
    assert _flags(rows, 4) == ["duplicate_exact"]            # same as row 2 but for line_no
    assert _flags(rows, 5) == ["return"]                     # negative quantity: a return
    assert rows.set_index("_row").loc[5, "is_return"]
    assert _flags(rows, 8) == ["inconsistent_return", "return", "zero_price"]
    assert _flags(rows, 10) == ["zero_quantity"]
    assert counts["required"].quarantined == 1 and counts["required"].checked == 10
    assert counts["price_range"].checked == 9 and counts["price_range"].quarantined == 2
    assert counts["return"].flagged == 3 and counts["duplicate_exact"].flagged == 2
    raw = json.loads(q.set_index("_row").loc[7, "raw"])
    assert raw["unit_price"] == "-2.0" and raw["order_id"] == "A3" and raw["is_return"] == "false"


def test_exact_duplicates_can_be_quarantined(warehouse):
    rows, q, counts = run(warehouse, "order_lines", order_lines_frame(), duplicates="quarantine")
    got = dict(zip(q._row, q.rule))
    assert got[3] == "duplicate_exact" and got[4] == "duplicate_exact" and got[9] == "duplicate_exact"
    assert q.set_index("_row").loc[4, "reason"] == "identical to lines.csv row 2"
    assert "duplicate_exact" not in ",".join(rows.quality_flags)
    assert counts["duplicate_exact"].quarantined == 3 and counts["duplicate_key"].quarantined == 0


def test_customers(warehouse):
    rows, q, counts = run(warehouse, "customers", customers_frame(), reference_time=REF)
    assert dict(zip(q._row, q.rule)) == {3: "timestamp_range", 4: "timestamp_range", 8: "duplicate_key",
                                         9: "required"}
    by_row = rows.set_index("_row")
    assert by_row.loc[2, "email"] == "li.wei@qq.com" and by_row.loc[2, "phone"] == "+8613800138000"
    assert by_row.loc[2, "name"] == "Li Wei" and _flags(rows, 2) == []
    assert by_row.loc[6, "record_id"] == "c5" and by_row.loc[6, "email"] == "wang@163.com"
    assert by_row.loc[6, "name"] == "Mary Ann"
    assert _none(by_row.loc[5, "latitude"]) is None and _flags(rows, 5) == ["coordinates_invalid"]
    assert _none(by_row.loc[5, "phone"]) == "+442079460958"
    assert counts["placeholder"].quarantined == 0 and counts["email_invalid"].flagged == 0   # row 4 is gone
    assert counts["timestamp_range"].quarantined == 2 and counts["required"].quarantined == 1
    q3 = q.set_index("_row").loc[3]
    assert q3.field == "signed_up_at" and q3.reason == "signed_up_at is before 1990-01-01"
    raw = json.loads(q3.raw)
    assert raw["email"] == "n***@none.com" and raw["phone"] == "000000****0000" and raw["name"] == "王**"
    assert raw["signed_up_at"] == "1985-05-05 00:00:00" and raw["record_id"] == "***"


def test_identifier_problems_are_flagged_not_quarantined(warehouse):
    frame = customers_frame().assign(signed_up_at=ts(*["2020-01-01"] * 8)).drop(columns=["latitude", "longitude"])
    frame = frame.iloc[:5]
    rows, q, counts = run(warehouse, "customers", frame)
    assert q.empty
    assert _flags(rows, 3) == ["placeholder"] and _none(rows.set_index("_row").loc[3, "email"]) is None
    assert _flags(rows, 4) == ["email_invalid", "phone_invalid"]
    assert counts["email_invalid"].checked == 4 and counts["email_invalid"].flagged == 1
    assert counts["phone_invalid"].flagged == 1 and counts["placeholder"].flagged == 1


def test_events_bots_and_time(warehouse):
    frame = events_frame()
    rows, q, counts = run(warehouse, "events", frame)
    users = dict(zip(frame._row, frame.user_id.fillna(frame.anonymous_id)))
    rejected = {users[r]: rule for r, rule in zip(q._row, q.rule)}
    assert rejected == {"late": "timestamp_range", "old": "timestamp_range", "calm": "duplicate_key"}
    bot_rows = {users[r] for r, f in zip(rows._row, rows.quality_flags) if "bot" in f.split(",")}
    assert bot_rows == {"rate-bot", "burst-bot"}
    assert counts["bot"].flagged == 52
    assert counts["bot"].checked == len(frame) - 3


def test_required_is_return_is_derived_not_quarantined(warehouse):
    frame = order_lines_frame().drop(columns=["is_return"]).iloc[:4]
    rows, q, _ = run(warehouse, "order_lines", frame)
    assert rows.is_return.tolist() == [False, False, True]


def test_rule_catalogue_is_consistent():
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert all(r.flag or r.quarantines for r in RULES)


def test_bad_options_and_inputs():
    with pytest.raises(MappingError):
        QualityOptions(duplicates="drop")
    with pytest.raises(MappingError):
        QualityOptions(reference_time=datetime(2024, 1, 1))
    import ibis
    with pytest.raises(SchemaError):
        apply_rules(None, "orders", ibis.memtable(pd.DataFrame({"order_id": ["a"]})))


@pytest.mark.parametrize("duplicates", ["flag", "quarantine"])
@pytest.mark.parametrize("table_name,frame", [("order_lines", order_lines_frame), ("customers", customers_frame),
                                              ("events", events_frame)])
def test_counts_add_up_for_every_combination(duplicates, table_name, frame):
    """DuckDB only, many combinations: rows kept + quarantined = staged, each row set aside once."""
    from jingzhun.warehouse import Warehouse

    with Warehouse.duckdb() as wh:
        df = frame()
        for drop in [None, *[c for c in df.columns if not c.startswith("_")][:4]]:
            part = df.drop(columns=[drop]) if drop else df
            rows, q, counts = run(wh, table_name, part, duplicates=duplicates, reference_time=REF)
            assert q._row.is_unique
            for c in counts.values():
                assert c.flagged <= c.checked and c.quarantined <= c.checked


def test_product_names_are_not_personal(warehouse):
    frame = pd.DataFrame({"product_id": ["P1", "P2"], "name": ["WHITE HANGING HEART", "mug"], "price": [-1.0, 2.0],
                          "_row": [2, 3], "_file": ["p.csv", "p.csv"]})
    rows, q, counts = run(warehouse, "products", frame)
    assert rows.name.tolist() == ["mug"]
    assert json.loads(q.raw.iloc[0])["name"] == "WHITE HANGING HEART" and q.rule.iloc[0] == "price_range"
