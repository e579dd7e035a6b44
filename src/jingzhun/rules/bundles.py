"""Bundle suggestions: pairs and triples bought together far more often than chance, with a reason.

A set S is a bundle when, for every item x in S, the rule (S without x) -> x is among the rules: each
item is more likely in a basket that holds the others. Its strength is the smallest lift of those
rules (the weakest member decides), so a triple made of one strong pair and a passenger item does not
outrank the pair. Built from a rules frame (a mining result's or the stored rules), no new counting.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

__all__ = ["Bundle", "suggest_bundles"]


@dataclass(frozen=True)
class Bundle:
    items: tuple[str, ...]
    support: float
    baskets: int
    lift: float
    reason: str

    def to_dict(self) -> dict:
        return {"items": list(self.items), "support": self.support, "baskets": self.baskets, "lift": self.lift,
                "reason": self.reason}


def _label(item: str, names: dict[str, str]) -> str:
    return f"{names[item]} ({item})" if item in names else item


def _reason(items, support: float, baskets: int, lift: float, best, names: dict[str, str]) -> str:
    left = " + ".join(_label(i, names) for i in best.antecedent)
    right = _label(best.consequent[0], names)
    together = "both" if len(items) == 2 else f"all {len(items)}"
    return (f"{together} in {baskets:,} baskets ({support:.2%}), each at least {lift:.1f}x as likely with the "
            f"others as without; {best.confidence:.0%} of baskets with {left} also hold {right}")


def suggest_bundles(rules: pd.DataFrame, *, n_baskets: int, sizes: tuple[int, ...] = (2, 3),
                    min_lift: float = 1.5, top: int = 10, names: dict[str, str] | None = None) -> list[Bundle]:
    """The strongest bundles of ``sizes`` items in ``rules`` (sides as tuples), best first.

    ``n_baskets`` turns supports into basket counts for the reason; ``names`` labels items.
    """
    names = names or {}
    members: dict[tuple, list] = defaultdict(list)
    for rule in rules.itertuples(index=False):
        if len(rule.consequent) != 1:
            continue
        items = tuple(sorted(rule.antecedent + rule.consequent))
        if len(items) in sizes:
            members[items].append(rule)
    found = []
    for items, its_rules in members.items():
        if len(its_rules) != len(items):  # some member is not made more likely by the others
            continue
        lift = min(r.lift for r in its_rules)
        if lift < min_lift:
            continue
        support = its_rules[0].support
        best = max(its_rules, key=lambda r: (r.confidence, r.consequent))
        baskets = int(round(support * n_baskets))
        found.append(Bundle(items, support, baskets, lift, _reason(items, support, baskets, lift, best, names)))
    found.sort(key=lambda b: (-b.lift, -b.support, b.items))
    return found[:top]
