"""Frequent itemsets and association rules from baskets.

The work is split so that the engines differ in one place only:

1. the baskets and each item's basket count come from the warehouse in Ibis (:mod:`.baskets`), and
   items below the support threshold are dropped there, before anything leaves the engine (an item
   that is not frequent cannot be in a frequent itemset);
2. frequent itemsets with their basket counts come from FP-growth (Han, Pei & Yin 2000): mlxtend's on
   a sparse one-hot of the remaining baskets on DuckDB, ``pyspark.ml.fpm.FPGrowth`` on Spark
   (:mod:`.spark`);
3. rules and every measure are derived from those counts by one function, :func:`rules_from_itemsets`,
   so both engines give the same rules for the same baskets.

Measures (Agrawal, Imielinski & Swami 1993; leverage: Piatetsky-Shapiro 1991; conviction: Brin et al.
1997), with supports as shares of all baskets of the level:
support = s(A ∪ C); confidence = s(A ∪ C) / s(A); lift = confidence / s(C);
leverage = s(A ∪ C) - s(A) s(C); conviction = (1 - s(C)) / (1 - confidence), null when confidence is 1.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from jingzhun.errors import ConfigError, JingzhunError
from jingzhun.rules.baskets import LEVELS, basket_items
from jingzhun.warehouse import Warehouse

__all__ = [
    "MiningOptions", "MiningResult", "RULE_FIELDS", "min_count", "fpgrowth_itemsets", "rules_from_itemsets",
    "mine_rules",
]

log = logging.getLogger(__name__)

RULE_FIELDS = ("antecedent", "consequent", "support", "confidence", "lift", "leverage", "conviction",
               "antecedent_support", "consequent_support", "count")
_ITEMSET_FIELDS = ("items", "count")


@dataclass(frozen=True)
class MiningOptions:
    """What to mine: the level, the thresholds, the longest itemset, and items to leave out.

    ``min_support`` is a share of the level's baskets; ``max_len`` counts the items of a whole rule
    (antecedent and consequent together); ``category_depth`` picks the category level's grain
    (1: ``products.category``; 2 or more: that many levels of ``category_path``).
    """

    level: str = "product"
    min_support: float = 0.01
    min_confidence: float = 0.1
    min_lift: float = 1.0
    max_len: int = 3
    category_depth: int = 1
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "exclude", tuple(self.exclude))
        if self.level not in LEVELS:
            raise ConfigError(f"unknown rules level {self.level!r}: use one of {', '.join(LEVELS)}")
        if not 0 < self.min_support <= 1:
            raise ConfigError(f"min support is a share of baskets in (0, 1], not {self.min_support!r}")
        if not 0 <= self.min_confidence <= 1:
            raise ConfigError(f"min confidence is in [0, 1], not {self.min_confidence!r}")
        if self.min_lift < 0:
            raise ConfigError(f"min lift cannot be negative ({self.min_lift!r})")
        if not isinstance(self.max_len, int) or self.max_len < 2:
            raise ConfigError(f"max length is the items of a rule, a whole number >= 2, not {self.max_len!r}")
        if not isinstance(self.category_depth, int) or self.category_depth < 1:
            raise ConfigError(f"category depth must be a whole number >= 1, not {self.category_depth!r}")


@dataclass(frozen=True)
class MiningResult:
    """Frequent itemsets (items as sorted tuples, with basket counts) and the rules derived from them."""

    options: MiningOptions
    n_baskets: int
    itemsets: pd.DataFrame
    rules: pd.DataFrame
    engine: str
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def level(self) -> str:
        return self.options.level


def min_count(min_support: float, n_baskets: int) -> int:
    """The fewest baskets an itemset must be in: the smallest whole count >= min_support x n_baskets."""
    return max(1, math.ceil(min_support * n_baskets - 1e-9))


def _empty_itemsets() -> pd.DataFrame:
    return pd.DataFrame({"items": pd.Series([], dtype=object), "count": pd.Series([], dtype="int64")})


def fpgrowth_itemsets(pairs: pd.DataFrame, n_baskets: int, min_baskets: int, max_len: int) -> pd.DataFrame:
    """Itemsets in at least ``min_baskets`` of ``n_baskets`` baskets, by mlxtend's FP-growth.

    ``pairs`` holds (``basket``, ``item``) rows; baskets with none of their items frequent may be
    absent from it, which is why ``n_baskets`` is given. Only frequent items become columns and only
    baskets holding one become rows of the sparse one-hot, so memory follows the frequent part of
    the data (mlxtend still makes one dense boolean pass over that matrix to count items).
    """
    with warnings.catch_warnings():  # mlxtend turns every DeprecationWarning on for good when imported
        from mlxtend.frequent_patterns import fpgrowth

    pairs = pairs[["basket", "item"]].drop_duplicates()
    counts = pairs["item"].value_counts()
    frequent = np.sort(counts.index[counts.to_numpy() >= min_baskets].to_numpy().astype(str))
    if len(frequent) == 0:
        return _empty_itemsets()
    kept = pairs[pairs["item"].isin(frequent)]
    col = np.searchsorted(frequent, kept["item"].to_numpy().astype(str))
    row, _ = pd.factorize(kept["basket"], sort=False)
    n_fed = int(row.max()) + 1
    onehot = sparse.csr_matrix((np.ones(len(row), dtype=bool), (row, col)), shape=(n_fed, len(frequent)))
    with warnings.catch_warnings():  # pandas' own from_spmatrix gives bool columns a 0 fill value and warns
        warnings.simplefilter("ignore", FutureWarning)
        frame = pd.DataFrame.sparse.from_spmatrix(onehot, columns=range(len(frequent)))
    # half a basket under the count: the comparison mlxtend makes in floating point cannot go the wrong way
    found = fpgrowth(frame, min_support=(min_baskets - 0.5) / n_fed, max_len=max_len)
    out = pd.DataFrame({
        "items": [tuple(sorted(frequent[list(s)])) for s in found["itemsets"]],
        "count": np.rint(found["support"].to_numpy() * n_fed).astype("int64"),
    })
    log.info("FP-growth: %d frequent items in %d of %d baskets, %d itemsets", len(frequent), n_fed, n_baskets, len(out))
    return out


def rules_from_itemsets(itemsets: pd.DataFrame, n_baskets: int, *, min_confidence: float = 0.0,
                        min_lift: float = 0.0) -> pd.DataFrame:
    """Every rule A -> C with A ∪ C a frequent itemset, A and C non-empty and disjoint, and its measures.

    Sides are sorted tuples. Every subset of a frequent itemset is frequent, so each side's count is in
    ``itemsets``. Sorted by lift, then confidence, then support (largest first), then the sides' text.
    """
    count = {tuple(i): int(c) for i, c in zip(itemsets["items"], itemsets["count"])}
    rows = []
    for items, both in count.items():
        for k in range(1, len(items)):
            for left in itertools.combinations(items, k):
                right = tuple(x for x in items if x not in left)
                rows.append((left, right, both, count[left], count[right]))
    if not rows:
        return pd.DataFrame({f: pd.Series([], dtype=object if f in ("antecedent", "consequent") else "float64")
                             for f in RULE_FIELDS})
    left, right, both, n_left, n_right = zip(*rows)
    n = float(n_baskets)
    support = np.array(both) / n
    ant = np.array(n_left) / n
    cons = np.array(n_right) / n
    confidence = support / ant
    with np.errstate(divide="ignore", invalid="ignore"):
        conviction = np.where(confidence >= 1 - 1e-12, np.nan, (1 - cons) / (1 - confidence))
    rules = pd.DataFrame({
        "antecedent": list(left), "consequent": list(right), "support": support, "confidence": confidence,
        "lift": confidence / cons, "leverage": support - ant * cons, "conviction": conviction,
        "antecedent_support": ant, "consequent_support": cons, "count": np.array(both, dtype="int64"),
    })
    rules = rules[(rules.confidence >= min_confidence - 1e-12) & (rules.lift >= min_lift - 1e-12)]
    return sort_rules(rules)


def sort_rules(rules: pd.DataFrame, by: str = "lift") -> pd.DataFrame:
    """Rules best first by ``by`` (then lift, confidence, support), ties broken by the sides' text."""
    order = [by] + [m for m in ("lift", "confidence", "support") if m != by]
    # measures equal in exact arithmetic (the lift of A -> C and C -> A) can differ in the last bit
    keys = {f"_{m}": rules[m].astype("float64").round(10) for m in order}
    keyed = rules.assign(**keys, _a=rules["antecedent"].map(repr), _c=rules["consequent"].map(repr))
    keyed = keyed.sort_values([*keys, "_a", "_c"], ascending=[False] * len(order) + [True, True],
                              na_position="last", kind="stable")
    return keyed.drop(columns=[*keys, "_a", "_c"]).reset_index(drop=True)


def mine_rules(warehouse: Warehouse, options: MiningOptions | None = None) -> MiningResult:
    """Mine the warehouse's baskets at ``options.level`` (FP-growth on Spark when the warehouse is)."""
    options = options or MiningOptions()
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    pairs = basket_items(warehouse, options.level, category_depth=options.category_depth, exclude=options.exclude)
    n_baskets = int(warehouse.execute(pairs.basket.nunique()))
    if n_baskets == 0:
        raise JingzhunError(_no_baskets_message(options))
    needed = min_count(options.min_support, n_baskets)
    per_item = pairs.group_by("item").aggregate(n=pairs.basket.count())
    frequent = pairs.semi_join(per_item.filter(per_item.n >= needed), "item")
    seconds["baskets"] = time.perf_counter() - t

    t = time.perf_counter()
    if warehouse.engine == "pyspark":
        from jingzhun.rules.spark import spark_itemsets

        itemsets = spark_itemsets(warehouse, frequent, needed, options.max_len)
    else:
        itemsets = fpgrowth_itemsets(warehouse.execute(frequent), n_baskets, needed, options.max_len)
    seconds["itemsets"] = time.perf_counter() - t

    t = time.perf_counter()
    rules = rules_from_itemsets(itemsets, n_baskets, min_confidence=options.min_confidence,
                                min_lift=options.min_lift)
    seconds["rules"] = time.perf_counter() - t
    log.info("%s rules: %d baskets, %d itemsets, %d rules", options.level, n_baskets, len(itemsets), len(rules))
    return MiningResult(options, n_baskets, itemsets, rules, warehouse.engine, seconds)


def _no_baskets_message(options: MiningOptions) -> str:
    if options.level == "category":
        where = "products.category" if options.category_depth == 1 else "products.category_path"
        return (f"no basket holds a product with a category at depth {options.category_depth}: fill {where} "
                "in the catalogue (a source mapping's products file), or mine the product level")
    return "no purchase baskets in the warehouse: load orders and order lines first (jingzhun ingest SOURCE.yaml)"
