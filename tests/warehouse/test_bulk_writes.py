"""Deleting by a staged key set, replacing a table from itself, and unordered bulk writes."""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.warehouse.warehouse import _delete_sql


def _stores(*ids: str) -> pd.DataFrame:
    return pd.DataFrame({"source": "s", "store_id": list(ids), "load_id": "l1", "quality_flags": ""})


def _ids(warehouse) -> list[str]:
    return sorted(warehouse.execute(warehouse.table("stores").store_id))


def test_delete_by_staged_keys_lands_with_its_transaction(warehouse):
    warehouse.append("stores", _stores("a", "b", "c", "d"))
    gone = warehouse.stage(pd.DataFrame({"store_id": ["b", "d", "x"]}))
    with pytest.raises(RuntimeError), warehouse.transaction():
        warehouse.delete_where("stores", lambda t: t.store_id.isin(gone.store_id))
        raise RuntimeError("abandon")
    assert _ids(warehouse) == ["a", "b", "c", "d"]
    with warehouse.transaction():
        warehouse.delete_where("stores", lambda t: t.store_id.isin(gone.store_id) | (t.store_id == "a"))
    assert _ids(warehouse) == ["c"]


def test_replace_from_the_table_itself(warehouse):
    warehouse.append("stores", _stores("a", "b"))
    t = warehouse.table("stores")
    with warehouse.transaction():
        warehouse.replace("stores", t.mutate(store_id=t.store_id + "2"))
    assert _ids(warehouse) == ["a2", "b2"]


def test_duckdb_deletes_in_place(tmp_path):
    from jingzhun.warehouse import Warehouse

    with Warehouse.duckdb(tmp_path / "w.duckdb") as wh:
        wh.ensure_schema()
        keys = wh.stage(pd.DataFrame({"store_id": ["b"]}))
        t = wh.table("stores")
        sql = _delete_sql(wh.con, t, t.store_id.isin(keys.store_id))
        assert sql.startswith('DELETE FROM "stores"') and "IN (SELECT" in sql


def test_unordered_writes_restore_the_setting(tmp_path):
    from jingzhun.warehouse import Warehouse

    with Warehouse.duckdb(tmp_path / "w.duckdb") as wh:
        setting = "SELECT current_setting('preserve_insertion_order')"
        with pytest.raises(RuntimeError), wh.unordered_writes():
            assert wh.con.raw_sql(setting).fetchone()[0] is False
            raise RuntimeError("fail inside")
        assert wh.con.raw_sql(setting).fetchone()[0] is True
