"""Reading back what loads did: their quality reports, from the `loads` ledger."""

from __future__ import annotations

import json

import ibis

from jingzhun.quality import QualityReport
from jingzhun.warehouse import Warehouse

__all__ = ["load_reports"]


def load_reports(warehouse: Warehouse, *, load_id: str | None = None) -> list[QualityReport]:
    """The report of ``load_id``, or of the latest load of every source, oldest first.

    Each load stores its whole report (all files) as JSON on each of its ledger rows.
    """
    loads = warehouse.table("loads")
    if load_id is not None:
        chosen = loads.filter(loads.load_id == load_id)
    else:
        latest = loads.group_by("source").agg(finished_at=loads.finished_at.max())
        chosen = loads.semi_join(latest, ["source", "finished_at"])
    rows = warehouse.execute(
        chosen.group_by("load_id").agg(report=chosen.report.max(), at=chosen.finished_at.max()).order_by("at")
    )
    return [QualityReport.from_dict(json.loads(text)) for text in rows.report if text]
