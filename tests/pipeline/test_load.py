"""Loads on both engines with small generated files: accounting, idempotency, atomicity, bad input."""

import os

import pandas as pd
import pytest

from jingzhun.config import Settings
from jingzhun.errors import InputError
from jingzhun.ingest import SourceSpec
from jingzhun.pipeline import load_source
from jingzhun.privacy import key_for
from jingzhun.schema import TABLES

SECRET = "s" * 64
LINES = ("Invoice,Sku,Qty,Price,When,Customer\n"
         "A1,P1,2,1.50,2024-01-02 10:00:00,c1\n"
         "A1,P2,1,4.00,2024-01-02 10:00:00,c1\n"
         "A2,P1,3,1.50,2024-01-03 11:00:00,c2\n"
         "CA1,P1,-2,1.50,2024-01-04 09:00:00,c1\n")


def lines_entry(path="lines.csv", **extra):
    return {"path": path, "table": "order_lines", "line_no": "auto", "returns": {"order_id_prefix": "C"},
            "required": ["Invoice", "Sku", "Qty", "Price", "When"],
            "columns": {"order_id": "Invoice", "product_id": "Sku", "quantity": "Qty", "unit_price": "Price"},
            "orders": {"columns": {"user_id": "Customer", "ordered_at": "When"}}, **extra}


def source(tmp_path, *entries, name="shop"):
    return SourceSpec.parse({"source": name, "timezone": "Asia/Shanghai", "currency": "CNY", "files": list(entries)},
                            base_dir=tmp_path)


def counts(wh):
    return {name: wh.count(name) for name, t in TABLES.items() if t.kind in ("source", "system")}


def assert_accounted(report):
    for f in report.files:
        assert f.rows_read == f.rows_loaded + f.rows_quarantined + f.rows_skipped, f


def test_load_maps_derives_and_pseudonymises(warehouse, tmp_path):
    (tmp_path / "lines.csv").write_text(LINES, encoding="utf-8")
    report = load_source(warehouse, source(tmp_path, lines_entry()), secret=SECRET, settings=Settings())
    assert_accounted(report)
    assert [(f.table_name, f.rows_loaded) for f in report.files] == [("order_lines", 4), ("orders", 3)]
    lines = warehouse.execute(warehouse.table("order_lines").order_by(["order_id", "line_no"]))
    assert list(lines.line_no) == [1, 2, 1, 1]
    assert list(lines.amount) == [3.0, 4.0, 4.5, -3.0] and list(lines.is_return) == [False, False, False, True]
    orders = warehouse.execute(warehouse.table("orders").order_by("order_id")).set_index("order_id")
    assert orders.loc["A1", "amount"] == 7.0 and orders.loc["A1", "n_lines"] == 2
    assert orders.loc["CA1", "status"] == "cancelled" and bool(orders.loc["CA1", "is_return"])
    assert orders.loc["A1", "user_id"] == key_for("user_id", "c1", SECRET)  # never the raw id
    ordered_at = pd.Timestamp(orders.loc["A1", "ordered_at"])  # Spark hands back naive UTC values
    ordered_at = ordered_at.tz_localize("UTC") if ordered_at.tz is None else ordered_at
    assert ordered_at == pd.Timestamp("2024-01-02 02:00:00", tz="UTC")  # Shanghai 10:00 -> UTC
    assert orders.loc["A1", "currency"] == "CNY"
    vault = warehouse.execute(warehouse.table("pii_vault"))
    assert sorted(vault.value) == ["c1", "c2"]
    loads = warehouse.execute(warehouse.table("loads"))
    assert sorted(loads.table_name) == ["order_lines", "orders"] and set(loads.rows_read) == {3, 4}


def test_same_file_twice_adds_nothing(warehouse, tmp_path):
    (tmp_path / "lines.csv").write_text(LINES, encoding="utf-8")
    spec = source(tmp_path, lines_entry())
    load_source(warehouse, spec, secret=SECRET)
    before = counts(warehouse)
    again = load_source(warehouse, spec, secret=SECRET)
    assert counts(warehouse) == before
    assert all(f.already_loaded and f.rows_loaded == 0 for f in again.files)
    assert_accounted(again)
    # the same rows under a new file name: not already loaded, but every row is skipped by its key
    (tmp_path / "copy.csv").write_text(LINES + "A3,P9,1,2.00,2024-01-05 10:00:00,c3\n", encoding="utf-8")
    third = load_source(warehouse, source(tmp_path, lines_entry("copy.csv")), secret=SECRET)
    assert [(f.rows_loaded, f.rows_skipped) for f in third.files] == [(1, 4), (1, 3)]
    assert_accounted(third)


def test_a_failing_file_leaves_nothing_from_the_others(warehouse, tmp_path):
    (tmp_path / "lines.csv").write_text(LINES, encoding="utf-8")
    (tmp_path / "stores.csv").write_text("code,city\nS1,上海\n", encoding="utf-8")
    stores = {"path": "stores.csv", "table": "stores", "required": ["code", "lat"],
              "columns": {"store_id": "code", "city": "city"}}
    before = counts(warehouse)
    with pytest.raises(InputError, match="required column 'lat'"):
        load_source(warehouse, source(tmp_path, lines_entry(), stores), secret=SECRET)
    assert counts(warehouse) == before


def test_a_wrong_type_quarantines_exactly_that_row(warehouse, tmp_path):
    text = LINES.replace("A2,P1,3,1.50", "A2,P1,abc,1.50")
    (tmp_path / "lines.csv").write_text(text, encoding="utf-8")
    report = load_source(warehouse, source(tmp_path, lines_entry()), secret=SECRET)
    assert_accounted(report)
    lines = report.files[0]
    assert (lines.rows_read, lines.rows_loaded, lines.rows_quarantined) == (4, 3, 1)
    q = warehouse.execute(warehouse.table("quarantine"))
    assert len(q) == 1
    row = q.iloc[0]
    assert (row.row_number, row.field, row.rule, row.table_name) == (4, "Qty", "type", "order_lines")
    assert row.reason == "cannot read 'abc' as float64"
    assert '"Customer": "***"' in row.raw  # personal values are masked in quarantine
    assert warehouse.count("orders") == 2  # A2 had one line, and it was set aside


def test_auto_detected_gbk_loads_chinese_intact(warehouse, tmp_path):
    (tmp_path / "stores.csv").write_bytes("code,name,city\nS1,静安店,上海\nS2,朝阳店,北京\n".encode("gbk"))
    spec = source(tmp_path, {"path": "stores.csv", "table": "stores",
                             "columns": {"store_id": "code", "name": "name", "city": "city"}})
    load_source(warehouse, spec, secret=SECRET)
    got = warehouse.execute(warehouse.table("stores").order_by("store_id"))
    assert list(got.city) == ["上海", "北京"] and list(got.name) == ["静安店", "朝阳店"]
    assert warehouse.count("pii_vault") == 0  # a store's name is not personal data


BAD_FILES = {
    "missing_column": (b"Invoice,Sku,Qty,Price,Customer\nA1,P1,2,1.5,c1\n", "required column 'When'"),
    "truncated": (LINES.encode() + b"A9,P1,1,2.0,2024-", "truncated"),
    "wrong_encoding": (LINES.replace("c2", "顾客").encode("gbk"), "not UTF-8 as declared"),
    "empty": (b"", "empty"),
    "random_bytes": (None, "binary"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_input_is_a_clear_error_and_writes_nothing(warehouse, tmp_path, case):
    (tmp_path / "good.csv").write_text(LINES, encoding="utf-8")
    load_source(warehouse, source(tmp_path, lines_entry("good.csv"), name="earlier"), secret=SECRET)
    data, message = BAD_FILES[case]
    (tmp_path / "bad.csv").write_bytes(os.urandom(4 << 20) if data is None else data)
    before = counts(warehouse)
    encoding = "utf-8" if case == "wrong_encoding" else "auto"
    with pytest.raises(InputError, match=message) as err:
        load_source(warehouse, source(tmp_path, lines_entry("bad.csv", encoding=encoding)), secret=SECRET)
    assert err.value.file.endswith("bad.csv")
    assert counts(warehouse) == before


def test_parquet_jsonl_and_excel_sources(warehouse, tmp_path):
    import json

    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"code": ["S1"], "city": ["上海"], "lat": [31.23], "lng": [121.47]}), tmp_path / "a.parquet")
    (tmp_path / "b.jsonl").write_text(json.dumps({"code": "S2", "city": "北京", "lat": 39.9, "lng": 116.4},
                                                 ensure_ascii=False) + "\n", encoding="utf-8")
    book = openpyxl.Workbook()
    book.active.append(["code", "city", "lat", "lng"])
    book.active.append(["S3", "广州", 23.13, 113.26])
    book.save(tmp_path / "c.xlsx")
    entries = [{"path": p, "table": "stores", "columns": {"store_id": "code", "city": "city", "latitude": "lat", "longitude": "lng"}}
               for p in ("a.parquet", "b.jsonl", "c.xlsx")]
    report = load_source(warehouse, source(tmp_path, *entries), secret=SECRET)
    assert_accounted(report)
    got = warehouse.execute(warehouse.table("stores").order_by("store_id"))
    assert list(got.city) == ["上海", "北京", "广州"] and list(got.latitude) == [31.23, 39.9, 23.13]


def test_lookups_join_related_files(warehouse, tmp_path):
    (tmp_path / "customers.csv").write_text("id,person,zip\nk1,u1,100\nk2,u1,200\nk3,u2,999\n", encoding="utf-8")
    (tmp_path / "geo.csv").write_text("zip,lat,lng\n100,1.0,9\n100,3.0,9\n200,5.0,8\n", encoding="utf-8")
    spec = source(tmp_path,
                  {"path": "geo.csv", "name": "geo", "table": None},
                  {"path": "customers.csv", "table": "customers",
                   "columns": {"record_id": "id", "user_id": "person", "crm_id": "id",
                               "latitude": {"lookup": "geo", "on": {"zip": "zip"}, "take": "lat", "agg": "mean"},
                               "longitude": {"lookup": "geo", "on": {"zip": "zip"}, "take": "lng"}}})
    report = load_source(warehouse, spec, secret=SECRET)
    assert_accounted(report)
    assert [f.table_name for f in report.files] == ["customers", "lookup:geo"]
    got = warehouse.execute(warehouse.table("customers").order_by("crm_id"))
    assert sorted(got.latitude.fillna(-1).tolist()) == [-1, 2.0, 5.0]
