import pandas as pd
import pytest

from jingzhun.errors import SchemaError, WarehouseError
from jingzhun.schema import SCHEMA_VERSION, TABLES, AddColumn, Column, Migration
from jingzhun.warehouse import Warehouse, open_warehouse


def _stores(*ids):
    return pd.DataFrame({"store_id": list(ids), "source": "t", "load_id": "l1", "quality_flags": "",
                         "latitude": [31.2 + i for i in range(len(ids))]})


def test_schema_is_created_with_every_table(warehouse):
    assert warehouse.version() == SCHEMA_VERSION
    for name, spec in TABLES.items():
        assert tuple(warehouse.table(name).columns) == spec.column_names


def test_append_conforms_and_transaction_commits(warehouse):
    with warehouse.transaction():
        warehouse.append("stores", _stores("a", "b"))
    got = warehouse.execute(warehouse.table("stores").order_by("store_id"))
    assert list(got.store_id) == ["a", "b"]
    assert got.name.isna().all()


def test_failed_transaction_writes_nothing(warehouse):
    warehouse.append("stores", _stores("a"))
    with pytest.raises(RuntimeError):
        with warehouse.transaction():
            warehouse.append("stores", _stores("b", "c"))
            raise RuntimeError("boom")
    assert warehouse.count("stores") == 1


def test_unknown_column_is_refused(warehouse):
    with pytest.raises(SchemaError, match="not in table"):
        warehouse.append("stores", _stores("a").assign(lattitude=1.0))


def test_delete_where_and_replace(warehouse):
    warehouse.append("stores", _stores("a", "b", "c"))
    warehouse.delete_where("stores", lambda t: t.store_id == "b")
    assert sorted(warehouse.execute(warehouse.table("stores").store_id)) == ["a", "c"]
    warehouse.replace("stores", _stores("z"))
    assert list(warehouse.execute(warehouse.table("stores").store_id)) == ["z"]


def test_add_column_migration_keeps_rows(warehouse):
    warehouse.append("stores", _stores("a", "b"))
    step = AddColumn("stores", Column("phone_area", "string", "test column"), default="021")
    warehouse.apply_migration(Migration(SCHEMA_VERSION + 1, "test", (step,)))
    got = warehouse.execute(warehouse.table("stores").order_by("store_id"))
    assert list(got.phone_area) == ["021", "021"] and list(got.store_id) == ["a", "b"]
    assert warehouse.version() == SCHEMA_VERSION + 1


def test_newer_warehouse_is_refused(tmp_path):
    wh = Warehouse.duckdb(tmp_path / "w.duckdb")
    wh.ensure_schema()
    wh.apply_migration(Migration(SCHEMA_VERSION + 5, "from the future", ()))
    with pytest.raises(SchemaError, match="newer"):
        wh.ensure_schema()


def test_open_by_url(tmp_path):
    wh = open_warehouse("duckdb:///data/w.duckdb", base_dir=tmp_path)
    wh.ensure_schema()
    wh.close()
    assert (tmp_path / "data" / "w.duckdb").exists()
    with pytest.raises(WarehouseError, match="unknown warehouse URL"):
        open_warehouse("postgres://x")


def test_missing_table_says_what_to_do(tmp_path):
    wh = Warehouse.duckdb(tmp_path / "empty.duckdb")
    with pytest.raises(SchemaError, match="jingzhun init"):
        wh.table("orders")
