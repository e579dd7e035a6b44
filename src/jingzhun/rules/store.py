"""The ``rules`` table: writing a level's latest mining, and reading rules back through filters.

Sides are stored as JSON arrays of the items, sorted, so a rule has one spelling. A new mining of a
level replaces that level's rules in one transaction; the other level's rules stay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from jingzhun.errors import ConfigError
from jingzhun.rules.baskets import LEVELS
from jingzhun.rules.mining import MiningResult, sort_rules
from jingzhun.warehouse import Warehouse

__all__ = ["RuleQuery", "SORT_KEYS", "side_json", "rules_frame", "write_rules", "read_rules"]

SORT_KEYS = ("lift", "confidence", "support", "leverage", "conviction")


def side_json(items) -> str:
    """A rule side as stored: a JSON array of the items, sorted (non-ASCII kept readable)."""
    return json.dumps(sorted(str(i) for i in items), ensure_ascii=False)


def rules_frame(result: MiningResult, mined_at=None) -> pd.DataFrame:
    """The rows of ``rules`` for a mining result."""
    mined_at = pd.Timestamp.now(tz="UTC") if mined_at is None else pd.Timestamp(mined_at)
    r = result.rules
    return pd.DataFrame({
        "antecedent": [side_json(a) for a in r["antecedent"]],
        "consequent": [side_json(c) for c in r["consequent"]],
        "level": result.level,
        **{m: r[m].astype("float64") for m in ("support", "confidence", "lift", "leverage", "conviction",
                                               "antecedent_support", "consequent_support")},
        "n_baskets": result.n_baskets,
        "mined_at": mined_at,
    })


def write_rules(warehouse: Warehouse, result: MiningResult, *, mined_at=None) -> int:
    """Replace the level's rules with ``result``'s, all at once; returns the number written."""
    frame = rules_frame(result, mined_at)
    with warehouse.transaction():
        warehouse.delete_where("rules", lambda t: t.level == result.level)
        if len(frame):
            warehouse.append("rules", frame)
    return len(frame)


@dataclass(frozen=True)
class RuleQuery:
    """Which stored rules to read: level, thresholds, items, length, order and how many.

    ``items``: rules with at least one of these items on either side; ``antecedent`` / ``consequent``:
    rules with all of these on that side; ``max_len``: items of the whole rule.
    """

    level: str | None = None
    min_support: float = 0.0
    min_confidence: float = 0.0
    min_lift: float = 0.0
    items: tuple[str, ...] = ()
    antecedent: tuple[str, ...] = ()
    consequent: tuple[str, ...] = ()
    max_len: int | None = None
    sort: str = "lift"
    top: int | None = None

    def __post_init__(self) -> None:
        for name in ("items", "antecedent", "consequent"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.level is not None and self.level not in LEVELS:
            raise ConfigError(f"unknown rules level {self.level!r}: use one of {', '.join(LEVELS)}")
        if self.sort not in SORT_KEYS:
            raise ConfigError(f"rules sort by one of {', '.join(SORT_KEYS)}, not {self.sort!r}")

    def apply(self, rules: pd.DataFrame) -> pd.DataFrame:
        """The rules of a frame (sides as tuples) that pass this query, best first."""
        keep = (rules.support >= self.min_support) & (rules.confidence >= self.min_confidence) & \
            (rules.lift >= self.min_lift)
        if self.level is not None and "level" in rules:
            keep &= rules.level == self.level
        sides = list(zip(rules.antecedent, rules.consequent))

        def each(test) -> np.ndarray:
            return np.array([test(set(a), set(c)) for a, c in sides], dtype=bool)

        wanted = set(self.items)
        if wanted:
            keep &= each(lambda a, c: bool(wanted & (a | c)))
        if self.antecedent:
            keep &= each(lambda a, c: set(self.antecedent) <= a)
        if self.consequent:
            keep &= each(lambda a, c: set(self.consequent) <= c)
        if self.max_len is not None:
            keep &= each(lambda a, c: len(a) + len(c) <= self.max_len)
        out = sort_rules(rules[keep], by=self.sort)
        return out if self.top is None else out.head(self.top)


def read_rules(warehouse: Warehouse, query: RuleQuery | None = None) -> pd.DataFrame:
    """Stored rules passing ``query`` (sides as tuples), best first.

    Thresholds and level are applied in the engine; item and length filters on the few rows left.
    """
    query = query or RuleQuery()
    t = warehouse.table("rules")
    t = t.filter(t.support >= query.min_support, t.confidence >= query.min_confidence, t.lift >= query.min_lift)
    if query.level is not None:
        t = t.filter(t.level == query.level)
    frame = warehouse.execute(t)
    frame["antecedent"] = frame["antecedent"].map(lambda s: tuple(json.loads(s)))
    frame["consequent"] = frame["consequent"].map(lambda s: tuple(json.loads(s)))
    return query.apply(frame)
