"""Uplift: who responds *because of* a treatment, learned from a randomised experiment.

Three estimators of the individual treatment effect tau(x) = P(y | x, treated) - P(y | x, control):

* :class:`TwoModelUplift` — one response model per group, the difference of their predictions;
* :class:`ClassTransformationUplift` — Jaskowski & Jaroszewicz (2012): the class z = 1 when (treated and
  responded) or (control and did not respond); with the groups weighted to equal size,
  tau(x) = 2 P(z = 1 | x) - 1, one model instead of two;
* :class:`XLearner` — Kuenzel, Sekhon, Bickel & Yu (2019): response models per group, then models of
  each group's imputed effects, blended by the treatment propensity.

The base learners are LightGBM models with few, shallow trees, one thread and a seed, so a fit is
deterministic. The models are :class:`jingzhun.models.base.Model` s: they save to JSON (the boosters as
LightGBM's text) and go into the model registry. Evaluation: :func:`qini_curve`, :func:`uplift_curve`,
:func:`qini_coefficient`, :func:`auuc` on held-out data (definitions in docs/measurement.md);
:func:`uplift_policy` picks whom to treat under a budget.

The loop: :func:`campaign_experiment` (or :func:`experiment_data` on frames) turns a finished
randomised campaign into features, treatment and outcome; :func:`fit_uplift` learns from it and measures
the Qini on a held-out share; :func:`score_uplift` registers the model and writes its predictions as the
``uplift`` score, by which a campaign can rank its audience (``score('uplift')``).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from jingzhun.errors import InputError
from jingzhun.models.base import Model
from jingzhun.models.store import fingerprint, register, write_scores
from jingzhun.warehouse import Warehouse

__all__ = ["TwoModelUplift", "ClassTransformationUplift", "XLearner", "UPLIFT_MODELS", "qini_curve",
           "uplift_curve", "qini_coefficient", "auuc", "uplift_policy", "PolicyResult", "ExperimentData",
           "experiment_data", "campaign_experiment", "fit_uplift", "score_uplift", "load_uplift"]

log = logging.getLogger(__name__)


def _lgbm_params(seed: int, n_estimators: int, learning_rate: float, num_leaves: int, min_child_samples: int) -> dict:
    return dict(n_estimators=n_estimators, learning_rate=learning_rate, num_leaves=num_leaves,
                min_child_samples=min_child_samples, subsample=1.0, colsample_bytree=1.0, random_state=seed,
                deterministic=True, force_row_wise=True, num_threads=1, verbose=-1)


def _inputs(X, treatment, y=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    x = np.asarray(X, dtype=np.float64)
    if x.ndim != 2:
        raise InputError(f"features must be a 2-d table, got shape {x.shape}", field="X")
    t = np.asarray(treatment)
    if t.shape[0] != x.shape[0]:
        raise InputError(f"{x.shape[0]} feature rows but {t.shape[0]} treatment flags", field="treatment")
    if not np.isin(t, (0, 1, True, False)).all():
        raise InputError("treatment must be 0/1 (or true/false) for every row", field="treatment")
    t = t.astype(bool)
    if t.all() or (~t).all():
        raise InputError("both treated and control rows are needed to learn uplift", field="treatment")
    if y is None:
        return x, t, None
    out = np.asarray(y, dtype=np.float64)
    if out.shape[0] != x.shape[0] or not np.isin(out, (0.0, 1.0)).all():
        raise InputError("the outcome must be 0/1, one per row", field="y")
    return x, t, out


def _feature_names(X) -> list[str] | None:
    return [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else None


class _Base(Model):
    """Parameters in __init__, fitted state in *_ attributes (the LightGBM boosters in ``boosters_``),
    predict() gives tau(x)."""

    # conservative defaults: uplift signals are small differences of noisy rates, and deeper trees fit noise
    # (on Hillstrom's visits 7 leaves and 500 people per leaf doubled the held-out Qini of 15 and 100)
    def __init__(self, *, n_estimators: int = 100, learning_rate: float = 0.05, num_leaves: int = 7,
                 min_child_samples: int = 500, seed: int = 0) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.seed = seed

    def _params(self) -> dict:
        return _lgbm_params(self.seed, self.n_estimators, self.learning_rate, self.num_leaves, self.min_child_samples)

    def _classifier(self, x, y, weight=None):
        from lightgbm import LGBMClassifier

        return LGBMClassifier(**self._params()).fit(x, y, sample_weight=weight).booster_

    def _regressor(self, x, y):
        from lightgbm import LGBMRegressor

        return LGBMRegressor(**self._params()).fit(x, y).booster_

    def _fitted(self, X, t: np.ndarray, boosters: dict, **extra: float) -> None:
        self.boosters_ = boosters
        self.feature_names_ = _feature_names(X)
        self.params_ = {"n": float(t.size), "treated_share": float(t.mean()), **extra}

    def _predict(self, role: str, X) -> np.ndarray:
        """A booster's prediction: the probability of a classifier, the value of a regressor."""
        self._check_fitted()
        if self.feature_names_ is not None and isinstance(X, pd.DataFrame):
            X = _columns(X, self.feature_names_)
        return self.boosters_[role].predict(np.asarray(X, dtype=np.float64))

    def _state(self) -> dict[str, Any]:
        return {"params": self.params_, "feature_names": self.feature_names_,
                "boosters": {role: b.model_to_string(num_iteration=-1) for role, b in self.boosters_.items()}}

    def _set_state(self, state: dict[str, Any]) -> None:
        import lightgbm as lgb

        self.boosters_ = {role: lgb.Booster(model_str=text) for role, text in state["boosters"].items()}
        self.feature_names_ = state.get("feature_names")
        self.params_ = {k: float(v) for k, v in state["params"].items()}


def _columns(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise InputError(f"the features lack the column(s) the model was fitted on: {', '.join(missing[:5])}"
                         f"{' ...' if len(missing) > 5 else ''}", field=missing[0])
    return frame.loc[:, names]


class TwoModelUplift(_Base):
    name = "two_model"

    def fit(self, X, treatment, y) -> "TwoModelUplift":
        x, t, out = _inputs(X, treatment, y)
        self._fitted(X, t, {"treated": self._classifier(x[t], out[t]), "control": self._classifier(x[~t], out[~t])})
        return self

    def predict(self, X) -> np.ndarray:
        return self._predict("treated", X) - self._predict("control", X)


class ClassTransformationUplift(_Base):
    name = "class_transformation"

    def fit(self, X, treatment, y) -> "ClassTransformationUplift":
        x, t, out = _inputs(X, treatment, y)
        z = np.where(t, out, 1.0 - out)
        # weight the groups to equal size: the transformation assumes P(treated) = 1/2
        share = t.mean()
        weight = np.where(t, 0.5 / share, 0.5 / (1.0 - share))
        self._fitted(X, t, {"z": self._classifier(x, z, weight)})
        return self

    def predict(self, X) -> np.ndarray:
        return 2.0 * self._predict("z", X) - 1.0


class XLearner(_Base):
    name = "x_learner"

    def fit(self, X, treatment, y) -> "XLearner":
        x, t, out = _inputs(X, treatment, y)
        mu1 = self._classifier(x[t], out[t])
        mu0 = self._classifier(x[~t], out[~t])
        d1 = out[t] - mu0.predict(x[t])
        d0 = mu1.predict(x[~t]) - out[~t]
        # randomised: the propensity is a constant, the treated share
        self._fitted(X, t, {"tau1": self._regressor(x[t], d1), "tau0": self._regressor(x[~t], d0)})
        return self

    def predict(self, X) -> np.ndarray:
        self._check_fitted()
        g = self.params_["treated_share"]
        return g * self._predict("tau0", X) + (1.0 - g) * self._predict("tau1", X)


UPLIFT_MODELS = {cls.name: cls for cls in (TwoModelUplift, ClassTransformationUplift, XLearner)}


# -- evaluation ------------------------------------------------------------------------------------------
def _ranked(score, treatment, y) -> pd.DataFrame:
    s = np.asarray(score, dtype=np.float64)
    t = np.asarray(treatment).astype(bool)
    out = np.asarray(y, dtype=np.float64)
    if not (s.shape == t.shape == out.shape):
        raise InputError("score, treatment and outcome must have one value per person", field="score")
    # highest score first; ties in random-free, stable order of the input
    order = np.argsort(-s, kind="stable")
    t, out = t[order], out[order]
    return pd.DataFrame({"n": np.arange(1, s.size + 1), "n_t": np.cumsum(t), "n_c": np.cumsum(~t),
                         "y_t": np.cumsum(out * t), "y_c": np.cumsum(out * ~t)})


def qini_curve(score, treatment, y) -> pd.DataFrame:
    """Cumulative incremental responders when targeting the top n by score:
    ``Q(n) = Y_t(n) - Y_c(n) N_t(n) / N_c(n)`` (0 while no control is in), with the random line
    ``n / N * Q(N)``."""
    r = _ranked(score, treatment, y)
    ratio = np.divide(r.n_t, r.n_c, out=np.zeros(len(r)), where=r.n_c > 0)
    q = r.y_t - r.y_c * ratio
    total = float(q.iloc[-1])
    return pd.DataFrame({"n": r.n, "share": r.n / len(r), "qini": q, "random": r.n / len(r) * total})


def uplift_curve(score, treatment, y) -> pd.DataFrame:
    """``U(n) = (Y_t(n) / N_t(n) - Y_c(n) / N_c(n)) * n``: the uplift of the top n, scaled to n people."""
    r = _ranked(score, treatment, y)
    rate_t = np.divide(r.y_t, r.n_t, out=np.zeros(len(r)), where=r.n_t > 0)
    rate_c = np.divide(r.y_c, r.n_c, out=np.zeros(len(r)), where=r.n_c > 0)
    u = (rate_t - rate_c) * r.n
    total = float(u.iloc[-1])
    return pd.DataFrame({"n": r.n, "share": r.n / len(r), "uplift": u, "random": r.n / len(r) * total})


def qini_coefficient(score, treatment, y) -> float:
    """Area between the Qini curve and the random line, per person (trapezoids over the share targeted):
    positive when the ranking finds responders caused by the treatment better than chance."""
    c = qini_curve(score, treatment, y)
    share = np.concatenate([[0.0], c.share.to_numpy()])
    gap = np.concatenate([[0.0], (c.qini - c.random).to_numpy()])
    return float(np.trapezoid(gap, share) / len(c))


def auuc(score, treatment, y) -> float:
    """Area under the uplift curve, per person, minus the random ranking's area."""
    c = uplift_curve(score, treatment, y)
    share = np.concatenate([[0.0], c.share.to_numpy()])
    gap = np.concatenate([[0.0], (c.uplift - c.random).to_numpy()])
    return float(np.trapezoid(gap, share) / len(c))


@dataclass(frozen=True)
class PolicyResult:
    selected: np.ndarray  # positions of the people to treat, best first
    expected_incremental: float  # sum of predicted uplift x value over them
    cost: float


def uplift_policy(predicted_uplift, *, budget: float, cost=1.0, value=1.0, only_positive: bool = True) -> PolicyResult:
    """Treat the people with the most predicted incremental value per unit cost, until ``budget`` is spent.

    ``cost`` and ``value`` are scalars or one per person; ``only_positive`` never treats someone whose
    predicted uplift is not positive (a sleeping dog is worse off treated).
    """
    u = np.asarray(predicted_uplift, dtype=np.float64)
    c = np.broadcast_to(np.asarray(cost, dtype=np.float64), u.shape)
    v = np.broadcast_to(np.asarray(value, dtype=np.float64), u.shape)
    if (c <= 0).any():
        raise InputError("every cost must be positive", field="cost")
    gain = u * v
    order = np.argsort(-(gain / c), kind="stable")
    if only_positive:
        order = order[gain[order] > 0]
    spent = np.cumsum(c[order])
    chosen = order[spent <= budget + 1e-9]
    return PolicyResult(selected=chosen, expected_incremental=float(gain[chosen].sum()), cost=float(c[chosen].sum()))


# -- the loop: experiment -> model -> scores ---------------------------------------------------------------
@dataclass(frozen=True)
class ExperimentData:
    """A randomised experiment as a model learns from it: one row per person."""

    profile_id: np.ndarray
    X: pd.DataFrame          # features (NaN where a person has none)
    treatment: np.ndarray    # 1 treated, 0 held out
    y: np.ndarray            # 1 responded (converted), 0 not

    def split(self, holdout: float, seed: int) -> tuple["ExperimentData", "ExperimentData"]:
        """(train, test): a random ``holdout`` share of the people, stratified by treatment, for the test."""
        if not 0.0 < holdout < 1.0:
            raise InputError(f"holdout must be a share between 0 and 1, got {holdout!r}", field="holdout")
        rng = np.random.default_rng(seed)
        test = np.zeros(len(self.y), dtype=bool)
        for arm in (0, 1):
            who = np.flatnonzero(self.treatment == arm)
            test[rng.permutation(who)[: int(round(holdout * len(who)))]] = True
        return self._take(~test), self._take(test)

    def _take(self, mask: np.ndarray) -> "ExperimentData":
        return ExperimentData(self.profile_id[mask], self.X[mask].reset_index(drop=True), self.treatment[mask],
                              self.y[mask])


def experiment_data(assignments: pd.DataFrame, responders, features: pd.DataFrame, *,
                    feature_names: list[str] | None = None) -> ExperimentData:
    """Join who was treated, who responded and their features into model inputs, sorted by profile_id.

    ``assignments``: profile_id and ``treated`` (bool) or ``arm`` ('control' = held out);
    ``responders``: the profile ids that responded (a sequence, or a frame with profile_id; repeats count
    once); ``features``: profile_id and feature columns (``feature_names``, default all the others). People
    without a features row keep NaN features, which the gradient-boosted base learners treat as a branch.
    """
    if "profile_id" not in assignments.columns or not {"treated", "arm"} & set(assignments.columns):
        raise InputError("assignments need profile_id and treated (or arm, 'control' for the held out)",
                         field="assignments")
    if assignments.profile_id.duplicated().any():
        raise InputError("a person is assigned twice; give one row per person", field="profile_id")
    treated = (assignments.treated.astype(bool) if "treated" in assignments.columns
               else assignments.arm.astype(str) != "control")
    ids = responders.profile_id if isinstance(responders, pd.DataFrame) else pd.Series(list(responders), dtype=object)
    names = feature_names or [c for c in features.columns if c != "profile_id"]
    people = pd.DataFrame({"profile_id": assignments.profile_id.to_numpy(), "_t": treated.to_numpy()})
    people = people.sort_values("profile_id", kind="stable").reset_index(drop=True)
    X = people[["profile_id"]].merge(_columns(features, ["profile_id", *names]).drop_duplicates("profile_id"),
                                     on="profile_id", how="left")
    return ExperimentData(profile_id=people.profile_id.to_numpy(), X=X[names].astype("float64"),
                          treatment=people._t.to_numpy().astype(np.int64),
                          y=people.profile_id.isin(set(ids)).to_numpy().astype(np.int64))


def campaign_experiment(warehouse: Warehouse, campaign_id: str, features: ir.Table | pd.DataFrame, *,
                        response: str = "conversion", feature_names: list[str] | None = None) -> ExperimentData:
    """A finished campaign's experiment: its ``assignments`` (arm 'control' = held out), whether each
    person gave ``response`` to one of its deliveries (``responses`` joined to ``deliveries``), and
    their features (``buyers_as_of`` or ``profile_features`` columns)."""
    a = warehouse.table("assignments")
    assigned = warehouse.execute(a.filter(a.campaign_id == campaign_id).select("profile_id", "arm"))
    if assigned.empty:
        raise InputError(f"campaign {campaign_id!r} has no assignments: run it (with a control group) first",
                         field="campaign_id")
    d, r = warehouse.table("deliveries"), warehouse.table("responses")
    mine = d.filter(d.campaign_id == campaign_id).select("delivery_id")
    hits = r.filter(r.response == response).semi_join(mine, "delivery_id").select("profile_id").distinct()
    responders = warehouse.execute(hits).profile_id
    if isinstance(features, ir.Table):
        names = feature_names or [c for c in features.columns if c != "profile_id"]
        features = warehouse.execute(features.select("profile_id", *names))
    return experiment_data(assigned, responders, features, feature_names=feature_names)


def fit_uplift(data: ExperimentData, *, kind: str = "x_learner", holdout: float = 0.3, seed: int = 0,
               **params) -> tuple[_Base, dict[str, Any]]:
    """Fit an uplift model (``kind`` of UPLIFT_MODELS) on ``1 - holdout`` of the people and measure it on
    the rest: returns the model and its metrics (Qini coefficient and AUUC on the held-out people, with the
    same figures for a random ranking's expectation, 0, implied)."""
    if kind not in UPLIFT_MODELS:
        raise InputError(f"unknown uplift model {kind!r}; use one of {', '.join(sorted(UPLIFT_MODELS))}", field="kind")
    train, test = data.split(holdout, seed)
    model = UPLIFT_MODELS[kind](seed=seed, **params).fit(train.X, train.treatment, train.y)
    predicted = model.predict(test.X)
    metrics = {
        "kind": kind, "n_train": int(len(train.y)), "n_test": int(len(test.y)), "holdout": holdout,
        "qini": qini_coefficient(predicted, test.treatment, test.y), "auuc": auuc(predicted, test.treatment, test.y),
        "observed_uplift": float(test.y[test.treatment == 1].mean() - test.y[test.treatment == 0].mean()),
    }
    log.info("%s uplift: Qini %.5f on %d held-out people", kind, metrics["qini"], metrics["n_test"])
    return model, metrics


def score_uplift(warehouse: Warehouse, model: _Base, features: ir.Table | pd.DataFrame, *, name: str = "uplift",
                 directory: str | os.PathLike, metrics: dict[str, Any] | None = None, as_of: Any = None,
                 data_fingerprint: str | None = None) -> dict[str, Any]:
    """Register ``model`` under ``name`` (with ``metrics``, e.g. from :func:`fit_uplift`) and write its
    predicted uplift for every profile of ``features`` as the score ``name``, replacing the old values.

    ``features`` holds profile_id and the columns the model was fitted on (by name when it was fitted on
    a frame). Returns the model id and the rows written."""
    model._check_fitted()
    names = model.feature_names_
    if isinstance(features, ir.Table):
        features = warehouse.execute(features.select("profile_id", *(names or [])) if names else features)
    if names is None:
        names = [c for c in features.columns if c != "profile_id"]
    frame = _columns(features, ["profile_id", *names]).drop_duplicates("profile_id")
    record = register(warehouse, model, name, as_of=as_of, data_fingerprint=data_fingerprint or fingerprint(warehouse),
                      metrics=metrics, directory=directory)
    scores = pd.DataFrame({"profile_id": frame.profile_id.to_numpy(), "score": name,
                           "value": model.predict(frame[names].astype("float64"))})
    written = write_scores(warehouse, ibis.memtable(scores), record.model_id)
    return {"model_id": record.model_id, "scores": {name: written}, "metrics": metrics or {}}


def load_uplift(path: str | os.PathLike) -> _Base:
    """An uplift model saved by ``save`` (or registered by :func:`score_uplift`), whatever its kind.

    The model-class registry of ``jingzhun.models`` does not know these (they live in a later layer), so
    read them here."""
    try:
        kind = json.loads(Path(path).read_text(encoding="utf-8")).get("model")
    except (OSError, ValueError, AttributeError) as exc:
        raise InputError(f"cannot read a model from it: {exc}", file=str(path)) from exc
    by_class = {cls.__name__: cls for cls in UPLIFT_MODELS.values()}
    if kind not in by_class:
        raise InputError(f"not an uplift model ({kind!r}); known: {', '.join(sorted(by_class))}", file=str(path))
    return by_class[kind].load(path)
