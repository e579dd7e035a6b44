"""What the buy-till-you-die (BTYD) purchase models share: inputs, checks, fitting, batched predictions.

A customer's history is summarised as (frequency, recency, T), in one time unit of your choice:

- ``frequency`` (x): the number of *repeat* purchases (purchase occasions after the first);
- ``recency`` (t_x): the time from the first purchase to the last one (0 when x = 0);
- ``T``: the time from the first purchase to the end of the observation period.

`jingzhun.models.btyd.data.summary_from_transactions` builds them from a transaction table.
Parameters carry the time unit (alpha and beta are in it), so predict in the unit you fitted in.

Fitting and prediction compress customers to their distinct (x, t_x, T) rows first, and predictions
are evaluated per distinct row, in chunks of `chunk_size`, then expanded: arrays in, arrays out, a
scalar in gives a scalar out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from jingzhun.models.base import ParametricModel
from jingzhun.models.estimation import unique_rows
from jingzhun.models.validation import (ModelInputError, as_float_array, check_same_length, check_weights,
                                        fail_where)

__all__ = ["BTYDModel", "check_btyd_inputs", "evaluate_per_unique"]


def _broadcast(named: dict[str, np.ndarray]) -> list[np.ndarray]:
    try:
        return list(np.broadcast_arrays(*named.values()))
    except ValueError as exc:
        described = ", ".join(f"{k} {v.shape[0] if v.ndim else 'scalar'}" for k, v in named.items())
        raise ModelInputError(f"inputs have different lengths: {described}") from exc


def check_btyd_inputs(frequency: Any, recency: Any, T: Any, *, for_fit: bool) -> list[np.ndarray]:
    """Validated float arrays (x, t_x, T). `for_fit` requires equal-length 1-d arrays; otherwise
    scalars broadcast against arrays."""
    raw = {"frequency": frequency, "recency": recency, "T": T}
    named = {k: as_float_array(k, v) for k, v in raw.items()}
    if for_fit:
        check_same_length(named)
    x, tx, big_t = _broadcast(named)
    for name, arr in zip(named, (x, tx, big_t)):
        fail_where(arr < 0, f"{name} is negative", field=name, source=raw[name])
    fail_where(x != np.floor(x), "frequency is not a whole number", field="frequency", source=frequency,
               hint="frequency counts repeat purchases")
    fail_where(tx > big_t, "recency is larger than T", field="recency", source=recency,
               hint="recency and T are both measured from the first purchase, in the same unit")
    fail_where((x > 0) & (tx == 0), "recency is 0 while frequency > 0", field="recency", source=recency,
               hint="a repeat purchase happens after the first one, so its recency is positive")
    fail_where((x == 0) & (tx > 0), "recency is positive while frequency is 0", field="recency", source=recency,
               hint="with no repeat purchase the last purchase is the first one, so recency is 0")
    return [x, tx, big_t]


def check_horizon(t: Any, name: str = "t") -> np.ndarray:
    array = as_float_array(name, t)
    fail_where(array < 0, f"{name} is negative", field=name, source=t)
    return array


def evaluate_per_unique(func: Callable[..., np.ndarray], arrays: list[np.ndarray], chunk_size: int) -> Any:
    """`func(*columns)` on the distinct rows of the broadcast `arrays`, in chunks, expanded back.

    All arrays 0-d gives a Python float; otherwise a float64 array of the broadcast shape.
    """
    scalar = all(a.ndim == 0 for a in arrays)
    columns = [np.ascontiguousarray(a, dtype=np.float64).ravel() for a in np.broadcast_arrays(*arrays)]
    uniques, inverse, _ = unique_rows(*columns)
    size = uniques[0].size
    out = np.empty(size)
    step = max(int(chunk_size), 1)
    for start in range(0, size, step):
        stop = min(start + step, size)
        out[start:stop] = func(*[u[start:stop] for u in uniques])
    result = out[inverse]
    if scalar:
        return float(result[0])
    return result


class BTYDModel(ParametricModel):
    """Base of BetaGeoModel, ModifiedBetaGeoModel and ParetoNBDModel.

    Parameters
    ----------
    penalizer:
        L2 penalty on the parameters, added to the mean negative log-likelihood per customer as
        ``penalizer * sum(params ** 2)``. 0 (the default) is plain maximum likelihood.
    chunk_size:
        How many distinct customer rows predictions evaluate at a time (bounds memory).
    """

    input_names = ("frequency", "recency", "T")

    def __init__(self, *, penalizer: float = 0.0, chunk_size: int = 262_144) -> None:
        self.penalizer = penalizer
        self.chunk_size = chunk_size

    # -- fitting -----------------------------------------------------------------------------------
    def fit(self, frequency: Any, recency: Any, T: Any, *, weights: Any = None,
            compute_se: bool = False) -> BTYDModel:
        """Maximum-likelihood fit on one row per customer (or per group of identical customers,
        with `weights` giving each row's count). Sets `params_`, `log_likelihood_` (the sum of the
        customers' log-likelihoods at the optimum), `n_customers_`, `fit_info_`, and with
        `compute_se` `standard_errors_` and `covariance_`. Returns self."""
        x, tx, big_t = check_btyd_inputs(frequency, recency, T, for_fit=True)
        w = check_weights(weights, x.size)
        return self._fit_rows([x, tx, big_t], w, compute_se)

    def _start(self, columns: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
        # shapes 1, scales at the mean observation time: a rate of about one purchase per period
        mean_t = float(weights @ columns[2] / weights.sum())
        return self._start_from(max(mean_t, 1e-3))

    def _start_from(self, scale: float) -> np.ndarray:
        raise NotImplementedError

    # -- the formulas each model supplies (arrays of distinct rows in, arrays out) ------------------
    def _probability_alive(self, p: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _conditional_expectation(self, p: np.ndarray, t: np.ndarray, x: np.ndarray, tx: np.ndarray,
                                 T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- predictions -------------------------------------------------------------------------------
    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Each customer's log-likelihood log L_i under the fitted parameters."""
        self._check_fitted()
        rows = check_btyd_inputs(frequency, recency, T, for_fit=False)
        p = self._params_array()
        return evaluate_per_unique(lambda *c: self._loglik(p, *c), rows, self.chunk_size)

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """P(the customer is still active at T | x, t_x, T)."""
        self._check_fitted()
        rows = check_btyd_inputs(frequency, recency, T, for_fit=False)
        p = self._params_array()
        return evaluate_per_unique(lambda *c: self._probability_alive(p, *c), rows, self.chunk_size)

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """E[number of purchases in (T, T + t] | x, t_x, T]: the conditional expectation."""
        self._check_fitted()
        horizon = check_horizon(t)
        rows = check_btyd_inputs(frequency, recency, T, for_fit=False)
        p = self._params_array()
        return evaluate_per_unique(lambda *c: self._conditional_expectation(p, *c), [horizon, *rows],
                                   self.chunk_size)

    def expected_purchases_new_customer(self, t: Any) -> Any:
        """E[X(t)]: expected repeat purchases in the first t periods of a customer just acquired.

        This is the conditional expectation at x = t_x = T = 0 (the models' own unconditional
        formulas reduce to it)."""
        self._check_fitted()
        horizon = check_horizon(t)
        zero = np.zeros(())
        p = self._params_array()
        return evaluate_per_unique(lambda *c: self._conditional_expectation(p, *c),
                                   [horizon, zero, zero, zero], self.chunk_size)

    def expected_time_to_next_purchase(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Expected waiting time from T to the next purchase of a customer who is active at T.

        Given activity at T the purchase rate lambda has the posterior Gamma(r + x, alpha + T) in
        all three models, so E[1 / lambda] = (alpha + T) / (r + x - 1). It is infinite when
        r + x <= 1 (heavy-tailed waiting times): use `probability_alive` alongside it, as an
        inactive customer never buys again. Add it to the date of T for an expected next date.
        """
        self._check_fitted()
        x, _, big_t = check_btyd_inputs(frequency, recency, T, for_fit=False)
        r, alpha = self.params_["r"], self.params_["alpha"]
        shape = r + x
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(shape > 1, (alpha + big_t) / (shape - 1), np.inf)
        return float(out) if out.ndim == 0 else out

    def predict(self, frequency: Any, recency: Any, T: Any, *, t: float = 1.0) -> Any:
        """The model's main prediction: `expected_purchases(t, frequency, recency, T)`."""
        return self.expected_purchases(t, frequency, recency, T)
