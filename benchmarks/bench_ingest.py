"""Ingest benchmark: reading the Online Retail CSV, ours vs the naive way, and a whole load.

    python benchmarks/bench_ingest.py          (needs the shared data sets; JINGZHUN_DATASETS)

Prints seconds per step and the ratio of pyarrow-first reading to Python's csv module.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import tempfile
import time
from pathlib import Path

from jingzhun.config import datasets_dir
from jingzhun.ingest import read_file
from jingzhun.pipeline import load_source
from jingzhun.warehouse import Warehouse

log = logging.getLogger("bench_ingest")


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = datasets_dir() / "online_retail" / "online_retail.csv.gz"
    if not path.exists():
        log.info("skipped: %s not found (set JINGZHUN_DATASETS)", path)
        return
    ours, raw = _timed(lambda: read_file(path))
    naive, rows = _timed(lambda: list(csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode()))))
    log.info("read %d rows: jingzhun %.2fs, csv module %.2fs (ratio %.1fx)", raw.rows_read, ours, naive,
             naive / ours)
    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse.duckdb(Path(tmp) / "w.duckdb")
        wh.ensure_schema()
        first, report = _timed(lambda: load_source(wh, "online_retail", secret="b" * 64))
        again, _ = _timed(lambda: load_source(wh, "online_retail", secret="b" * 64))
        wh.close()
    log.info("load online_retail (DuckDB): %.1fs; again (already loaded): %.2fs", first, again)
    log.info(report.render())


if __name__ == "__main__":
    main()
