"""Row rules over a staged batch (interface; the quality work fills in the rules).

CONTRACT (used by pipeline.load):

    apply_rules(warehouse, table_name, staged, *, settings, options) -> QualityOutcome

``staged`` has the canonical columns of ``table_name`` (raw, unhashed identifiers; optional personal
extras ``name`` and ``address``) plus ``_row`` (int64) and ``_file`` (string). The outcome's ``rows``
keep those columns, normalised, plus ``quality_flags``; ``quarantined`` has ``_row``, ``_file``,
``rule``, ``field``, ``reason`` and ``raw`` (the row as JSON text).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from jingzhun.config import QualitySettings

__all__ = ["QualityOptions", "RuleCount", "QualityOutcome", "apply_rules"]


@dataclass(frozen=True)
class QualityOptions:
    """Per-source choices a mapping can make."""

    duplicates: str = "flag"  # rows identical in every mapped column: "flag" (keep, flagged) or "quarantine"
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RuleCount:
    rule: str
    description: str
    checked: int
    flagged: int = 0      # kept, with the rule's flag in quality_flags (or a value nulled)
    quarantined: int = 0  # set aside with a reason


@dataclass(frozen=True)
class QualityOutcome:
    rows: ir.Table
    quarantined: ir.Table
    counts: tuple[RuleCount, ...]


def apply_rules(warehouse, table_name: str, staged: ir.Table, *, settings: QualitySettings = QualitySettings(),
                options: QualityOptions = QualityOptions()) -> QualityOutcome:
    """Placeholder until the rules land: passes every row, flags nothing."""
    rows = staged.mutate(quality_flags=ibis.literal(""))
    quarantined = staged.filter(ibis.literal(False)).select(
        "_row", "_file", rule=ibis.literal("", "string"), field=ibis.literal("", "string"),
        reason=ibis.literal("", "string"), raw=ibis.literal("", "string"),
    )
    return QualityOutcome(rows=rows, quarantined=quarantined, counts=())
