"""Maximum likelihood for the parametric models: compression, optimisation, numerical Hessians.

Customers are *compressed* before fitting: rows with identical inputs (for the BTYD models the
triple frequency, recency, T) are evaluated once and weighted by their count, so the cost of a
likelihood evaluation grows with the number of distinct histories, not of customers.

Parameters are positive, so the optimiser works on their logarithms; the objective is the mean
negative log-likelihood per customer plus an optional L2 penalty on the parameters themselves
(``penalizer * sum(params ** 2)``). Standard errors come from the inverse Hessian of the total
negative log-likelihood in log-parameters (central differences), carried to the parameters by the
delta method: ``se(p) = p * se(log p)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from jingzhun.errors import ConvergenceError

__all__ = ["ConvergenceError", "FitResult", "unique_rows", "maximise_likelihood", "standard_errors",
           "central_gradient"]

log = logging.getLogger(__name__)

# log-parameters stay inside [-25, 25]: exp(25) ~ 7e10 covers any sensible rate, shape or scale
_BOUND = 25.0


@dataclass(frozen=True)
class FitResult:
    params: np.ndarray          # natural (positive) parameters at the optimum
    log_likelihood: float       # sum over customers of weight * log L_i, without the penalty
    iterations: int
    evaluations: int
    converged: bool
    message: str


# grids customer histories usually sit on: whole units, and days expressed in weeks
_GRIDS = (1, 7)


def _codes(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of a column and each element's position among them.

    Counts, and times recorded to the day in weeks, sit on a grid of step 1/k; there the codes come
    from one pass of counting instead of a sort (checked to give back the column exactly, else the sort).
    """
    n = column.shape[0]
    if n and np.all(np.isfinite(column)):
        for k in _GRIDS:
            steps = np.rint(column * k)
            low, high = steps.min(), steps.max()
            if high - low > max(8 * n, 1 << 20) or not np.array_equal(steps / k, column):
                continue
            offset = (steps - low).astype(np.int64)
            present = np.bincount(offset, minlength=int(high - low) + 1) > 0
            values = np.flatnonzero(present).astype(np.float64)
            values += low
            values /= k
            codes = (np.cumsum(present) - 1)[offset]
            if np.array_equal(values[codes], column):
                return values, codes
    values = np.unique(column)
    return values, np.searchsorted(values, column)


def unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of equal-length 1-d columns: (unique columns, inverse index, counts).

    ``[u[inverse] for u in uniques]`` gives back the columns. Rows are sorted lexicographically
    (first column first), so the result does not depend on the input order. Each column is coded
    by its distinct values and the codes are packed into one int64 key, which sorts much faster
    than a lexicographic sort of the float columns; `_unique_rows_lexsort` is the plain version
    (and the fallback when the key would not fit in 62 bits).
    """
    n = columns[0].shape[0]
    if n == 0:
        return [c[:0] for c in columns], np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    coded = [_codes(c) for c in columns]
    sizes = [values.size for values, _ in coded]
    if float(np.prod(np.array(sizes, dtype=np.float64))) >= 2.0**62:
        return _unique_rows_lexsort(*columns)
    key = np.zeros(n, dtype=np.int64)
    for (_, code), size in zip(coded, sizes):
        key *= size
        key += code
    span = int(np.prod(np.array(sizes, dtype=np.int64)))
    if span <= max(8 * n, 1 << 22):
        # few possible keys: count them directly, no sort at all
        full = np.bincount(key, minlength=span)
        present = full > 0
        inverse = (np.cumsum(present) - 1)[key]
        keys = np.flatnonzero(present)
        counts = full[present]
    else:
        inverse, keys, counts = _group_sorted(key)
    uniques = []
    rest = keys.astype(np.int64)
    for (values, _), size in zip(coded[::-1], sizes[::-1]):
        uniques.append(values[rest % size])
        rest //= size
    return uniques[::-1], inverse, counts


def _group_sorted(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse index, sorted distinct keys and their counts of an int64 key, by one argsort."""
    n = key.shape[0]
    order = np.argsort(key)
    ordered = key[order]
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    group = np.cumsum(starts) - 1
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = group
    return inverse, ordered[starts], np.bincount(group)


def _unique_rows_lexsort(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The plain implementation of `unique_rows`: one lexicographic sort of the rows."""
    n = columns[0].shape[0]
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    starts = np.zeros(n, dtype=bool)
    starts[0] = True
    for c in ordered:
        starts[1:] |= c[1:] != c[:-1]
    group = np.cumsum(starts) - 1
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = group
    return [c[starts] for c in ordered], inverse, np.bincount(group)


def central_gradient(f: Callable[[np.ndarray], float], theta: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Gradient of a scalar function by central differences (2k evaluations)."""
    grad = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = step
        grad[i] = (f(theta + e) - f(theta - e)) / (2 * step)
    return grad


def maximise_likelihood(
    total: Callable[[np.ndarray], float],
    start: np.ndarray,
    total_weight: float,
    *,
    total_with_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
    penalizer: float = 0.0,
    max_iterations: int = 3000,
) -> FitResult:
    """Maximise ``total(params) - total_weight * penalizer * sum(params**2)`` over params > 0.

    `total(params)` is the summed (weighted) log-likelihood; `total_with_gradient(params)`, when
    given, returns it with its gradient in the parameters. Without it the gradient is taken by
    central differences. L-BFGS-B on log-parameters from the deterministic `start`, minimising the
    mean negative log-likelihood per customer (so tolerances do not depend on the data's size).
    """
    counter = {"evaluations": 0}

    def objective(theta: np.ndarray) -> float:
        counter["evaluations"] += 1
        params = np.exp(theta)
        with np.errstate(all="ignore"):  # trial points far from the optimum may overflow: rejected below
            value = -total(params) / total_weight + penalizer * float(params @ params)
        return value if np.isfinite(value) else 1e300

    if total_with_gradient is not None:
        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            counter["evaluations"] += 1
            params = np.exp(theta)
            with np.errstate(all="ignore"):
                value, grad = total_with_gradient(params)
            value = -value / total_weight + penalizer * float(params @ params)
            if not (np.isfinite(value) and np.all(np.isfinite(grad))):
                return 1e300, np.zeros_like(theta)
            return value, (-grad / total_weight + 2 * penalizer * params) * params
    else:
        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            return objective(theta), central_gradient(objective, theta)

    theta0 = np.log(np.asarray(start, dtype=np.float64))
    result = minimize(
        fun, theta0, jac=True, method="L-BFGS-B",
        bounds=[(-_BOUND, _BOUND)] * theta0.size,
        options={"maxiter": max_iterations, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
    )
    theta = result.x
    grad_norm = float(np.max(np.abs(fun(theta)[1])))
    converged = bool(result.success) or grad_norm < 1e-6
    if not converged:
        raise ConvergenceError(
            f"the likelihood maximisation did not converge ({result.message}; largest gradient "
            f"{grad_norm:.2g}): check the inputs' time unit, or set a small penalizer such as 0.001"
        )
    if not result.success:
        log.debug("optimiser stopped with %r at a stationary point (gradient %.2g)", result.message, grad_norm)
    params = np.exp(theta)
    at_bound = np.abs(theta) >= _BOUND - 1e-6
    if at_bound.any():
        log.warning("parameters %s reached the bound exp(+-%g): the data barely identify them",
                    np.flatnonzero(at_bound).tolist(), _BOUND)
    return FitResult(
        params=params,
        log_likelihood=float(total(params)),
        iterations=int(result.nit),
        evaluations=counter["evaluations"],
        converged=converged,
        message=str(result.message),
    )


def standard_errors(
    total: Callable[[np.ndarray], float], params: np.ndarray, step: float = 1e-4
) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors and covariance of the parameters from the observed information.

    The Hessian of the total negative log-likelihood is taken in log-parameters by central
    differences; its inverse is the covariance of the log-parameters, and the delta method gives
    ``cov(p) = diag(p) cov(log p) diag(p)``.
    """
    theta = np.log(params)
    k = theta.size

    def f(t: np.ndarray) -> float:
        return -float(total(np.exp(t)))

    f0 = f(theta)
    hess = np.empty((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = step
        hess[i, i] = (f(theta + ei) - 2 * f0 + f(theta - ei)) / step**2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = step
            value = (f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)) / (4 * step**2)
            hess[i, j] = hess[j, i] = value
    try:
        cov_theta = np.linalg.inv(hess)
    except np.linalg.LinAlgError as exc:
        raise ConvergenceError("the Hessian at the optimum is singular: the parameters are not identified") from exc
    cov = cov_theta * np.outer(params, params)
    diag = np.diag(cov)
    se = np.where(diag > 0, np.sqrt(np.abs(diag)), np.nan)
    return se, cov
