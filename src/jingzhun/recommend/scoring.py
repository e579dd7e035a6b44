"""Recommendations for everyone (in batches) or for one profile, with reasons, into `recommendations`.

:func:`recommend_all` scores every profile of an :class:`Interactions` block by block, applies the
business rules (:mod:`jingzhun.recommend.rules`) and asks the model why it proposed each item;
:func:`write_recommendations` replaces the table's rows in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd

from jingzhun.recommend.base import Recommender
from jingzhun.recommend.interactions import Interactions
from jingzhun.recommend.rules import RESTOCK_REASON, BusinessRules, PurchaseState, apply_rules, purchase_state
from jingzhun.warehouse import Warehouse

__all__ = ["recommend_all", "write_recommendations", "align_to_model"]

log = logging.getLogger(__name__)


def align_to_model(model: Recommender, interactions: Interactions) -> None:
    """Check that the interactions' products are the model's, in the same order."""
    from jingzhun.errors import InputError

    model._check_fitted()
    if len(model.item_ids_) != interactions.n_items or not np.array_equal(
            np.asarray(model.item_ids_, dtype=str), np.asarray(interactions.items, dtype=str)):
        raise InputError("the model was fitted on another catalogue than these interactions: fit it again "
                         "(jingzhun recommend fit) or load interactions with items=model.item_ids_", field="model")


def recommend_all(model: Recommender, interactions: Interactions, n: int = 10, *,
                  rules: BusinessRules = BusinessRules(), users: np.ndarray | None = None,
                  batch_size: int = 10_000, on_progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """profile_id, product_id, rank, score, reason, source for ``users`` (positions; default everyone).

    Restock items carry source ``restock`` and score the model's score for them.
    """
    align_to_model(model, interactions)
    users = np.arange(interactions.n_users) if users is None else np.asarray(users, dtype=np.int64)
    names = interactions.catalogue
    model_users = model.user_positions(interactions.users[users])
    state = purchase_state(interactions)
    frames = []
    for lo in range(0, len(users), batch_size):
        block = users[lo:lo + batch_size]
        block_model = model_users[lo:lo + batch_size]
        picked, scores, restock = apply_rules(model, interactions, block, n, rules, block_model, state)
        valid = picked >= 0
        row = np.nonzero(valid)[0]
        rank = np.cumsum(valid, axis=1)[valid]
        items = picked[valid]
        is_restock = restock[valid]
        reason = np.empty(len(items), dtype=object)
        source = np.empty(len(items), dtype=object)
        modelled = np.where(restock, -1, picked)
        if (modelled >= 0).any():
            src, why = model.explain(block_model, interactions.matrix[block], modelled, names)
            source[~is_restock], reason[~is_restock] = src, why
        if is_restock.any():
            days = _days_since(state, block[row[is_restock]], items[is_restock])
            reason[is_restock] = [RESTOCK_REASON.format(days=int(round(d))) for d in days]
            source[is_restock] = "restock"
        frames.append(pd.DataFrame({
            "profile_id": interactions.users[block[row]], "product_id": interactions.items[items],
            "rank": rank.astype(np.int64), "score": scores[valid], "reason": reason, "source": source}))
        if on_progress is not None:
            on_progress(min(lo + batch_size, len(users)), len(users))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["profile_id", "product_id", "rank", "score", "reason", "source"])
    log.info("recommended %d items to %d profiles", len(out), out["profile_id"].nunique() if len(out) else 0)
    return out


def _days_since(state: PurchaseState, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    return np.asarray(state.days_since[users, items]).ravel()


def write_recommendations(warehouse: Warehouse, frame: pd.DataFrame, model_id: str,
                          computed_at: pd.Timestamp | None = None) -> int:
    """Replace the `recommendations` table with ``frame`` (all or nothing); returns the rows written."""
    computed_at = computed_at or pd.Timestamp.now(tz="UTC")
    rows = frame.assign(model_id=model_id, computed_at=computed_at)
    rows["score"] = rows["score"].astype(float).fillna(0.0)
    with warehouse.transaction():
        warehouse.replace("recommendations", rows)
    return len(rows)
