"""File export per channel vendor: CSV and Excel, written atomically, one row per message."""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.activation import FileConnector, deliver, delivery_id_for
from jingzhun.errors import ConfigError
from tests.activation.conftest import duckdb_warehouse, hours, pid, plan

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def warehouse(tmp_path):
    """DuckDB only: the engine is not the subject here (test_consent runs deliver on both engines)."""
    yield from duckdb_warehouse(tmp_path)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_batch_becomes_one_file_with_a_row_per_message(warehouse, population, links, templates, tmp_path, fmt):
    population.add(4)
    population.consent([(i, "phone", "sms", "granted", hours(-1)) for i in (0, 1, 3)])
    out = tmp_path / "exports"
    offer = {"title": "春季特卖", "url": "https://shop.example/spring"}
    report = deliver(warehouse, plan([0, 1, 2, 3], channel="sms", template="spring_sms", offer=offer), links=links,
                     templates=templates, clock=lambda: hours(0).to_pydatetime(),
                     connectors={"sms": FileConnector(out, "callcentre", format=fmt, address_kind="phone")})
    files = sorted(out.iterdir())
    assert report["sent"] == 3 and report["suppressed_no_consent"] == 1
    assert len(files) == 1 and files[0].name.startswith("callcentre-c1-sms-") and files[0].suffix == f".{fmt}"
    got = pd.read_csv(files[0], encoding="utf-8-sig", dtype=str) if fmt == "csv" else pd.read_excel(files[0], dtype=str)
    assert list(got.columns) == ["delivery_id", "campaign_id", "profile_id", "arm", "channel", "scheduled_at",
                                 "subject", "text", "to"]
    assert sorted(got.profile_id) == [pid(0), pid(1), pid(3)]
    assert sorted(got.to) == ["+8613800000000", "+8613800000001", "+8613800000003"]
    assert all(t.startswith("春季特卖 https://t.shop.example/r/") and t.endswith("TD退订") for t in got.text)
    assert set(got.delivery_id) == {delivery_id_for("c1", "1", pid(i), "sms") for i in (0, 1, 3)}
    detail = warehouse.execute(warehouse.table("deliveries").filter(lambda d: d.status == "sent").detail)
    assert set(detail) == {f"exported to {files[0].name}"}


def test_csv_starts_with_a_byte_order_mark_for_excel(tmp_path, warehouse, population, links, templates):
    population.add(1)
    population.consent([(0, "phone", "sms", "granted", hours(-1))])
    deliver(warehouse, plan([0], channel="sms", template="spring_sms"), templates=templates, links=links,
            connectors={"sms": FileConnector(tmp_path / "out", "v")}, clock=lambda: hours(0).to_pydatetime())
    (path,) = (tmp_path / "out").iterdir()
    assert path.read_bytes().startswith(b"\xef\xbb\xbfdelivery_id,")


def test_an_unusable_folder_fails_the_batch_and_leaves_no_part_file(tmp_path, warehouse, population, links, templates):
    population.add(2)
    population.consent([(i, "phone", "sms", "granted", hours(-1)) for i in range(2)])
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    report = deliver(warehouse, plan([0, 1], channel="sms", template="spring_sms"), templates=templates, links=links,
                     connectors={"sms": FileConnector(blocker / "out", "v")}, clock=lambda: hours(0).to_pydatetime())
    assert report["failed"] == 2
    assert set(warehouse.execute(warehouse.table("deliveries").status)) == {"failed"}
    assert not list(tmp_path.rglob("*.part"))


def test_vendor_and_format_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="csv, xlsx"):
        FileConnector(tmp_path, "v", format="pdf")
    with pytest.raises(ConfigError, match="file names"):
        FileConnector(tmp_path, "../etc")


def test_a_write_that_fails_half_way_leaves_neither_the_file_nor_a_part(tmp_path, warehouse, population, links,
                                                                       templates):
    population.add(1)
    population.consent([(0, "phone", "sms", "granted", hours(-1))])
    out = tmp_path / "out"
    report = deliver(warehouse, plan([0], channel="sms", template="spring_sms"), templates=templates, links=links,
                     connectors={"sms": FileConnector(out, "v", encoding="ascii")},  # cannot hold 退订
                     clock=lambda: hours(0).to_pydatetime())
    assert report["failed"] == 1 and list(out.iterdir()) == []
    assert "codec can't encode" in warehouse.execute(warehouse.table("deliveries").detail)[0]
