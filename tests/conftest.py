"""Shared fixtures.

``warehouse`` runs a test on DuckDB and, under the ``spark`` marker, on PySpark: the same table logic
must give the same answer on both. Tests that need the real data sets use ``datasets`` and skip with a
reason when the folder is absent.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest

from jingzhun.config import datasets_dir
from jingzhun.warehouse import Warehouse

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _java_available() -> bool:
    return shutil.which("java") is not None


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    if not _java_available():
        pytest.skip("Spark tests need Java 17 (apt-get install openjdk-17-jre-headless)")
    pytest.importorskip("pyspark", reason="Spark tests need the spark extra: pip install -e '.[spark]'")
    from jingzhun.warehouse.spark import local_spark_session

    session = local_spark_session(tmp_path_factory.mktemp("spark-warehouse"))
    yield session
    session.stop()


@pytest.fixture(params=["duckdb", pytest.param("pyspark", marks=pytest.mark.spark)])
def engine(request) -> str:
    return request.param


@pytest.fixture
def warehouse(engine, request, tmp_path):
    """An empty warehouse with the canonical data model, on each engine."""
    if engine == "duckdb":
        wh = Warehouse.duckdb(tmp_path / "warehouse.duckdb")
    else:
        session = request.getfixturevalue("spark_session")
        wh = Warehouse.spark(session, database=f"t_{uuid.uuid4().hex[:10]}")
    wh.ensure_schema()
    yield wh
    wh.close()


@pytest.fixture(scope="session")
def datasets() -> Path:
    path = datasets_dir()
    if not path.is_dir():
        pytest.skip(f"real data sets not found at {path} (set JINGZHUN_DATASETS to their folder)")
    return path
