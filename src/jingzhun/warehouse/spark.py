"""A local PySpark session configured the way jingzhun needs it (UTC, quiet, warehouse inside the project)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from jingzhun.errors import WarehouseError

__all__ = ["local_spark_session"]

log = logging.getLogger(__name__)


def local_spark_session(warehouse_dir: str | os.PathLike, *, cores: int = 2, memory: str = "4g"):
    """Start (or reuse) a local Spark session whose tables live under ``warehouse_dir``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise WarehouseError(
            "the Spark engine needs PySpark: pip install 'jingzhun[spark]' (and Java 17: apt-get install openjdk-17-jre-headless)"
        ) from exc
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    warehouse_dir = Path(warehouse_dir).resolve()
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("jingzhun")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .config("spark.driver.memory", memory)
        .config("spark.sql.warehouse.dir", str(warehouse_dir))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse_dir}")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    log.info("Spark %s session with warehouse %s", session.version, warehouse_dir)
    return session
