"""Business rules applied after scoring, and the list a marketer sees.

A model ranks items; a shop has rules about what may be shown. For each person, in this order:

1. **Already bought**: a durable product she bought is never proposed again; a consumable she bought
   is held back until its repurchase cycle comes round (the purchase state of
   :mod:`jingzhun.recommend.interactions`).
2. **Time to restock**: consumables that are due come first (up to ``max_restock``, the longest since
   the last purchase first), with the reason "time to restock".
3. **In stock only**: products whose catalogue row says ``in_stock = false`` are never proposed.
4. **Price band**: products more than ``price_band_tolerance`` quintiles away from the band the person
   usually buys in (the mean band of her purchases, rounded; price bands are quintiles of price within the
   category) are left out. People without purchases see every band.
5. **Diversity**: at most ``max_per_category`` products of one top-level category; the next best of
   another category takes the place (products without a category are never capped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from jingzhun.recommend.base import Recommender, top_n
from jingzhun.recommend.interactions import Interactions

__all__ = ["BusinessRules", "PurchaseState", "RuleMasks", "purchase_state", "rule_masks", "pick_diverse", "apply_rules"]

RESTOCK_REASON = "time to restock: you bought it {days} days ago"


@dataclass(frozen=True)
class BusinessRules:
    """Which rules apply (see the module docstring); ``BusinessRules.none()`` switches them all off."""

    exclude_bought: bool = True
    restock: bool = True
    max_restock: int = 3
    in_stock_only: bool = True
    price_band_tolerance: int | None = 1
    max_per_category: int | None = 4

    @classmethod
    def none(cls) -> BusinessRules:
        return cls(exclude_bought=False, restock=False, in_stock_only=False, price_band_tolerance=None,
                   max_per_category=None)


@dataclass
class RuleMasks:
    """For a block of people: pairs never to show, due pairs to restock, and the per-person band."""

    excluded: sp.csr_matrix
    due: sp.csr_matrix
    days_since: sp.csr_matrix
    band: np.ndarray


@dataclass
class PurchaseState:
    """Profiles x products: pairs held back (bought, not due), due pairs, days since the last purchase."""

    held_back: sp.csr_matrix
    due: sp.csr_matrix
    days_since: sp.csr_matrix


def purchase_state(interactions: Interactions) -> PurchaseState:
    """The interactions' purchase state as matrices, built once for all blocks."""
    return PurchaseState(held_back=interactions.pair_mask(interactions.durable | ~interactions.due),
                         due=interactions.pair_mask(interactions.due),
                         days_since=interactions.pair_mask(np.maximum(interactions.days_since, 1e-3)))


def rule_masks(interactions: Interactions, users: np.ndarray, state: PurchaseState | None = None) -> RuleMasks:
    """The purchase-state matrices of ``users`` (positions) and their usual price band (-1: none).

    The usual band is the mean band of the products bought, rounded (half up).
    """
    state = state or purchase_state(interactions)
    due = state.due[users]
    days = sp.csr_matrix(state.days_since[users].multiply(due))
    bought = sp.csr_matrix(interactions.matrix[users] > 0, dtype=np.float64)
    bands = interactions.catalogue["price_band"].to_numpy().astype(np.float64)
    known = (bands >= 0).astype(np.float64)
    count = bought @ known
    total = bought @ np.where(bands >= 0, bands, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        band = np.where(count > 0, np.floor(total / np.maximum(count, 1) + 0.5), -1).astype(np.int64)
    return RuleMasks(state.held_back[users], due, days, band)


def _rank_within(rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """For entries listed in order within each row: how many earlier entries of the row share the key."""
    order = np.lexsort((np.arange(len(rows)), keys, rows))
    r, k = rows[order], keys[order]
    start = np.r_[True, (r[1:] != r[:-1]) | (k[1:] != k[:-1])]
    idx = np.arange(len(order))
    rank_sorted = idx - np.maximum.accumulate(np.where(start, idx, 0))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = rank_sorted
    return rank


def pick_diverse(candidates: np.ndarray, categories: np.ndarray, n: int | np.ndarray, cap: int | None,
                 taken: np.ndarray | None = None) -> np.ndarray:
    """Per row, the first ``n`` candidates (best first, -1 = none) keeping at most ``cap`` per category.

    ``categories``: an integer code per item, -1 for items without one (never capped). ``taken``
    (rows x m, -1 = none) lists items placed ahead of the candidates; they count against the cap.
    ``n`` may differ per row. Keeping the first ``cap`` of each category in score order is exactly
    what a greedy walk down the list keeps.
    """
    rows_n, width = candidates.shape
    n_max = int(np.max(n)) if np.size(n) else 0
    prefix = taken if taken is not None else np.full((rows_n, 0), -1, dtype=np.int64)
    both = np.concatenate([prefix, candidates], axis=1)
    row = np.repeat(np.arange(rows_n), both.shape[1])
    item = both.ravel()
    valid = item >= 0
    keep = valid.copy()
    if cap is not None:
        cat = np.where(valid, categories[np.where(valid, item, 0)], -1)
        capped = valid & (cat >= 0)
        rank = np.zeros(item.size, dtype=np.int64)
        rank[capped] = _rank_within(row[capped], cat[capped])
        keep &= ~(capped & (rank >= cap))
    is_candidate = np.tile(np.r_[np.zeros(prefix.shape[1], bool), np.ones(width, bool)], rows_n)
    keep &= is_candidate
    kept_row, kept_item = row[keep], item[keep]
    slot = _rank_within(kept_row, np.zeros(len(kept_row), dtype=np.int64))
    limit = np.broadcast_to(np.asarray(n), (rows_n,))[kept_row]
    fits = (slot < limit) & (slot < n_max)
    out = np.full((rows_n, n_max), -1, dtype=np.int64)
    out[kept_row[fits], slot[fits]] = kept_item[fits]
    return out


def apply_rules(model: Recommender, interactions: Interactions, users: np.ndarray, n: int,
                rules: BusinessRules, model_users: np.ndarray | None = None,
                state: PurchaseState | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items (people x n, -1 pads), their scores and whether each is a restock, for one block of people.

    ``users``: positions in ``interactions``; ``model_users``: the same people's positions among the
    model's training profiles (default: looked up by profile id); ``state``: :func:`purchase_state`
    of the interactions when the caller scores many blocks.
    """
    rows = interactions.matrix[users]
    if model_users is None:
        model_users = model.user_positions(interactions.users[users])
    raw = model.scores(model_users, rows).astype(np.float64)
    block = raw.copy()
    masks = rule_masks(interactions, users, state)
    catalogue = interactions.catalogue
    if rules.exclude_bought:
        _set(block, masks.excluded, -np.inf)
    restock = np.full((len(users), 0), -1, dtype=np.int64)
    if rules.restock and rules.max_restock > 0:
        restock = _due_first(masks, rules.max_restock, catalogue["in_stock"].to_numpy() if rules.in_stock_only
                             else None)
        _set(block, masks.due, -np.inf)  # placed ahead, not twice
        r = np.repeat(np.arange(len(users)), restock.shape[1])
        ok = restock.ravel() >= 0
        block[r[ok], restock.ravel()[ok]] = -np.inf
    if rules.in_stock_only:
        block[:, ~catalogue["in_stock"].to_numpy(dtype=bool)] = -np.inf
    if rules.price_band_tolerance is not None:
        item_band = catalogue["price_band"].to_numpy()
        far = np.abs(item_band[None, :] - masks.band[:, None]) > rules.price_band_tolerance
        far &= (masks.band[:, None] >= 0) & (item_band[None, :] >= 0)
        block[far] = -np.inf
    restock = restock[:, :n]
    room = n - (restock >= 0).sum(axis=1)
    candidates, _ = top_n(block, n * 3 if rules.max_per_category else n)
    rest = pick_diverse(candidates, _category_codes(catalogue), room, rules.max_per_category, restock)
    picked = np.full((len(users), n), -1, dtype=np.int64)
    picked[:, :restock.shape[1]] = restock
    # the rest follows each row's restock items
    r_idx = np.repeat(np.arange(len(users)), rest.shape[1])
    slot = (np.tile(np.arange(rest.shape[1]), len(users)) + np.repeat(n - room, rest.shape[1]))
    ok = (rest.ravel() >= 0) & (slot < n)
    picked[r_idx[ok], slot[ok]] = rest.ravel()[ok]
    valid = picked >= 0
    rr = np.repeat(np.arange(len(users)), n).reshape(picked.shape)
    scores = np.full(picked.shape, np.nan)
    scores[valid] = raw[rr[valid], picked[valid]]
    is_restock = np.zeros(picked.shape, dtype=bool)
    is_restock[:, :restock.shape[1]] = restock >= 0
    return picked, scores, is_restock


def _set(block: np.ndarray, pairs: sp.csr_matrix, value: float) -> None:
    pairs = sp.csr_matrix(pairs)
    if pairs.nnz:
        r = np.repeat(np.arange(pairs.shape[0]), np.diff(pairs.indptr))
        block[r, pairs.indices] = value


def _due_first(masks: RuleMasks, limit: int, in_stock: np.ndarray | None) -> np.ndarray:
    """Up to ``limit`` due items per person, the longest since the last purchase first."""
    due = sp.csr_matrix(masks.days_since)
    row = np.repeat(np.arange(due.shape[0]), np.diff(due.indptr))
    items, days = due.indices.astype(np.int64), due.data
    if in_stock is not None:
        keep = in_stock[items]
        row, items, days = row[keep], items[keep], days[keep]
    order = np.lexsort((items, -days, row))
    row, items = row[order], items[order]
    slot = _rank_within(row, np.zeros(len(row), dtype=np.int64))
    fits = slot < limit
    out = np.full((due.shape[0], limit), -1, dtype=np.int64)
    out[row[fits], slot[fits]] = items[fits]
    return out


def _category_codes(catalogue) -> np.ndarray:
    category = catalogue["category"]
    codes = category.astype("category").cat.codes.to_numpy().astype(np.int64)
    return np.where(category.isna().to_numpy(), -1, codes)
