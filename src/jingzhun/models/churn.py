"""Churn: the hazard of lapsing, with covariates from profile features (Cox proportional hazards).

**Lapse.** A customer *lapses* when `lapse_days` pass without a purchase. For a moment t (the
*anchor*), the people at risk are those who bought before t and not lapsed at t (last purchase less
than `lapse_days` before it). Each is followed for `followup_days` after t: the *duration* is the time
from t to the lapse (an event), or `followup_days` when no lapse came (censored). Covariates are the
person's features as of t (:mod:`jingzhun.models.frames`): only the past at t explains the future.

**Model.** :class:`ChurnModel` fits lifelines' ``CoxPHFitter`` with a small ridge penalty
(`penalizer`): h(s | x) = h0(s) exp((x - xbar) . beta), s = days since the anchor (Cox 1972). Cox
rather than a parametric AFT model because the baseline hazard of a lapse is not smooth (a person who
stops buying lapses exactly `lapse_days` after the last purchase, so the time to lapse is bunched by
recency); Cox leaves h0 free and estimates it by Breslow's method, and its log partial hazard is a sum
of per-covariate terms beta_j (x_j - xbar_j), which is what a reason needs. The penalty keeps the
correlated purchase measures (frequency, spend, tenure) stable.

**Prediction.** `churn_risk` over `horizon_days` = P(lapse within the horizon) = 1 - S(h | x),
S(h | x) = exp(-H0(h) exp((x - xbar) . beta)), with H0 the Breslow baseline cumulative hazard read
linearly between event times (as lifelines' predictions at given times are). The model file holds
beta, xbar and H0 as JSON, so a loaded model predicts what lifelines did, without pickle.

**Reasons.** The covariates with the largest positive terms beta_j (x_j - xbar_j) for that person,
in words with the person's value and the typical (median) value of the people the model was fitted
on: "no purchase for 142 days (typical: 38); 1 purchase day (typical: 3)".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import ibis
import numpy as np
import pandas as pd

from jingzhun.errors import ConvergenceError, InputError
from jingzhun.models.base import Model
from jingzhun.models.frames import buyers_as_of, moment
from jingzhun.models.tabular import binary_outcome, check_rows, feature_matrix
from jingzhun.models.validation import ModelInputError, as_float_array, fail_where
from jingzhun.profile.clock import SECONDS_PER_DAY, epoch_seconds
from jingzhun.profile.keys import keyed_orders
from jingzhun.profile.rfm import is_purchase
from jingzhun.warehouse import Warehouse

__all__ = ["ChurnModel", "Covariate", "COVARIATES", "churn_covariates", "churn_frame", "fit_churn"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Covariate:
    """A churn covariate: how it is made from a feature, and how a reason names it."""

    name: str
    source: str              # the features column it comes from
    transform: str           # "identity" | "log1p" | "fill0"
    words: str               # the reason phrase, with {value} and {typical} (the source column's)


COVARIATES: tuple[Covariate, ...] = (
    Covariate("recency_days", "recency_days", "identity", "no purchase for {value} days (typical: {typical})"),
    Covariate("log_purchase_days", "purchase_days", "log1p", "{value} purchase days (typical: {typical})"),
    Covariate("log_monetary_mean", "monetary_mean", "log1p", "spends {value} per purchase day (typical: {typical})"),
    Covariate("tenure_days", "tenure_days", "identity", "a customer for {value} days (typical: {typical})"),
    Covariate("overdue", "overdue", "fill0",
              "{value} times the usual gap since the last purchase (typical: {typical})"),
    Covariate("return_rate", "return_rate", "fill0", "returns {value} of orders (typical: {typical})"),
    Covariate("discount_share", "discount_share", "fill0",
              "buys on discount {value} of the time (typical: {typical})"),
    Covariate("log_events_90d", "events_90d", "log1p",
              "{value} responses to messages in 90 days (typical: {typical})"),
)


def churn_covariates(features: pd.DataFrame) -> pd.DataFrame:
    """The covariates of :data:`COVARIATES` from a features frame (as from ``buyers_as_of``), with no
    missing values: measures a person does not have yet (an interval for a one-time buyer, a return
    rate without orders) count as 0."""
    out = {}
    for c in COVARIATES:
        raw = pd.to_numeric(features[c.source], errors="coerce").astype("float64")
        if c.transform == "log1p":
            out[c.name] = np.log1p(raw.fillna(0.0).clip(lower=0.0))
        elif c.transform == "fill0":
            out[c.name] = raw.fillna(0.0)
        else:
            out[c.name] = raw
    return pd.DataFrame(out, index=features.index)


class ChurnModel(Model):
    """Cox proportional hazards of lapsing; predicts the risk of a lapse within `horizon_days`."""

    name: ClassVar[str] = "churn"
    input_names: ClassVar[tuple[str, ...]] = ("features", "duration", "event")
    predict_input_names: ClassVar[tuple[str, ...]] = ("features",)

    def __init__(self, *, horizon_days: int = 90, penalizer: float = 0.01, lapse_days: int = 180,
                 n_reasons: int = 2) -> None:
        self.horizon_days = horizon_days
        self.penalizer = penalizer
        self.lapse_days = lapse_days
        self.n_reasons = n_reasons

    def fit(self, features: pd.DataFrame, duration: Any, event: Any) -> ChurnModel:
        """Fit on covariates (no missing values), days to the lapse or censoring, and 1 = lapsed."""
        x, names = feature_matrix(features, allow_missing=False)
        d = as_float_array("duration", duration)
        e = binary_outcome("event", event)
        check_rows(x.shape[0], duration=d, event=e)
        fail_where(d < 0, "duration is negative", field="duration", source=duration)
        if not e.any():
            raise ModelInputError("no lapse among the people given (event is 0 for all): nothing to learn from",
                                  field="event")
        if not (np.isfinite(float(self.penalizer)) and float(self.penalizer) >= 0):
            raise ModelInputError(f"penalizer must be a non-negative number, got {self.penalizer!r}", field="penalizer")
        if float(self.horizon_days) <= 0 or float(self.horizon_days) > d.max():
            raise ModelInputError(f"horizon_days ({self.horizon_days}) must be positive and within the longest "
                                  f"follow-up ({d.max():g} days): the baseline hazard is unknown beyond it",
                                  field="horizon_days")
        from lifelines import CoxPHFitter  # imported here: it takes a second and only fitting needs it
        from lifelines.exceptions import ConvergenceError as LifelinesConvergenceError

        data = pd.DataFrame(x, columns=names)
        data["_duration"], data["_event"] = d, e
        try:
            cox = CoxPHFitter(penalizer=float(self.penalizer)).fit(data, "_duration", "_event")
        except (LifelinesConvergenceError, np.linalg.LinAlgError) as exc:
            raise ConvergenceError(f"the Cox model did not converge ({exc}); raise penalizer or drop constant "
                                   "or duplicated covariates") from exc
        hazard = cox.baseline_cumulative_hazard_.iloc[:, 0]
        self.params_ = {k: float(cox.params_[k]) for k in names}
        self.means_ = {k: float(cox._norm_mean[k]) for k in names}
        self.baseline_times_ = hazard.index.to_numpy(dtype=np.float64)
        self.baseline_cumulative_hazard_ = hazard.to_numpy(dtype=np.float64)
        self.feature_names_ = names
        # the median person (a lower median: an actual value, so it maps back through the transforms exactly)
        by_name = {c.name: c for c in COVARIATES}
        self.typical_ = {k: _natural(by_name.get(k), float(np.quantile(x[:, j], 0.5, method="lower")))
                         for j, k in enumerate(names)}
        self.n_customers_ = int(x.shape[0])
        self.log_likelihood_ = float(cox.log_likelihood_)
        self.fit_info_ = {"n_events": int(e.sum()), "concordance": float(cox.concordance_index_),
                          "max_duration": float(d.max()), "fitter": "lifelines CoxPHFitter, Breslow baseline"}
        log.info("ChurnModel fitted on %d people (%d lapses), concordance %.3f", x.shape[0], e.sum(),
                 cox.concordance_index_)
        return self

    # -- predicting --------------------------------------------------------------------------------
    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """beta_j (x_j - xbar_j) per person and covariate: the terms of the log partial hazard."""
        self._check_fitted()
        x, names = feature_matrix(features, columns=self.feature_names_, allow_missing=False)
        beta = np.array([self.params_[k] for k in names])
        mean = np.array([self.means_[k] for k in names])
        return pd.DataFrame((x - mean) * beta, columns=names, index=features.index)

    def cumulative_hazard(self, days: float) -> float:
        """H0(days): the baseline cumulative hazard `days` after the anchor, linear between the event
        times (as lifelines predicts at given times)."""
        self._check_fitted()
        return float(np.interp(float(days), self.baseline_times_, self.baseline_cumulative_hazard_))

    def survival(self, features: pd.DataFrame, days: float) -> np.ndarray:
        """P(no lapse within `days`) per person."""
        log_hazard = self.contributions(features).to_numpy().sum(axis=1)
        return np.exp(-self.cumulative_hazard(days) * np.exp(log_hazard))

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """The churn risk: P(lapse within `horizon_days`) per person."""
        return 1.0 - self.survival(features, float(self.horizon_days))

    def reasons(self, features: pd.DataFrame) -> list[str]:
        """Per person, the `n_reasons` covariates that raise the risk most, in words with the person's
        value and the typical one (both on the scale of the feature the covariate comes from)."""
        terms = self.contributions(features).to_numpy()
        by_name = {c.name: c for c in COVARIATES}
        order = np.argsort(-terms, axis=1, kind="stable")[:, : int(self.n_reasons)]
        out = []
        for i in range(terms.shape[0]):
            parts = []
            for j in order[i]:
                if terms[i, j] <= 0:
                    break
                name = self.feature_names_[j]
                spec = by_name.get(name)
                value = _natural(spec, float(features[name].iloc[i]))
                words = spec.words if spec is not None else name + " {value} (typical: {typical})"
                parts.append(words.format(value=_short(value), typical=_short(self.typical_[name])))
            out.append("; ".join(parts) if parts else "no risk factor above the usual")
        return out

    def _state(self) -> dict[str, Any]:
        return {"params": self.params_, "means": self.means_, "feature_names": self.feature_names_,
                "baseline": {"days": self.baseline_times_.tolist(),
                             "cumulative_hazard": self.baseline_cumulative_hazard_.tolist()},
                "typical": self.typical_, "n_customers": self.n_customers_, "log_likelihood": self.log_likelihood_,
                "fit": self.fit_info_}

    def _set_state(self, state: dict[str, Any]) -> None:
        try:
            self.feature_names_ = [str(n) for n in state["feature_names"]]
            self.params_ = {k: float(state["params"][k]) for k in self.feature_names_}
            self.means_ = {k: float(state["means"][k]) for k in self.feature_names_}
            self.baseline_times_ = np.asarray(state["baseline"]["days"], dtype=np.float64)
            self.baseline_cumulative_hazard_ = np.asarray(state["baseline"]["cumulative_hazard"], dtype=np.float64)
            self.n_customers_ = int(state["n_customers"])
            self.log_likelihood_ = float(state["log_likelihood"])
            self.typical_ = {k: float(state["typical"][k]) for k in self.feature_names_}
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"the ChurnModel in the file is incomplete or damaged: {exc}") from exc
        self.fit_info_ = dict(state.get("fit") or {})


def _natural(spec: Covariate | None, value: float) -> float:
    """A covariate's value on the scale of the feature it comes from (undoing log1p)."""
    return float(np.expm1(value)) if spec is not None and spec.transform == "log1p" else value


def _short(value: Any) -> str:
    """A number as a person reads it: whole when large, two significant decimals when small."""
    v = float(value)
    if not np.isfinite(v):
        return "unknown"
    if abs(v) >= 10 or v == int(v):
        return f"{v:,.0f}"
    return f"{v:.2g}"


def _lapses(warehouse: Warehouse, anchor: int, end: int, lapse_seconds: int) -> ibis.Table:
    """profile_id and lapse_at (epoch seconds) of the first lapse in (anchor, end]: the first purchase
    t with no purchase in (t, t + lapse] whose t + lapse falls in the window."""
    orders = warehouse.table("orders")
    at = epoch_seconds(orders.ordered_at)
    buys = keyed_orders(warehouse, orders.filter(is_purchase(orders) & (at < ibis.literal(end))))
    buys = buys.filter(buys.profile_id.notnull())
    times = buys.select("profile_id", t=epoch_seconds(buys.ordered_at)).distinct()
    w = ibis.window(group_by=times.profile_id, order_by=times.t)
    times = times.mutate(next_t=times.t.lead().over(w))
    lapse_at = times.t + ibis.literal(lapse_seconds)
    lapsed = times.filter((times.next_t.isnull() | (times.next_t > lapse_at)) & (lapse_at > ibis.literal(anchor))
                          & (lapse_at <= ibis.literal(end)))
    return lapsed.group_by("profile_id").aggregate(lapse_at=(lapsed.t + ibis.literal(lapse_seconds)).min())


def churn_frame(warehouse: Warehouse, as_of: Any, *, followup_days: int = 180, lapse_days: int = 180,
                timezone: str = "UTC") -> pd.DataFrame:
    """Survival data for lapses, known at ``as_of``: the people at risk at the anchor ``as_of -
    followup_days`` with their features then, ``duration`` (days from the anchor to the lapse, or
    ``followup_days``) and ``event`` (1 = lapsed). Reads nothing at or after ``as_of``."""
    end = moment(as_of)
    anchor = end - timedelta(days=int(followup_days))
    frame = buyers_as_of(warehouse, anchor, timezone=timezone)
    frame = frame[frame.recency_days < lapse_days].reset_index(drop=True)
    lapses = warehouse.execute(_lapses(warehouse, int(anchor.timestamp()), int(end.timestamp()),
                                       int(lapse_days) * SECONDS_PER_DAY))
    lapse_at = frame.profile_id.map(dict(zip(lapses.profile_id, lapses.lapse_at)))
    frame["event"] = lapse_at.notna().astype("int64")
    frame["duration"] = ((lapse_at - anchor.timestamp()) / SECONDS_PER_DAY).fillna(float(followup_days))
    log.info("churn frame at %s (anchor %s): %d at risk, %d lapsed", end.date(), anchor.date(), len(frame),
             int(frame.event.sum()))
    return frame


def fit_churn(warehouse: Warehouse, as_of: Any, *, horizon_days: int = 90, followup_days: int = 180,
              lapse_days: int = 180, penalizer: float = 0.01,
              timezone: str = "UTC") -> tuple[ChurnModel, dict[str, Any]]:
    """Fit the lapse hazard as known at ``as_of`` (see :func:`churn_frame`); returns the model and a report."""
    frame = churn_frame(warehouse, as_of, followup_days=followup_days, lapse_days=lapse_days, timezone=timezone)
    covariates = churn_covariates(frame)
    model = ChurnModel(horizon_days=horizon_days, penalizer=penalizer, lapse_days=lapse_days)
    model.fit(covariates, frame.duration, frame.event)
    report = {"as_of": moment(as_of).isoformat(), "followup_days": followup_days, "lapse_days": lapse_days,
              "horizon_days": horizon_days, "n_at_risk": int(len(frame)), "n_lapsed": int(frame.event.sum()),
              "concordance": model.fit_info_["concordance"], "coefficients": model.params_}
    return model, report
