"""Offline evaluation of recommenders: a time split, ranking metrics at k, coverage and novelty.

Protocol (:func:`evaluate`): models learn from purchases before the cut-off; each person who bought
before it and bought something new to her after it is asked for ``k`` items, leaving out what she had
already bought (a repeat purchase is the restock rule's business, not discovery's). The relevant items
are the products she bought after the cut-off and never before.

Per person, with R her relevant items and hits the recommended items in R (binary relevance):

* precision@k = hits / k; recall@k = hits / |R|; hit rate@k = 1 when hits > 0;
* NDCG@k = DCG / IDCG, DCG = sum over ranks r of rel_r / log2(r + 1), IDCG the DCG of min(|R|, k) hits
  (Jarvelin & Kekalainen 2002);
* AP@k = sum over ranks r of precision@r x rel_r, divided by min(|R|, k); MAP@k is its mean.

Over the list: coverage = distinct recommended items / items in the catalogue; novelty = mean over
recommended items of -log2(share of training buyers who bought the item) (Zhou et al. 2010, PNAS 107).
Every figure is a mean over the evaluated people.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from jingzhun.recommend.base import Recommender
from jingzhun.recommend.interactions import Interactions, TimeSplit

__all__ = ["ranking_metrics", "mean_metrics", "relevant_new_items", "coverage", "novelty", "evaluate",
           "Evaluation", "METRICS"]

log = logging.getLogger(__name__)

METRICS = ("precision", "recall", "ndcg", "map", "hit_rate")


def _hits(recommended: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """Boolean users x k: is the recommended item at each rank relevant to the person."""
    rows = np.repeat(np.arange(recommended.shape[0]), recommended.shape[1])
    items = recommended.ravel()
    valid = items >= 0
    out = np.zeros(items.size, dtype=bool)
    if valid.any():
        out[valid] = np.asarray(relevant[rows[valid], items[valid]]).ravel() > 0
    return out.reshape(recommended.shape)


def ranking_metrics(recommended: np.ndarray, relevant: sp.csr_matrix) -> pd.DataFrame:
    """Per-person precision, recall, NDCG, AP and hit at k = recommended.shape[1].

    ``recommended``: people x k item positions, best first (-1 for an empty slot); ``relevant``: a CSR
    matrix with a row per person whose stored entries are her relevant items.
    """
    recommended = np.atleast_2d(np.asarray(recommended, dtype=np.int64))
    relevant = sp.csr_matrix(relevant)
    k = recommended.shape[1]
    hits = _hits(recommended, relevant)
    n_rel = np.diff(relevant.indptr).astype(np.float64)
    n_hits = hits.sum(axis=1)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts).sum(axis=1)
    ideal_n = np.minimum(n_rel, k).astype(np.int64)
    ideal = np.r_[0.0, np.cumsum(discounts)][ideal_n]
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    ap = (precision_at * hits).sum(axis=1) / np.maximum(ideal_n, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({
            "precision": n_hits / k,
            "recall": np.where(n_rel > 0, n_hits / n_rel, np.nan),
            "ndcg": np.where(ideal > 0, dcg / ideal, np.nan),
            "map": np.where(n_rel > 0, ap, np.nan),
            "hit_rate": (n_hits > 0).astype(np.float64),
        })


def mean_metrics(recommended: np.ndarray, relevant: sp.csr_matrix) -> dict[str, float]:
    per_person = ranking_metrics(recommended, relevant)
    return {m: float(per_person[m].mean()) for m in METRICS}


def coverage(recommended: np.ndarray, n_items: int) -> float:
    """Share of the catalogue's items that appear in at least one list."""
    items = np.unique(recommended[recommended >= 0])
    return float(len(items) / n_items) if n_items else 0.0


def novelty(recommended: np.ndarray, train: sp.csr_matrix) -> float:
    """Mean self-information -log2(buyer share) of the recommended items; items nobody bought count as
    bought by one person (the most novel an item can be)."""
    buyers = np.asarray((train > 0).sum(axis=0)).ravel().astype(np.float64)
    share = np.maximum(buyers, 1.0) / max(train.shape[0], 1)
    items = recommended[recommended >= 0]
    return float(np.mean(-np.log2(share[items]))) if items.size else float("nan")


def relevant_new_items(train: sp.csr_matrix, test: sp.csr_matrix) -> sp.csr_matrix:
    """The test pairs whose item the person had not bought in training (same universe)."""
    test_bin = sp.csr_matrix(test > 0, dtype=np.float32)
    seen = sp.csr_matrix(train > 0, dtype=np.float32)
    new = test_bin - test_bin.multiply(seen)
    new = sp.csr_matrix(new)
    new.eliminate_zeros()
    return new


@dataclass
class Evaluation:
    """The figures of each model on one split, and the people and items they were taken over."""

    table: pd.DataFrame
    users: np.ndarray
    k: int

    def markdown(self, digits: int = 4) -> str:
        """The table as Markdown, one model per row."""
        cols = ["model", *METRICS, "coverage", "novelty"]
        head = "| " + " | ".join(c if c != "model" else "model" for c in cols) + " |"
        lines = [head, "|" + "---|" * len(cols)]
        for _, row in self.table.iterrows():
            cells = [str(row["model"])] + [f"{row[c]:.{digits}f}" for c in cols[1:]]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


def evaluate(models: Mapping[str, Recommender], split: TimeSplit | tuple[Interactions, Interactions], k: int = 10,
             *, max_users: int | None = None, seed: int = 0, baseline: str = "popularity") -> Evaluation:
    """Every fitted model on the same people (see the module docstring), one row each.

    ``baseline`` names the model the others are compared with: ``ndcg_vs_<baseline>`` is each model's
    NDCG@k over the baseline's. ``max_users`` draws that many people (seeded) when there are more.
    """
    train, test = (split.train, split.test) if isinstance(split, TimeSplit) else split
    relevant = relevant_new_items(train.matrix, test.matrix)
    users = np.flatnonzero((np.diff(relevant.indptr) > 0) & (np.diff(train.matrix.indptr) > 0))
    if max_users is not None and len(users) > max_users:
        users = np.sort(np.random.default_rng(seed).choice(users, max_users, replace=False))
    rows, rel = train.matrix[users], relevant[users]
    records = []
    for name, model in models.items():
        recommended, _ = model.recommend(users, rows, n=k)
        record = {"model": name, **mean_metrics(recommended, rel),
                  "coverage": coverage(recommended, train.n_items), "novelty": novelty(recommended, train.matrix)}
        log.info("evaluated %s on %d people: %s", name, len(users), record)
        records.append(record)
    table = pd.DataFrame.from_records(records)
    if baseline in set(table["model"]):
        base = float(table.loc[table["model"] == baseline, "ndcg"].iloc[0])
        table[f"ndcg_vs_{baseline}"] = table["ndcg"] / base if base > 0 else np.nan
    return Evaluation(table=table, users=users, k=k)
