"""The shipped mappings on the real data sets (../shared/datasets), DuckDB."""

import json

import pandas as pd
import pytest

from jingzhun.pipeline import load_source
from jingzhun.schema import TABLES
from jingzhun.warehouse import Warehouse

SECRET = "r" * 64


@pytest.fixture
def duck(tmp_path):
    wh = Warehouse.duckdb(tmp_path / "w.duckdb")
    wh.ensure_schema()
    yield wh
    wh.close()


def _counts(wh):
    return {n: wh.count(n) for n, t in TABLES.items() if t.kind in ("source", "system")}


def _accounted(report):
    for f in report.files:
        assert f.rows_read == f.rows_loaded + f.rows_quarantined + f.rows_skipped, f


@pytest.mark.slow
def test_online_retail_figures(duck, datasets):
    report = load_source(duck, "online_retail", secret=SECRET)
    _accounted(report)
    lines_report = next(f for f in report.files if f.table_name == "order_lines")
    assert lines_report.rows_read == 541_909
    # quality sets aside the two "Adjust bad debt" lines (negative price, no customer): price_range
    assert (lines_report.rows_loaded, lines_report.rows_quarantined) == (541_907, 2)
    quarantine = duck.con.table("quarantine")
    set_aside = quarantine.filter(quarantine.table_name == "order_lines").execute()
    assert list(set_aside.rule) == ["price_range"] * 2
    assert all("A56318" in r for r in set_aside.raw)  # invoices A563186 and A563187, which have no customer
    con = duck.con
    lines = con.table("order_lines")
    orders = con.table("orders").select("order_id", "user_id")
    joined = lines.join(orders, "order_id")
    assert joined.count().execute() == 541_907
    assert lines.filter(lines.order_id.startswith("C")).count().execute() == 9_288
    # the 135,080 customerless lines: loaded ones plus the two set aside, checked against the CSV
    raw = pd.read_csv(datasets / "online_retail" / "online_retail.csv.gz", dtype=str,
                      usecols=["InvoiceNo", "CustomerID"], encoding="latin-1")
    set_aside_ids = {json.loads(r)["order_id"] for r in set_aside.raw}
    assert raw[raw.InvoiceNo.isin(set_aside_ids)].CustomerID.isna().all()
    assert joined.filter(joined.user_id.isnull()).count().execute() + len(set_aside) == 135_080
    flagged = lines.filter(lines.quality_flags.contains("duplicate_exact")).count().execute()
    assert flagged > 0  # exact duplicate lines are kept and flagged
    kept = joined.filter(joined.user_id.notnull() & ~joined.order_id.startswith("C"))
    assert kept.count().execute() == 397_924
    assert kept.user_id.nunique().execute() == 4_339
    positive = kept.filter((kept.quantity > 0) & (kept.unit_price > 0))
    assert positive.count().execute() == 397_884
    assert positive.user_id.nunique().execute() == 4_338
    assert round(float(positive.amount.sum().execute()), 2) == 8_911_407.90
    assert duck.count("orders") == 25_900 and duck.count("products") == 4_070

    before = _counts(duck)
    again = load_source(duck, "online_retail", secret=SECRET)
    assert _counts(duck) == before
    assert all(f.already_loaded for f in again.files)
    _accounted(again)


def test_olist_sample(duck, datasets):
    report = load_source(duck, "olist", secret=SECRET)
    _accounted(report)
    tables = {f.table_name for f in report.files}
    assert tables == {"order_lines", "orders", "customers", "products", "stores", "reviews", "lookup:geolocation",
                      "lookup:category_translation", "lookup:payments"}
    assert len(report.files) == 9  # every file is read and reported
    con = duck.con
    orders, customers = con.table("orders"), con.table("customers")
    assert orders.count().execute() == 3_000 and customers.count().execute() == 3_000
    linked = orders.join(customers, orders.crm_id == customers.crm_id)
    assert linked.count().execute() == 3_000  # every order finds its customer record
    located = customers.filter(customers.latitude.notnull()).count().execute()
    assert located > 0.99 * 3_000  # through the geolocation lookup on the zip prefix
    reviews = con.table("reviews")
    assert reviews.count().execute() == 2_993  # every review row, including reviews of several orders
    assert reviews.filter(reviews.user_id.notnull()).count().execute() == 2_993
    by_person = reviews.join(customers, reviews.crm_id == customers.crm_id)
    assert by_person.filter(by_person.user_id == by_person.user_id_right).count().execute() == 2_993
    products = con.table("products")
    assert products.filter(products.category.notnull()).count().execute() > 2_300
    lines = con.table("order_lines")
    orphans = lines.anti_join(orders, "order_id").count().execute()
    checks = {c.rule: c for c in report.checks}
    assert checks["orphan_order_lines"].flagged == orphans == 0
    assert checks["orphan_order_customers"].flagged == 0 and checks["orphan_order_customers"].checked == 3_000


def test_cdnow_master(duck, datasets):
    report = load_source(duck, "cdnow", secret=SECRET)
    _accounted(report)
    orders = duck.con.table("orders")
    assert orders.count().execute() == 69_659
    assert orders.user_id.nunique().execute() == 23_570
    assert duck.count("order_lines") == 69_659
    assert round(float(orders.amount.sum().execute()), 2) == round(
        float(duck.con.table("order_lines").amount.sum().execute()), 2)
