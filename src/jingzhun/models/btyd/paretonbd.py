"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987, "Counting your customers: who are
they and what will they do next?", Management Science 33(1)).

While active a customer buys at rate lambda ~ Gamma(r, alpha); her lifetime is exponential with
rate mu ~ Gamma(s, beta), independent of lambda. Formulas follow Fader & Hardie (2005), "A note on
deriving the Pareto/NBD model and related expressions" (the "note" below).

The likelihood (note, equation 22) is

    L = Gamma(r + x) alpha^r beta^s / Gamma(r)
        * [ (alpha + T)^-(r + x) (beta + T)^-s + s / (r + s + x) A0 ],

    A0 = F(t_x) - F(T), where for alpha >= beta
         F(t) = 2F1(r + s + x, s + 1; r + s + x + 1; (alpha - beta) / (alpha + t)) / (alpha + t)^(r + s + x)
    and for alpha < beta
         F(t) = 2F1(r + s + x, r + x; r + s + x + 1; (beta - alpha) / (beta + t)) / (beta + t)^(r + s + x).

Both hypergeometric functions are evaluated after Euler's transformation, in which they become
2F1(1, r + x; r + s + x + 1; z) (alpha >= beta) and 2F1(1, s + 1; r + s + x + 1; z) (alpha < beta):
bounded, no overflow for frequent buyers, and their logarithms are taken directly. A0 is a difference
of positive terms, taken in log space as log F(t_x) + log(1 - F(T) / F(t_x)).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln, hyp2f1

from jingzhun.models.btyd.base import BTYDModel

__all__ = ["ParetoNBDModel"]


def _log1mexp(d: np.ndarray) -> np.ndarray:
    """log(1 - exp(d)) for d <= 0, accurate near 0 and for very negative d; -inf at d = 0."""
    d = np.minimum(d, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(d > -0.6931471805599453, np.log(-np.expm1(d)), np.log1p(-np.exp(d)))


def _one_minus_power_over(log_base: np.ndarray, exponent: float) -> np.ndarray:
    """(1 - exp(exponent * log_base)) / exponent, with its limit -log_base at exponent 0."""
    if exponent == 0.0:
        return -log_base
    return -np.expm1(exponent * log_base) / exponent


class ParetoNBDModel(BTYDModel):
    """Pareto/NBD. Parameters r, alpha (purchase rates ~ Gamma(r, alpha)) and s, beta (dropout
    rates ~ Gamma(s, beta))."""

    name = "paretonbd"
    param_names = ("r", "alpha", "s", "beta")

    def _start_from(self, scale: float) -> np.ndarray:
        return np.array([1.0, scale, 1.0, scale])

    @staticmethod
    def _log_f(p: np.ndarray, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """log F(t) of the module docstring, after Euler's transformation."""
        r, alpha, s, beta = p
        c = r + s + x + 1
        if alpha >= beta:
            z = (alpha - beta) / (alpha + t)
            return -(r + x) * np.log(alpha + t) - s * np.log(beta + t) + np.log(hyp2f1(1.0, r + x, c, z))
        z = (beta - alpha) / (beta + t)
        return (1 - r - x) * np.log(alpha + t) - (s + 1) * np.log(beta + t) + np.log(hyp2f1(1.0, s + 1, c, z))

    def _log_terms(self, p: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray):
        """(log of the 'alive' term, log of the 'dropped out' term s / (r + s + x) A0)."""
        r, alpha, s, beta = p
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        log_f_tx = self._log_f(p, x, tx)
        log_a0 = log_f_tx + _log1mexp(self._log_f(p, x, T) - log_f_tx)
        dropped = np.log(s) - np.log(r + s + x) + log_a0
        return alive, dropped

    def _loglik(self, p: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        """log L_i, the note's equation (22), in log space (see the module docstring)."""
        r, alpha, s, beta = p
        alive, dropped = self._log_terms(p, x, tx, T)
        return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(alive, dropped)

    def _probability_alive(self, p: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive | x, t_x, T) = 1 / (1 + s / (r + s + x) (alpha + T)^(r + x) (beta + T)^s A0),
        the note's equation (18)."""
        alive, dropped = self._log_terms(p, x, tx, T)
        return expit(alive - dropped)

    def _conditional_expectation(self, p: np.ndarray, t: np.ndarray, x: np.ndarray, tx: np.ndarray,
                                 T: np.ndarray) -> np.ndarray:
        """E[Y(t) | x, t_x, T] = (r + x)(beta + T) / ((alpha + T)(s - 1))
        [1 - ((beta + T) / (beta + T + t))^(s - 1)] P(alive), the note's equation (41);
        at s = 1 the bracket over (s - 1) is its limit log((beta + T + t) / (beta + T))."""
        r, alpha, s, beta = p
        log_ratio = np.log(beta + T) - np.log(beta + T + t)
        bracket = _one_minus_power_over(log_ratio, s - 1.0)
        return (r + x) * (beta + T) / (alpha + T) * bracket * self._probability_alive(p, x, tx, T)
