"""Recording pipeline runs: what ran, on which data, how long, how many rows.

Every number in a report can be traced to the run that made it: ``runs`` holds one row per step, with
the data version (a fingerprint of the loads ledger at that moment) that the step read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd

from jingzhun.warehouse import Warehouse

__all__ = ["StepRecord", "new_run_id", "data_version", "record_step"]

log = logging.getLogger(__name__)


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


def data_version(warehouse: Warehouse) -> str:
    """A fingerprint of every load so far: equal versions mean a step saw exactly the same data."""
    loads = warehouse.table("loads")
    fps = warehouse.execute(loads.select("fingerprint", "table_name").distinct())
    text = "\n".join(sorted(f"{a}:{b}" for a, b in zip(fps.fingerprint, fps.table_name)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class StepRecord:
    """Filled in by the step while it runs; written to ``runs`` when it ends."""

    run_id: str
    step: str
    rows_in: int | None = None
    rows_out: int | None = None
    detail: dict = field(default_factory=dict)
    status: str = "ok"
    seconds: float = 0.0


@contextlib.contextmanager
def record_step(warehouse: Warehouse, run_id: str, step: str) -> Iterator[StepRecord]:
    """Time a step and record it in ``runs``, as failed (with the error) if it raises."""
    record = StepRecord(run_id=run_id, step=step)
    version = data_version(warehouse)
    started = pd.Timestamp.now(tz="UTC")
    t0 = time.perf_counter()
    try:
        yield record
    except BaseException as exc:
        record.status = "failed"
        record.detail = {**record.detail, "error": f"{type(exc).__name__}: {exc}"}
        raise
    finally:
        record.seconds = time.perf_counter() - t0
        row = pd.DataFrame({
            "run_id": [run_id], "step": [step], "status": [record.status],
            "started_at": [started], "finished_at": [pd.Timestamp.now(tz="UTC")],
            "data_version": [version], "rows_in": [record.rows_in], "rows_out": [record.rows_out],
            "detail": [json.dumps({**record.detail, "seconds": round(record.seconds, 3)}, default=str)],
        })
        try:
            warehouse.append("runs", row)
        except Exception:  # recording must never hide the step's own error
            log.exception("could not record run %s step %s", run_id, step)
        log.info("run %s step %s %s in %.1fs", run_id, step, record.status, record.seconds)
