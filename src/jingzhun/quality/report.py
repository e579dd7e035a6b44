"""The quality report of a load (interface; the quality work fills in rendering).

CONTRACT: pipeline.load builds one QualityReport per source load; the CLI prints ``render()`` for
people and ``to_json()`` with ``--json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from jingzhun.quality.rules import RuleCount

__all__ = ["FileReport", "QualityReport"]


@dataclass
class FileReport:
    file: str
    table_name: str
    rows_read: int
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0  # already present by natural key, or the whole file already loaded
    already_loaded: bool = False
    rules: list[RuleCount] = field(default_factory=list)


@dataclass
class QualityReport:
    source: str
    load_id: str
    files: list[FileReport] = field(default_factory=list)
    checks: list[RuleCount] = field(default_factory=list)  # cross-table checks (orphans, ...)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str)

    def render(self) -> str:
        lines = [f"source {self.source} (load {self.load_id})"]
        for f in self.files:
            lines.append(f"  {f.file} -> {f.table_name}: read {f.rows_read}, loaded {f.rows_loaded}, "
                         f"quarantined {f.rows_quarantined}, skipped {f.rows_skipped}")
        return "\n".join(lines)
