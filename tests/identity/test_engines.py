"""The same world resolved on DuckDB and on PySpark gives identical tables."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from jingzhun.identity import resolve
from jingzhun.identity.synthetic import generate_world
from jingzhun.warehouse import Warehouse


def _tables(wh: Warehouse) -> dict[str, pd.DataFrame]:
    out = {}
    for name in ("identity_map", "identity_edges", "profiles"):
        frame = wh.execute(wh.table(name))
        for col in frame.columns:  # PySpark returns UTC timestamps without their zone
            if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                frame[col] = frame[col].dt.tz_convert("UTC").dt.tz_localize(None)
        out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


@pytest.mark.spark
def test_identical_results_on_duckdb_and_pyspark(spark_session, tmp_path):
    world = generate_world(300, seed=3)
    duck = Warehouse.duckdb(tmp_path / "w.duckdb")
    spark = Warehouse.spark(spark_session, database=f"t_{uuid.uuid4().hex[:10]}")
    results = []
    try:
        for wh in (duck, spark):
            wh.ensure_schema()
            world.load(wh)
            results.append(resolve(wh))
            # a second build with one more record: stability must not depend on the engine either
            wh.append("customers", world.customers.iloc[:1].assign(record_id="again", source="late"))
            results.append(resolve(wh))
        got_duck, got_spark = _tables(duck), _tables(spark)
    finally:
        duck.close()
        spark.close()
    for name in got_duck:
        pd.testing.assert_frame_equal(got_duck[name], got_spark[name], check_dtype=False, obj=name)
    strip = lambda r: {k: v for k, v in r.to_dict().items() if k != "seconds"}  # noqa: E731
    assert strip(results[0]) == strip(results[2]) and strip(results[1]) == strip(results[3])
