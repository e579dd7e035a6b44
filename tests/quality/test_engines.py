"""The same batches give the same kept rows, quarantined rows and counts on DuckDB and PySpark."""

import uuid

import pandas as pd
import pytest

from jingzhun.quality import QualityOptions, apply_rules
from jingzhun.warehouse import Warehouse

from quality_batches import REF, customers_frame, events_frame, order_lines_frame


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    """Spark hands back naive UTC timestamps, DuckDB aware ones: the same instants, compared as naive UTC."""
    df = df.sort_values("_row").reset_index(drop=True)
    for col in df.columns:
        if isinstance(df[col].dtype, pd.DatetimeTZDtype):
            df[col] = df[col].dt.tz_convert("UTC").dt.tz_localize(None)
    return df.astype(object).where(df.notna(), None)


def _outcome(wh, table_name, frame, options):
    out = apply_rules(wh, table_name, wh.stage(frame), options=options)
    return _comparable(wh.execute(out.rows)), _comparable(wh.execute(out.quarantined)), out.counts


@pytest.mark.spark
@pytest.mark.parametrize("table_name,frame", [("order_lines", order_lines_frame), ("customers", customers_frame),
                                              ("events", events_frame)])
def test_duckdb_and_spark_agree(spark_session, tmp_path, table_name, frame):
    options = QualityOptions(duplicates="flag", reference_time=REF if table_name == "customers" else None)
    duck = Warehouse.duckdb(tmp_path / "w.duckdb")
    spark = Warehouse.spark(spark_session, database=f"t_{uuid.uuid4().hex[:10]}")
    try:
        a = _outcome(duck, table_name, frame(), options)
        b = _outcome(spark, table_name, frame(), options)
    finally:
        duck.close()
        spark.close()
    for left, right in zip(a[:2], b[:2]):
        pd.testing.assert_frame_equal(left, right, check_dtype=False)
    assert a[2] == b[2]
