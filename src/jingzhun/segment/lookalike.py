"""Lookalike audiences: from a seed of people (a store's best customers, say), rank everyone else by how
much their profile features resemble the seed's.

A classifier (LightGBM, deterministic) learns seed members against everyone else from the profile
features; a share of the seed and of the others is held out, and the AUC on them says how well the
features separate seed members from the rest (close to 0.5: the seed has nothing in common that the
features see). Everyone is then scored; the seed itself can be left out of the ranking.

Features are the numeric columns of ``profile_features`` plus the category mix (``category_shares``
spread into one column per category) and one-hot columns of a few categorical fields.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from jingzhun.errors import InputError

__all__ = ["LookalikeResult", "lookalike", "feature_frame", "DEFAULT_FEATURES"]

log = logging.getLogger(__name__)

DEFAULT_FEATURES = (
    "recency_days", "frequency", "monetary_total", "avg_order_value", "tenure_days", "interpurchase_mean_days",
    "return_rate", "discount_share", "coupon_share", "price_sensitivity", "mean_units", "n_categories", "n_brands",
    "top_category_share", "share_web", "share_app", "share_store", "share_wechat", "share_marketplace",
    "peak_hour", "peak_weekday", "n_events", "events_90d", "email_opened_90d", "email_clicked_90d",
    "nearest_store_km", "top_store_km", "age",
)
_CATEGORICAL = ("gender", "top_category", "city", "top_store_id")
MIN_SEED = 20


@dataclass
class LookalikeResult:
    scores: pd.DataFrame  # profile_id, score (0..1), rank (1 = most alike), in_seed
    holdout_auc: float
    n_seed: int
    features: list[str] = field(default_factory=list)
    importance: dict[str, float] = field(default_factory=dict)  # gain share of each feature

    def top(self, n: int, *, include_seed: bool = False) -> pd.DataFrame:
        s = self.scores if include_seed else self.scores[~self.scores.in_seed]
        return s.nsmallest(n, "rank")


def feature_frame(profile_features: pd.DataFrame, features=DEFAULT_FEATURES, *,
                  categorical=_CATEGORICAL, top_levels: int = 20) -> pd.DataFrame:
    """A numeric frame indexed by profile_id: the chosen columns, the category mix and one-hot fields."""
    pf = profile_features.set_index("profile_id")
    missing = [c for c in features if c not in pf.columns]
    if missing:
        raise InputError(f"profile_features has no column {missing[0]!r}", field=missing[0],
                         hint="run `jingzhun build` so the features exist, or pass features= that do")
    out = pf[list(features)].apply(pd.to_numeric, errors="coerce").astype(np.float64)
    if "category_shares" in pf.columns:
        mix = pf["category_shares"].fillna("").str.split(";").explode()
        mix = mix[mix != ""].str.rsplit(":", n=1, expand=True)
        if not mix.empty:
            mix.columns = ["category", "share"]
            mix["share"] = mix["share"].astype(float)
            wide = mix.reset_index().pivot_table(index="profile_id", columns="category", values="share", aggfunc="sum")
            wide.columns = [f"category:{c}" for c in wide.columns]
            out = out.join(wide, how="left")
            out[wide.columns] = out[wide.columns].fillna(0.0)
    for col in categorical:
        if col in pf.columns:
            levels = pf[col].value_counts().head(top_levels).index
            for level in levels:
                out[f"{col}={level}"] = (pf[col] == level).astype(np.float64)
    return out


def lookalike(profile_features: pd.DataFrame | ir.Table, seed_ids, *, features=DEFAULT_FEATURES,
              holdout_share: float = 0.25, negatives: int = 200_000, random_state: int = 0,
              n_estimators: int = 150) -> LookalikeResult:
    """Rank every profile by resemblance to the seed (``seed_ids``: profile ids, or a table with profile_id)."""
    from lightgbm import LGBMClassifier
    from sklearn.metrics import roc_auc_score

    if isinstance(profile_features, ir.Table):
        profile_features = profile_features.execute()
    if isinstance(seed_ids, ir.Table):
        seed_ids = seed_ids.select("profile_id").execute().profile_id
    seed = set(pd.Series(list(seed_ids), dtype=object).dropna().astype(str))
    X = feature_frame(profile_features, features)
    in_seed = X.index.isin(list(seed))
    n_seed = int(in_seed.sum())
    unknown = len(seed) - n_seed
    if unknown:
        log.warning("%d seed ids are not profiles with features; left out", unknown)
    if n_seed < MIN_SEED:
        raise InputError(f"the seed has {n_seed} profiles with features; a lookalike needs at least {MIN_SEED}",
                         field="seed")
    if n_seed == len(X):
        raise InputError("the seed is everyone: there is nobody to rank", field="seed")
    rng = np.random.default_rng(random_state)
    pos = np.flatnonzero(in_seed)
    neg = np.flatnonzero(~in_seed)
    if neg.size > negatives:
        neg = np.sort(rng.choice(neg, negatives, replace=False))
    held_pos = rng.random(pos.size) < holdout_share
    held_neg = rng.random(neg.size) < holdout_share
    train = np.concatenate([pos[~held_pos], neg[~held_neg]])
    test = np.concatenate([pos[held_pos], neg[held_neg]])
    y = in_seed.astype(int)
    # seed members are rare: weight the classes to equal total weight
    w = np.where(y[train] == 1, 0.5 / max(y[train].mean(), 1e-9), 0.5 / max(1 - y[train].mean(), 1e-9))
    params = dict(n_estimators=n_estimators, learning_rate=0.05, num_leaves=7, min_child_samples=50,
                  random_state=random_state, deterministic=True, force_row_wise=True, num_threads=1, verbose=-1)
    values = X.to_numpy()  # plain arrays: LightGBM refuses some characters (':' '=') in feature names
    model = LGBMClassifier(**params).fit(values[train], y[train], sample_weight=w)
    auc = float(roc_auc_score(y[test], model.predict_proba(values[test])[:, 1])) if held_pos.any() else float("nan")
    both = np.concatenate([pos, neg])
    share = pos.size / both.size
    final = LGBMClassifier(**params).fit(values[both], y[both],
                                         sample_weight=np.where(y[both] == 1, 0.5 / share, 0.5 / (1 - share)))
    score = final.predict_proba(values)[:, 1]
    scores = pd.DataFrame({"profile_id": X.index.astype(str), "score": score, "in_seed": in_seed})
    scores["rank"] = scores["score"].rank(ascending=False, method="first").astype(np.int64)
    gains = final.booster_.feature_importance(importance_type="gain")
    total = gains.sum() or 1.0
    importance = {name: float(g / total) for name, g in sorted(zip(X.columns, gains), key=lambda kv: -kv[1]) if g > 0}
    log.info("lookalike: %d seed profiles, held-out AUC %.3f", n_seed, auc)
    return LookalikeResult(scores=scores.sort_values("rank").reset_index(drop=True), holdout_auc=auc, n_seed=n_seed,
                           features=list(X.columns), importance=importance)
