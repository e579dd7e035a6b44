"""The BG/NBD model and its modified form MBG/NBD.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2)): while active, a customer buys at rate lambda ~
Gamma(r, alpha); after each repeat purchase she becomes inactive with probability p ~ Beta(a, b).

MBG/NBD (Batislam, Denizel & Filiztekin 2007, "Empirical validation and comparison of models for
customer base analysis", IJRM 24(3)): the same, except that a customer can also drop out right
after her first purchase, so a customer with no repeat purchase is not certainly alive.

Both are one family here: `_dropout_at_trial` is 0 for BG/NBD and 1 for MBG/NBD, and every formula
shifts b + x by it. The hypergeometric terms of the expectations are evaluated after Euler's
transformation 2F1(a, b; c; z) = (1 - z)^(c - a - b) 2F1(c - a, c - b; c; z), which turns
2F1(r + x, b + x; a + b + x - 1; z) (large parameters for frequent buyers) into
2F1(a + b - 1 - r, a - 1; a + b + x - 1; z) (bounded and quickly convergent).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1

from jingzhun.models.btyd.base import BTYDModel

__all__ = ["BetaGeoModel", "ModifiedBetaGeoModel"]


class _BetaGeoFamily(BTYDModel):
    param_names = ("r", "alpha", "a", "b")
    _dropout_at_trial: ClassVar[int] = 0

    def _start_from(self, scale: float) -> np.ndarray:
        return np.array([1.0, scale, 1.0, 1.0])

    def _dropout_log_odds(self, p: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        """log of [a / (b + x - 1 + k)] ((alpha + T) / (alpha + t_x))^(r + x); -inf where the
        customer cannot have dropped out (BG/NBD with x = 0)."""
        r, alpha, a, b = p
        k = self._dropout_at_trial
        possible = (x > 0) | (k == 1)
        denominator = np.where(possible, b + x - 1 + k, 1.0)
        value = np.log(a) - np.log(denominator) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(possible, value, -np.inf)

    def _loglik(self, p: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        """log L_i, FHL (2005) equation (6); for MBG/NBD Batislam et al. (2007) equation (4).

        log L = ln A1 + ln A2 + ln(A3 + delta A4) with A1 = Gamma(r + x) alpha^r / Gamma(r),
        A2 = B(a, b + x + k) / B(a, b), A3 = (alpha + T)^-(r + x),
        A4 = a / (b + x - 1 + k) (alpha + t_x)^-(r + x), delta = [x > 0] (always 1 when k = 1).
        """
        r, alpha, a, b = p
        k = self._dropout_at_trial
        log_a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        log_a2 = gammaln(a + b) + gammaln(b + x + k) - gammaln(b) - gammaln(a + b + x + k)
        log_a3 = -(r + x) * np.log(alpha + T)
        log_a4 = log_a3 + self._dropout_log_odds(p, x, tx, T)
        return log_a1 + log_a2 + np.logaddexp(log_a3, log_a4)

    def _loglik_gradient(self, p: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Derivatives of `_loglik` with respect to (r, alpha, a, b), one row per customer row."""
        r, alpha, a, b = p
        k = self._dropout_at_trial
        w4 = expit(self._dropout_log_odds(p, x, tx, T))  # weight of A4 inside ln(A3 + A4)
        w3 = 1.0 - w4
        log_t = np.log(alpha + T)
        log_tx = np.log(alpha + tx)
        psi_ab, psi_abx = digamma(a + b), digamma(a + b + x + k)
        denominator = np.where(w4 > 0, b + x - 1 + k, 1.0)
        grad = np.empty((x.size, 4))
        grad[:, 0] = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * log_t - w4 * log_tx
        grad[:, 1] = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx))
        grad[:, 2] = psi_ab - psi_abx + w4 / a
        grad[:, 3] = psi_ab + digamma(b + x + k) - digamma(b) - psi_abx - w4 / denominator
        return grad

    # -- the fast path used by fit: the same sums, factorised --------------------------------------------
    def _prepare(self, uniques: list[np.ndarray], counts: np.ndarray) -> Any:
        """Distinct rows coded by their distinct x, t_x and T values.

        Terms that depend on x alone (the gamma functions) are evaluated once per distinct x and
        weighted by its total count, and the logarithms of alpha + T and alpha + t_x once per
        distinct time; only the mixture ln(A3 + A4) is evaluated per distinct row.
        """
        x, tx, T = uniques
        xv, xi = np.unique(x, return_inverse=True)
        tv, ti = np.unique(T, return_inverse=True)
        txv, txi = np.unique(tx, return_inverse=True)
        k = self._dropout_at_trial
        possible = (x > 0) | (k == 1)
        return SimpleNamespace(x=x, w=counts, total=float(counts.sum()), xv=xv,
                               wx=np.bincount(xi, weights=counts, minlength=xv.size),
                               tv=tv, ti=ti, txv=txv, txi=txi, possible=possible,
                               shift=np.where(possible, x - 1 + k, 0.0))

    def _mixture(self, p: np.ndarray, d: SimpleNamespace):
        r, alpha, a, b = p
        log_t = np.log(alpha + d.tv)[d.ti]
        log_tx = np.log(alpha + d.txv)[d.txi]
        rx = r + d.x
        denominator = np.where(d.possible, b + d.shift, 1.0)
        odds = np.where(d.possible, np.log(a) - np.log(denominator) + rx * (log_t - log_tx), -np.inf)
        return r, alpha, a, b, log_t, log_tx, rx, denominator, odds

    def _total(self, p: np.ndarray, d: SimpleNamespace) -> float:
        """Sum of `_loglik` over the prepared rows, weighted by their counts."""
        r, alpha, a, b, log_t, _, rx, _, odds = self._mixture(p, d)
        k = self._dropout_at_trial
        per_x = (gammaln(r + d.xv) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + d.xv + k)
                 - gammaln(b) - gammaln(a + b + d.xv + k))
        return float(d.wx @ per_x + d.w @ (np.logaddexp(0.0, odds) - rx * log_t))

    def _total_with_gradient(self, p: np.ndarray, d: SimpleNamespace) -> tuple[float, np.ndarray]:
        """`_total` and its gradient in (r, alpha, a, b); `_loglik_gradient` summed, factorised."""
        r, alpha, a, b, log_t, log_tx, rx, denominator, odds = self._mixture(p, d)
        k = self._dropout_at_trial
        xv, wx, w = d.xv, d.wx, d.w
        per_x = (gammaln(r + xv) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + xv + k)
                 - gammaln(b) - gammaln(a + b + xv + k))
        value = float(wx @ per_x + w @ (np.logaddexp(0.0, odds) - rx * log_t))
        w4 = expit(odds)
        inv_t = (1.0 / (alpha + d.tv))[d.ti]
        inv_tx = (1.0 / (alpha + d.txv))[d.txi]
        psi_ab, psi_abx = digamma(a + b), digamma(a + b + xv + k)
        grad = np.array([
            wx @ (digamma(r + xv) - digamma(r)) + d.total * np.log(alpha) - w @ (log_t - w4 * (log_t - log_tx)),
            d.total * r / alpha - w @ (rx * (inv_t + w4 * (inv_tx - inv_t))),
            wx @ (psi_ab - psi_abx) + (w @ w4) / a,
            wx @ (psi_ab + digamma(b + xv + k) - digamma(b) - psi_abx) - w @ (w4 / denominator),
        ])
        return value, grad

    def _probability_alive(self, p: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive) = 1 / (1 + delta a / (b + x - 1 + k) ((alpha + T) / (alpha + t_x))^(r + x)),
        FHL (2005) equation (11); Batislam et al. (2007) equation (6)."""
        return expit(-self._dropout_log_odds(p, x, tx, T))

    def _conditional_expectation(self, p: np.ndarray, t: np.ndarray, x: np.ndarray, tx: np.ndarray,
                                 T: np.ndarray) -> np.ndarray:
        """E[Y(t) | x, t_x, T], FHL (2005) equation (10); Batislam et al. (2007) equation (7):

        (a + b + x - 1 + k) / (a - 1) [1 - ((alpha + T) / (alpha + T + t))^(r + x)
        2F1(r + x, b + x + k; a + b + x - 1 + k; t / (alpha + T + t))] P(alive),

        with the bracket computed after Euler's transformation (see the module docstring).
        """
        r, alpha, a, b = p
        k = self._dropout_at_trial
        c = a + b + x - 1 + k
        z = t / (alpha + T + t)
        log_one_minus_z = np.log(alpha + T) - np.log(alpha + T + t)
        tail = np.exp((a - 1) * log_one_minus_z) * hyp2f1(a + b - 1 + k - r, a - 1, c, z)
        return c / (a - 1) * (1.0 - tail) * self._probability_alive(p, x, tx, T)


class BetaGeoModel(_BetaGeoFamily):
    """BG/NBD (Fader, Hardie & Lee 2005). Parameters r, alpha (purchase rates ~ Gamma(r, alpha))
    and a, b (dropout probability after each repeat purchase ~ Beta(a, b))."""

    name = "bgnbd"
    _dropout_at_trial = 0


class ModifiedBetaGeoModel(_BetaGeoFamily):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where a customer may also drop out
    right after the first purchase. Same parameters as BetaGeoModel."""

    name = "mbgnbd"
    _dropout_at_trial = 1
