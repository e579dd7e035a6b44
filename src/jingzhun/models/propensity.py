"""Purchase propensity: the probability that a person buys (anything, or in one category) in the next
N days, from gradient-boosted trees (LightGBM) on point-in-time features, with calibrated probabilities.

**Model.** :class:`PropensityModel` splits its training rows (stratified by label, by `seed`) into a
part for the trees and a held-out part (`calibration_fraction`) on which a calibrator maps the trees'
raw score to a probability:

- ``"platt"`` (default): p = 1 / (1 + exp(-(a m + b))) on the trees' margin m (Platt 1999). Monotone,
  so it keeps the trees' ranking (AUC, lift) exactly; two numbers; stable on small held-out sets.
- ``"isotonic"``: a non-decreasing step function of m (Zadrozny & Elkan 2002), more flexible with many
  rows but it turns scores into ties.

LightGBM runs with ``deterministic=True``, column-wise histograms, a fixed ``num_threads`` and the
model's ``seed`` (bagging and feature sampling), so a refit gives the same trees. The model file is
JSON: LightGBM's own text format for the trees and plain numbers for the calibrator (no pickle).

**Training data without leakage.** :func:`fit_propensity` fits at a cut-off T on what was known at
T: features as of T - N and labels from [T - N, T). With enough data after T it then evaluates on
features as of T and labels from [T, T + N), against the RFM baselines of
:mod:`jingzhun.models.baseline` on the same people.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from jingzhun.errors import InputError
from jingzhun.models.base import Model
from jingzhun.models.baseline import RFMLogistic, rfm_score
from jingzhun.models.evaluation import auc, classification_report, expected_calibration_error, lift_table
from jingzhun.models.frames import BEHAVIOUR_FEATURES, data_end, moment, propensity_frame, window_end
from jingzhun.models.tabular import binary_outcome, check_rows, feature_matrix
from jingzhun.models.validation import ModelInputError
from jingzhun.warehouse import Warehouse

__all__ = ["PropensityModel", "fit_propensity", "propensity_features", "CALIBRATIONS"]

log = logging.getLogger(__name__)

CALIBRATIONS = ("platt", "isotonic")


class PropensityModel(Model):
    """Gradient-boosted trees with a calibrated probability. Fit on a features frame and 0/1 labels."""

    name: ClassVar[str] = "propensity"
    input_names: ClassVar[tuple[str, ...]] = ("features", "label")
    predict_input_names: ClassVar[tuple[str, ...]] = ("features",)

    def __init__(self, *, n_estimators: int = 300, learning_rate: float = 0.03, num_leaves: int = 15,
                 min_child_samples: int = 40, feature_fraction: float = 0.8, bagging_fraction: float = 0.8,
                 reg_lambda: float = 1.0, calibration: str = "platt", calibration_fraction: float = 0.25,
                 seed: int = 0, num_threads: int = 1) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.reg_lambda = reg_lambda
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.seed = seed
        self.num_threads = num_threads

    # -- fitting -----------------------------------------------------------------------------------
    def _lightgbm_params(self) -> dict[str, Any]:
        return {
            "objective": "binary", "learning_rate": float(self.learning_rate), "num_leaves": int(self.num_leaves),
            "min_data_in_leaf": int(self.min_child_samples), "feature_fraction": float(self.feature_fraction),
            "bagging_fraction": float(self.bagging_fraction), "bagging_freq": 1 if self.bagging_fraction < 1 else 0,
            "lambda_l2": float(self.reg_lambda), "seed": int(self.seed), "deterministic": True,
            "force_col_wise": True, "num_threads": int(self.num_threads), "verbosity": -1,
        }

    def _check_config(self) -> None:
        if self.calibration not in CALIBRATIONS:
            raise ModelInputError(f"calibration must be one of {', '.join(CALIBRATIONS)}, got {self.calibration!r}",
                                  field="calibration")
        if not 0 < float(self.calibration_fraction) < 1:
            raise ModelInputError(f"calibration_fraction must be between 0 and 1, got {self.calibration_fraction!r}",
                                  field="calibration_fraction")
        if int(self.n_estimators) < 1 or int(self.num_threads) < 1:
            raise ModelInputError("n_estimators and num_threads must be at least 1", field="n_estimators")

    def _split(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row indices for the trees and for the calibrator: the same share of each class held out."""
        rng = np.random.default_rng(self.seed)
        held = []
        for cls in (0.0, 1.0):
            rows = np.flatnonzero(y == cls)
            if rows.size < 2:
                raise ModelInputError(f"the labels hold {rows.size} {'positive' if cls else 'negative'} "
                                      "people: a propensity model needs at least 2 of each", field="label")
            n_held = min(max(1, int(round(rows.size * float(self.calibration_fraction)))), rows.size - 1)
            held.append(rng.permutation(rows)[:n_held])
        calibration = np.sort(np.concatenate(held))
        train = np.setdiff1d(np.arange(y.size), calibration)
        return train, calibration

    def fit(self, features: pd.DataFrame, label: Any) -> PropensityModel:
        """Fit the trees on part of the rows and the calibrator on the rest; returns self."""
        self._check_config()
        x, names = feature_matrix(features, allow_missing=True)
        y = binary_outcome("label", label)
        check_rows(x.shape[0], label=y)
        train, held = self._split(y)
        import lightgbm as lgb  # imported when used: it takes a second to load

        data = lgb.Dataset(x[train], label=y[train], feature_name=names, free_raw_data=True,
                           params={"verbosity": -1, "seed": int(self.seed)})
        booster = lgb.train(self._lightgbm_params(), data, num_boost_round=int(self.n_estimators))
        margin = booster.predict(x[held], raw_score=True)
        calibrator = self._fit_calibrator(margin, y[held])

        self.booster_ = booster
        self.feature_names_ = names
        self.calibrator_ = calibrator
        self.n_customers_ = int(y.size)
        calibrated = self._calibrate(margin)
        raw = 1.0 / (1.0 + np.exp(-margin))
        self.fit_info_ = {
            "n_train": int(train.size), "n_calibration": int(held.size), "base_rate": float(y.mean()),
            "calibration_auc": auc(y[held], calibrated),
            "calibration_ece_raw": expected_calibration_error(y[held], raw),
            "calibration_ece": expected_calibration_error(y[held], calibrated),
        }
        self.params_ = {"n_trees": float(booster.num_trees()), **{k: float(v) for k, v in calibrator.items()
                                                                   if k in ("slope", "intercept")}}
        log.info("PropensityModel fitted on %d people (%d for the trees, %d to calibrate), base rate %.3f",
                 y.size, train.size, held.size, y.mean())
        return self

    def _fit_calibrator(self, margin: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        from sklearn.isotonic import IsotonicRegression  # only fitting needs scikit-learn
        from sklearn.linear_model import LogisticRegression

        if self.calibration == "platt":
            lr = LogisticRegression(C=1e6, max_iter=1000).fit(margin.reshape(-1, 1), y)
            return {"kind": "platt", "slope": float(lr.coef_[0, 0]), "intercept": float(lr.intercept_[0])}
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(margin, y)
        return {"kind": "isotonic", "x": [float(v) for v in iso.X_thresholds_],
                "y": [float(v) for v in iso.y_thresholds_]}

    def _calibrate(self, margin: np.ndarray) -> np.ndarray:
        c = self.calibrator_
        if c["kind"] == "platt":
            return 1.0 / (1.0 + np.exp(-(c["slope"] * margin + c["intercept"])))
        return np.interp(margin, np.asarray(c["x"]), np.asarray(c["y"]))

    # -- predicting --------------------------------------------------------------------------------
    def _margin(self, features: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        x, _ = feature_matrix(features, columns=self.feature_names_, allow_missing=True)
        return self.booster_.predict(x, raw_score=True)

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of buying, one per row of ``features`` (columns by name)."""
        return self._calibrate(self._margin(features))

    def predict_uncalibrated(self, features: pd.DataFrame) -> np.ndarray:
        """The trees' own probability before calibration (for comparison)."""
        return 1.0 / (1.0 + np.exp(-self._margin(features)))

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """The model's main prediction: `predict_proba(features)`."""
        return self.predict_proba(features)

    def feature_importance(self) -> pd.Series:
        """Total gain of each feature's splits, largest first (ties by name)."""
        self._check_fitted()
        gain = pd.Series(self.booster_.feature_importance(importance_type="gain"), index=self.feature_names_)
        return gain.sort_index().sort_values(ascending=False, kind="stable")

    # -- persistence -------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"params": self.params_, "n_customers": self.n_customers_, "feature_names": self.feature_names_,
                "calibrator": self.calibrator_, "fit": self.fit_info_,
                "booster": self.booster_.model_to_string(num_iteration=-1)}

    def _set_state(self, state: dict[str, Any]) -> None:
        import lightgbm as lgb

        try:
            self.booster_ = lgb.Booster(model_str=state["booster"])
            self.feature_names_ = [str(n) for n in state["feature_names"]]
            self.calibrator_ = dict(state["calibrator"])
            self.n_customers_ = int(state["n_customers"])
        except (KeyError, TypeError, lgb.basic.LightGBMError) as exc:
            raise InputError(f"the PropensityModel in the file is incomplete or damaged: {exc}") from exc
        self.fit_info_ = dict(state.get("fit") or {})
        self.params_ = {k: float(v) for k, v in (state.get("params") or {}).items()}


def propensity_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns of a propensity frame (behaviour, overdue, and the category share if any)."""
    names = [*BEHAVIOUR_FEATURES, "overdue"] + (["category_share"] if "category_share" in frame.columns else [])
    return frame[names]


def _evaluation(model: PropensityModel, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    """The model and the RFM baselines on the test frame (baselines fitted on the training frame)."""
    p = model.predict_proba(propensity_features(test))
    y = test.label.to_numpy()
    logistic = RFMLogistic().fit(train, train.label).predict_proba(test)
    score = rfm_score(test)
    summary = classification_report(y, p)
    return {
        "model": summary,
        "model_uncalibrated_ece": expected_calibration_error(y, model.predict_uncalibrated(propensity_features(test))),
        "rfm_logistic": classification_report(y, logistic),
        "rfm_score": {"auc": auc(y, score), "top_group_lift": float(lift_table(y, score).lift.iloc[0])},
    }


def fit_propensity(warehouse: Warehouse, cutoff: Any, horizon_days: int = 90, *, category: str | None = None,
                   seed: int = 0, timezone: str = "UTC", model: PropensityModel | None = None,
                   evaluate: bool | None = None) -> tuple[PropensityModel, dict[str, Any]]:
    """Fit "buys (in ``category``) within ``horizon_days``" as known at ``cutoff``; returns the model and
    a report.

    The model learns from features as of ``cutoff - horizon_days`` and labels from the window up to
    ``cutoff``: nothing at or after ``cutoff`` is read for the fit. ``evaluate`` (default: when the
    warehouse's orders reach the end of [cutoff, cutoff + horizon_days), give or take a day) adds
    the out-of-time test: features as of ``cutoff``, labels from that window, the model's AUC, Brier,
    ECE, calibration and lift tables, against the RFM baselines. ``model`` is a configured, unfitted
    model to use instead of the defaults (its ``seed`` is then its own).
    """
    cutoff = moment(cutoff)
    end = window_end(cutoff, horizon_days)
    train_cutoff = cutoff - timedelta(days=horizon_days)
    train = propensity_frame(warehouse, train_cutoff, horizon_days, category=category, timezone=timezone)
    estimator = PropensityModel(seed=seed) if model is None else type(model)(**model.get_params())
    estimator.fit(propensity_features(train), train.label)
    report: dict[str, Any] = {
        "cutoff": cutoff.isoformat(), "train_cutoff": train_cutoff.isoformat(), "horizon_days": horizon_days,
        "category": category, "n_train": int(len(train)), "train_base_rate": float(train.label.mean()),
        "fit": estimator.fit_info_,
        "top_features": {k: float(v) for k, v in estimator.feature_importance().head(10).items()},
    }
    if evaluate is None:
        last = data_end(warehouse)
        evaluate = last is not None and last >= end - timedelta(days=1)
    if evaluate:
        test = propensity_frame(warehouse, cutoff, horizon_days, category=category, timezone=timezone)
        report["test"] = _evaluation(estimator, train, test)
        log.info("propensity at %s: test AUC %.4f (RFM logistic %.4f), ECE %.4f", cutoff.date(),
                 report["test"]["model"]["auc"], report["test"]["rfm_logistic"]["auc"],
                 report["test"]["model"]["ece"])
    return estimator, report
