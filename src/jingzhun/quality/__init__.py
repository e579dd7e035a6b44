"""Quality: normalisation, row rules, quarantine with reasons, cross-table checks, the quality report."""

from jingzhun.quality.bots import flag_bots
from jingzhun.quality.normalise import (
    Normalised,
    normalise_column,
    normalise_email,
    normalise_id,
    normalise_identifiers,
    normalise_name,
    normalise_phone,
    normalise_value,
)
from jingzhun.quality.references import REFERENCE_CHECKS, check_references
from jingzhun.quality.report import FileReport, QualityReport
from jingzhun.quality.rules import FLAGS, RULES, QualityOptions, QualityOutcome, Rule, RuleCount, apply_rules

__all__ = [
    "apply_rules", "QualityOptions", "QualityOutcome", "RuleCount", "Rule", "RULES", "FLAGS",
    "FileReport", "QualityReport", "check_references", "REFERENCE_CHECKS", "flag_bots",
    "Normalised", "normalise_email", "normalise_phone", "normalise_name", "normalise_id", "normalise_value",
    "normalise_column", "normalise_identifiers",
]
