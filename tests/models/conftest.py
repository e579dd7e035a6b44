"""Synthetic customers for the model tests: small numpy generators with known parameters."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest


def simulate_bgnbd(n: int, *, r: float = 0.243, alpha: float = 4.414, a: float = 0.793, b: float = 2.426,
                   seed: int = 0, t_min: float = 27.0, t_max: float = 39.0) -> tuple[np.ndarray, ...]:
    """(frequency, recency, T) of `n` customers following a BG/NBD process, times in days / 7.

    lambda ~ Gamma(r, alpha); p ~ Beta(a, b); the customer dies right after repeat purchase J,
    J ~ Geometric(p). Purchases in (0, T] are a Poisson process; the x-th purchase time given N
    purchases in (0, T] is T times a Beta(x, N - x + 1) order statistic.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    T = np.round(rng.uniform(t_min, t_max, n) * 7) / 7
    potential = rng.poisson(lam * T)
    x = np.minimum(potential, rng.geometric(p))
    recency = np.zeros(n)
    buyers = x > 0
    recency[buyers] = T[buyers] * rng.beta(x[buyers], potential[buyers] - x[buyers] + 1)
    recency = np.clip(np.ceil(recency * 7) / 7, 0, T)
    recency[buyers] = np.maximum(recency[buyers], 1 / 7)
    recency = np.minimum(recency, T)
    return x.astype(float), recency, T


def simulate_spend(n: int, *, p: float = 6.25, q: float = 3.74, gamma: float = 15.44, seed: int = 0):
    """(frequency >= 1, mean spend) of `n` repeat customers following the Gamma-Gamma model."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 12, n).astype(float)
    nu = rng.gamma(q, 1.0 / gamma, n)
    mean_spend = rng.gamma(p * x, 1.0 / (nu * x))
    return x, np.round(mean_spend, 2)


@pytest.fixture(scope="session")
def synthetic():
    """The generators of this file, for tests: synthetic.simulate_bgnbd(...), synthetic.model_inputs(...)."""
    return SimpleNamespace(simulate_bgnbd=simulate_bgnbd, simulate_spend=simulate_spend, model_inputs=model_inputs)


def model_inputs(model_cls, n: int = 1500, seed: int = 3) -> dict[str, np.ndarray]:
    """Valid inputs for any registered model, by the names in its `input_names`."""
    if model_cls.input_names == ("frequency", "recency", "T"):
        x, r, T = simulate_bgnbd(n, seed=seed)
        return {"frequency": x, "recency": r, "T": T}
    if model_cls.input_names == ("frequency", "monetary_value"):
        x, m = simulate_spend(n, seed=seed)
        return {"frequency": x, "monetary_value": m}
    raise AssertionError(f"no test inputs for a model taking {model_cls.input_names}: add them here")
