"""The quality report of a load: per file and table, the rows read, loaded, set aside, and every rule.

CONTRACT: pipeline.load builds one QualityReport per source load; the CLI prints ``render()`` for
people and ``to_json()`` with ``--json``; the loads ledger stores ``to_json()`` and ``from_dict``
reads it back.
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

    @property
    def balanced(self) -> bool:
        """The accounting invariant: every row read was loaded, quarantined or skipped."""
        return self.rows_read == self.rows_loaded + self.rows_quarantined + self.rows_skipped

    @classmethod
    def from_dict(cls, data: dict) -> "FileReport":
        rules = [RuleCount(**r) for r in data.get("rules", [])]
        return cls(**{**{k: v for k, v in data.items() if k != "rules"}, "rules": rules})


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

    @classmethod
    def from_dict(cls, data: dict) -> "QualityReport":
        return cls(
            source=data["source"], load_id=data["load_id"],
            files=[FileReport.from_dict(f) for f in data.get("files", [])],
            checks=[RuleCount(**c) for c in data.get("checks", [])],
        )

    @classmethod
    def from_json(cls, text: str) -> "QualityReport":
        return cls.from_dict(json.loads(text))

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    def render(self) -> str:
        """Plain text for people: per file the before/after counts, then a table of the rules."""
        lines = [f"source {self.source} (load {self.load_id})"]
        if not self.files:
            lines.append("  no files")
        for f in self.files:
            state = "  (already loaded: skipped)" if f.already_loaded else ""
            lines.append(f"  {f.file} -> {f.table_name}{state}")
            lines.append(f"    read {f.rows_read}, loaded {f.rows_loaded}, quarantined {f.rows_quarantined}, "
                         f"skipped {f.rows_skipped}")
            if f.rules:
                lines += ["    " + row for row in _table(f.rules)]
        if self.checks:
            lines.append("  cross-table checks")
            lines += ["    " + row for row in _table(self.checks, flagged="orphans")]
        return "\n".join(lines)


def _table(counts: list[RuleCount], *, flagged: str = "flagged") -> list[str]:
    header = ("rule", "checked", flagged, "quarantined", "what")
    body = [(c.rule, str(c.checked), str(c.flagged), str(c.quarantined), c.description) for c in counts]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(4)]
    out = []
    for row in [header, *body]:
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in (1, 2, 3)] + [row[4]]
        out.append("  ".join(cells).rstrip())
    return out
