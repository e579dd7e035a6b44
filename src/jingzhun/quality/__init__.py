"""Quality: normalisation, row rules, quarantine with reasons, the quality report."""

from jingzhun.quality.report import FileReport, QualityReport
from jingzhun.quality.rules import QualityOptions, QualityOutcome, RuleCount, apply_rules

__all__ = ["apply_rules", "QualityOptions", "QualityOutcome", "RuleCount", "FileReport", "QualityReport"]
