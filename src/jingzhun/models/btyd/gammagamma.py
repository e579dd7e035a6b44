"""The Gamma-Gamma model of spend per transaction, and customer lifetime value.

Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base analysis",
Journal of Marketing Research 42(4), and Fader & Hardie (2013), "The Gamma-Gamma model of monetary
value" (the "note"). A customer's transaction values are Gamma(p, nu); her nu ~ Gamma(q, gamma).
Spend is assumed independent of the purchase process (check it: the correlation between frequency
and average spend should be near 0).

The model is fitted on the repeat customers (x > 0) from x and z_bar, the mean value of their x
repeat transactions. The density of z_bar (the note's equation 3, marginalised over nu) gives

    log L_i = ln Gamma(p x + q) - ln Gamma(p x) - ln Gamma(q) + q ln gamma + p x ln x
              + (p x - 1) ln z_bar - (p x + q) ln(gamma + x z_bar),

and the expected mean transaction value (the note's equation 5) is
E[Z | x, z_bar] = p (gamma + x z_bar) / (p x + q - 1), the population mean p gamma / (q - 1) at x = 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, gammaln

from jingzhun.models.base import ParametricModel
from jingzhun.models.btyd.base import BTYDModel, check_btyd_inputs, evaluate_per_unique
from jingzhun.models.validation import (ModelInputError, as_float_array, check_same_length, check_weights,
                                        fail_where)

__all__ = ["GammaGammaModel"]


def _check_spend(frequency: Any, monetary_value: Any, *, for_fit: bool) -> list[np.ndarray]:
    raw = {"frequency": frequency, "monetary_value": monetary_value}
    named = {k: as_float_array(k, v) for k, v in raw.items()}
    if for_fit:
        check_same_length(named)
    try:
        x, m = np.broadcast_arrays(*named.values())
    except ValueError as exc:
        raise ModelInputError(f"inputs have different lengths: frequency {named['frequency'].shape}, "
                              f"monetary_value {named['monetary_value'].shape}") from exc
    fail_where(x < 0, "frequency is negative", field="frequency", source=frequency)
    fail_where(x != np.floor(x), "frequency is not a whole number", field="frequency", source=frequency)
    fail_where(m < 0, "monetary_value is negative", field="monetary_value", source=monetary_value)
    if for_fit:
        fail_where(x == 0, "frequency is 0", field="frequency", source=frequency,
                   hint="fit the Gamma-Gamma model on repeat customers only (frequency > 0)")
    fail_where((x > 0) & (m == 0), "monetary_value is 0 with repeat purchases", field="monetary_value",
               source=monetary_value, hint="the model needs positive spend; drop free orders first")
    return [x, m]


class GammaGammaModel(ParametricModel):
    """Gamma-Gamma spend model. Parameters p (shape of transaction values), q and gamma (shape and
    rate of the customers' nu).

    Parameters
    ----------
    penalizer:
        L2 penalty on (p, q, gamma) added to the mean negative log-likelihood per customer.
    chunk_size:
        How many distinct rows predictions evaluate at a time.
    """

    name = "gammagamma"
    input_names = ("frequency", "monetary_value")
    param_names = ("p", "q", "gamma")

    def __init__(self, *, penalizer: float = 0.0, chunk_size: int = 262_144) -> None:
        self.penalizer = penalizer
        self.chunk_size = chunk_size

    def fit(self, frequency: Any, monetary_value: Any, *, weights: Any = None,
            compute_se: bool = False) -> GammaGammaModel:
        """Maximum-likelihood fit on repeat customers: `frequency` x > 0 repeat purchases and
        `monetary_value` the mean value of those repeat purchases. Returns self."""
        x, m = _check_spend(frequency, monetary_value, for_fit=True)
        w = check_weights(weights, x.size)
        return self._fit_rows([x, m], w, compute_se)

    def _start(self, columns: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
        # p = 1, q = 2 puts the prior mean spend p gamma / (q - 1) at gamma: start it at the mean spend
        mean_spend = float(weights @ columns[1] / weights.sum())
        return np.array([1.0, 2.0, max(mean_spend, 1e-6)])

    def _loglik(self, params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        p, q, g = params
        px = p * x
        return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + px * np.log(x)
                + (px - 1) * np.log(m) - (px + q) * np.log(g + x * m))

    def _loglik_gradient(self, params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        p, q, g = params
        px = p * x
        psi = digamma(px + q)
        log_gxm = np.log(g + x * m)
        grad = np.empty((x.size, 3))
        grad[:, 0] = x * (psi - digamma(px) + np.log(x) + np.log(m) - log_gxm)
        grad[:, 1] = psi - digamma(q) + np.log(g) - log_gxm
        grad[:, 2] = q / g - (px + q) / (g + x * m)
        return grad

    def log_likelihood(self, frequency: Any, monetary_value: Any) -> Any:
        """Each repeat customer's log-likelihood under the fitted parameters."""
        self._check_fitted()
        rows = _check_spend(frequency, monetary_value, for_fit=True)
        params = self._params_array()
        return evaluate_per_unique(lambda *c: self._loglik(params, *c), rows, self.chunk_size)

    def expected_average_value(self, frequency: Any, monetary_value: Any) -> Any:
        """E[mean transaction value | x, z_bar] = p (gamma + x z_bar) / (p x + q - 1) (the note's
        equation 5); customers with x = 0 get the population mean p gamma / (q - 1)."""
        self._check_fitted()
        x, m = _check_spend(frequency, monetary_value, for_fit=False)
        p, q, g = self._params_array()

        def formula(xu: np.ndarray, mu: np.ndarray) -> np.ndarray:
            return p * (g + xu * np.where(xu > 0, mu, 0.0)) / (p * xu + q - 1)

        return evaluate_per_unique(formula, [x, m], self.chunk_size)

    def predict(self, frequency: Any, monetary_value: Any) -> Any:
        """The model's main prediction: `expected_average_value(frequency, monetary_value)`."""
        return self.expected_average_value(frequency, monetary_value)

    def expected_clv(self, btyd_model: BTYDModel, frequency: Any, recency: Any, T: Any, monetary_value: Any,
                     *, horizon: int, discount_rate: float, freq_per_period: float, margin: float = 1.0) -> Any:
        """Expected discounted value of each customer's purchases over the next `horizon` periods:

            CLV = margin * E[Z | x, z_bar] * sum_{k=1..horizon} (E[Y(k f) | ...] - E[Y((k-1) f) | ...]) / (1 + d)^k

        with f = `freq_per_period` (model time units per period, e.g. 4.345 weeks per month),
        d = `discount_rate` per period, and E[Y(.)] the purchase model's conditional expectation
        (FHL 2005 "RFM and CLV" discount the same flows continuously; this is the per-period form).
        """
        self._check_fitted()
        btyd_model._check_fitted()
        if int(horizon) != horizon or horizon < 1:
            raise ModelInputError(f"horizon must be a whole number of periods >= 1, got {horizon!r}",
                                  field="horizon")
        if not (np.isfinite(discount_rate) and discount_rate > -1):
            raise ModelInputError(f"discount_rate must be > -1, got {discount_rate!r}", field="discount_rate")
        if not (np.isfinite(freq_per_period) and freq_per_period > 0):
            raise ModelInputError(f"freq_per_period must be positive, got {freq_per_period!r}",
                                  field="freq_per_period")
        check_btyd_inputs(frequency, recency, T, for_fit=False)
        value = np.asarray(self.expected_average_value(frequency, monetary_value))
        discounted = 0.0
        previous = 0.0
        for k in range(1, int(horizon) + 1):
            cumulative = np.asarray(btyd_model.expected_purchases(k * freq_per_period, frequency, recency, T))
            discounted = discounted + (cumulative - previous) / (1.0 + discount_rate) ** k
            previous = cumulative
        clv = margin * value * discounted
        return float(clv) if np.ndim(clv) == 0 else clv
