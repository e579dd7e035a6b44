"""Purchase propensity: the probability that a person buys (anything, or in one category) in the next
N days, from gradient-boosted trees (LightGBM) on point-in-time features, with calibrated probabilities.

**Model.** :class:`PropensityModel` learns the trees on all its rows and a calibrator that maps the
trees' raw score (margin) to a probability. The calibrator is fitted on held-out margins: the rows are
cut into `calibration_folds` folds (by `seed`; stratified by label, or by whole groups such as a
person seen at several cut-offs), each fold's margins come from trees fitted on the other folds, and
the calibrator learns from all these out-of-fold margins (scikit-learn's CalibratedClassifierCV with
``ensemble=False`` does the same). No row is lost to calibration. Calibrators:

- ``"platt"`` (default): p = 1 / (1 + exp(-(a m + b))) on the trees' margin m (Platt 1999). Monotone,
  so it keeps the trees' ranking (AUC, lift) exactly; two numbers; stable on small held-out sets.
- ``"isotonic"``: a non-decreasing step function of m (Zadrozny & Elkan 2002), more flexible with many
  rows but it turns scores into ties.

LightGBM runs with ``deterministic=True``, column-wise histograms, a fixed ``num_threads`` and the
model's ``seed`` (bagging and feature sampling), so a refit gives the same trees. The model file is
JSON: LightGBM's own text format for the trees and plain numbers for the calibrator (no pickle).

**Training data without leakage.** :func:`fit_propensity` fits at a cut-off T on what was known at
T: snapshots of features as of T - N, T - N - 30 days, ... each with its labels from the N days
after it (all before T). Stacking a few snapshots gives the trees more examples of how people behave
after a given history (on Online Retail it lifts the test AUC from 0.742 with one snapshot to 0.750
with four). With enough data after T it then evaluates on features as of T and labels from
[T, T + N), against the RFM baselines of :mod:`jingzhun.models.baseline` on the same people.
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
from jingzhun.models.frames import BEHAVIOUR_FEATURES, RECENT_FEATURES, data_end, moment, propensity_frame, window_end
from jingzhun.models.tabular import binary_outcome, check_rows, feature_matrix
from jingzhun.models.validation import ModelInputError
from jingzhun.warehouse import Warehouse

__all__ = ["PropensityModel", "fit_propensity", "training_frame", "propensity_features", "CALIBRATIONS"]

log = logging.getLogger(__name__)

CALIBRATIONS = ("platt", "isotonic")


class PropensityModel(Model):
    """Gradient-boosted trees with a calibrated probability. Fit on a features frame and 0/1 labels."""

    name: ClassVar[str] = "propensity"
    input_names: ClassVar[tuple[str, ...]] = ("features", "label")
    predict_input_names: ClassVar[tuple[str, ...]] = ("features",)

    def __init__(self, *, n_estimators: int = 200, learning_rate: float = 0.03, num_leaves: int = 7,
                 min_child_samples: int = 80, feature_fraction: float = 0.7, bagging_fraction: float = 0.8,
                 reg_lambda: float = 5.0, calibration: str = "platt", calibration_folds: int = 4,
                 seed: int = 0, num_threads: int = 1) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.reg_lambda = reg_lambda
        self.calibration = calibration
        self.calibration_folds = calibration_folds
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
        if isinstance(self.calibration_folds, bool) or int(self.calibration_folds) != self.calibration_folds \
                or self.calibration_folds < 2:
            raise ModelInputError(f"calibration_folds must be a whole number >= 2, got {self.calibration_folds!r}",
                                  field="calibration_folds")
        if int(self.n_estimators) < 1 or int(self.num_threads) < 1:
            raise ModelInputError("n_estimators and num_threads must be at least 1", field="n_estimators")

    def _folds(self, y: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        """A fold number per row. Without groups each class is spread evenly over the folds; with groups
        (a person seen at several cut-offs) whole groups are, so no fold model has seen the person whose
        margin it gives the calibrator."""
        k = int(self.calibration_folds)
        rng = np.random.default_rng(self.seed)
        folds = np.empty(y.size, dtype=np.int64)
        if groups is None:
            for cls in (0.0, 1.0):
                rows = rng.permutation(np.flatnonzero(y == cls))
                folds[rows] = np.arange(rows.size) % k
        else:
            _, codes = np.unique(groups, return_inverse=True)
            folds = (np.argsort(rng.permutation(codes.max() + 1)) % k)[codes]
        for fold in range(k):
            outside = y[folds != fold]
            if outside.min() == outside.max():
                raise ModelInputError("a fold of the data holds only buyers or only non-buyers: a propensity model "
                                      "needs both kinds in every fold (more data, or fewer calibration_folds)",
                                      field="label")
        return folds

    def _train(self, x: np.ndarray, y: np.ndarray, names: list[str]):
        import lightgbm as lgb  # imported when used: it takes a second to load

        data = lgb.Dataset(x, label=y, feature_name=names, free_raw_data=True,
                           params={"verbosity": -1, "seed": int(self.seed)})
        return lgb.train(self._lightgbm_params(), data, num_boost_round=int(self.n_estimators))

    def fit(self, features: pd.DataFrame, label: Any, *, groups: Any = None) -> PropensityModel:
        """Fit the calibrator on out-of-fold margins and the trees on all rows; returns self. ``groups``
        (one id per row, e.g. the profile) keeps each group's rows in one fold."""
        self._check_config()
        x, names = feature_matrix(features, allow_missing=True)
        y = binary_outcome("label", label)
        check_rows(x.shape[0], label=y, **({} if groups is None else {"groups": np.asarray(groups)}))
        if y.min() == y.max():
            raise ModelInputError("the labels are all " + ("1" if y[0] else "0") + ": a propensity model needs "
                                  "buyers and non-buyers", field="label")
        folds = self._folds(y, None if groups is None else np.asarray(groups))
        margin = np.empty(y.size)
        for fold in range(int(self.calibration_folds)):
            inside = folds == fold
            margin[inside] = self._train(x[~inside], y[~inside], names).predict(x[inside], raw_score=True)
        self.booster_ = self._train(x, y, names)
        self.feature_names_ = names
        self.calibrator_ = self._fit_calibrator(margin, y)
        self.n_customers_ = int(y.size)
        calibrated = self._calibrate(margin)
        self.fit_info_ = {
            "n_rows": int(y.size), "base_rate": float(y.mean()), "calibration_folds": int(self.calibration_folds),
            "out_of_fold_auc": auc(y, calibrated),
            "out_of_fold_ece_raw": expected_calibration_error(y, 1.0 / (1.0 + np.exp(-margin))),
            "out_of_fold_ece": expected_calibration_error(y, calibrated),
        }
        self.params_ = {"n_trees": float(self.booster_.num_trees()),
                        **{k: float(v) for k, v in self.calibrator_.items() if k in ("slope", "intercept")}}
        log.info("PropensityModel fitted on %d rows, base rate %.3f, out-of-fold AUC %.4f", y.size, y.mean(),
                 self.fit_info_["out_of_fold_auc"])
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
    names = [*BEHAVIOUR_FEATURES, *RECENT_FEATURES, "overdue"]
    if "category_share" in frame.columns:
        names.append("category_share")
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


def training_frame(warehouse: Warehouse, cutoff: Any, horizon_days: int, *, snapshots: int = 4,
                   step_days: int = 30, category: str | None = None, timezone: str = "UTC") -> pd.DataFrame:
    """Propensity frames at the cut-offs ``cutoff - horizon_days - k * step_days`` (k = 0 ..
    snapshots - 1) stacked, with a ``snapshot`` column: every label window ends by ``cutoff``, so
    nothing at or after it is read. A person appears once per snapshot that saw a purchase of theirs;
    snapshots before the data begin are left out."""
    cutoff = moment(cutoff)
    if int(snapshots) < 1 or int(step_days) < 1:
        raise ModelInputError("snapshots and step_days must be at least 1", field="snapshots")
    parts = []
    for k in range(int(snapshots)):
        at = cutoff - timedelta(days=horizon_days + k * int(step_days))
        frame = propensity_frame(warehouse, at, horizon_days, category=category, timezone=timezone)
        if len(frame):
            parts.append(frame.assign(snapshot=at.isoformat()))
    if not parts:
        raise ModelInputError(f"no purchases before {(cutoff - timedelta(days=horizon_days)).date()}: nothing to learn "
                              "from; choose a later cut-off", field="cutoff")
    return pd.concat(parts, ignore_index=True)


def fit_propensity(warehouse: Warehouse, cutoff: Any, horizon_days: int = 90, *, category: str | None = None,
                   seed: int = 0, timezone: str = "UTC", snapshots: int = 4, step_days: int = 30,
                   model: PropensityModel | None = None,
                   evaluate: bool | None = None) -> tuple[PropensityModel, dict[str, Any]]:
    """Fit "buys (in ``category``) within ``horizon_days``" as known at ``cutoff``; returns the model and
    a report.

    The model learns from :func:`training_frame` (``snapshots`` cut-offs ``step_days`` apart, the
    latest at ``cutoff - horizon_days``, each with its labels up to ``cutoff`` at most): nothing at
    or after ``cutoff`` is read for the fit. ``evaluate`` (default: when the warehouse's orders reach
    the end of [cutoff, cutoff + horizon_days), give or take a day) adds the out-of-time test:
    features as of ``cutoff``, labels from that window, the model's AUC, Brier, ECE, calibration and
    lift tables, against the RFM baselines fitted on the same training frame. ``model`` is a
    configured, unfitted model to use instead of the defaults (its ``seed`` is then its own).
    """
    cutoff = moment(cutoff)
    end = window_end(cutoff, horizon_days)
    train = training_frame(warehouse, cutoff, horizon_days, snapshots=snapshots, step_days=step_days,
                           category=category, timezone=timezone)
    estimator = PropensityModel(seed=seed) if model is None else type(model)(**model.get_params())
    estimator.fit(propensity_features(train), train.label, groups=train.profile_id)
    by_snapshot = train.groupby("snapshot", sort=True).label
    report: dict[str, Any] = {
        "cutoff": cutoff.isoformat(), "horizon_days": horizon_days, "category": category,
        "snapshots": [{"cutoff": k, "n": int(g.size), "base_rate": float(g.mean())} for k, g in by_snapshot],
        "n_train": int(len(train)), "train_base_rate": float(train.label.mean()), "fit": estimator.fit_info_,
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
