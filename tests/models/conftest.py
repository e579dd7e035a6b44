"""Synthetic customers for the model tests: small numpy generators with known parameters."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
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


def simulate_buyers(n: int, *, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(features, label, true probability) of `n` people whose chance to buy is a known logistic function
    of recency, frequency and spend; a tenth have no interval (NaN), as one-time buyers do."""
    rng = np.random.default_rng(seed)
    recency = rng.exponential(60.0, n).round()
    frequency = rng.poisson(3.0, n) + 1.0
    spend = np.round(rng.gamma(2.0, 50.0, n) * frequency, 2)
    interval = np.where(frequency > 1, rng.exponential(40.0, n).round(1), np.nan)
    noise = rng.normal(size=n)
    logit = 0.8 - 0.025 * recency + 0.35 * np.log1p(frequency) + 0.1 * np.log1p(spend) - 0.8 * np.log(2)
    truth = 1.0 / (1.0 + np.exp(-logit))
    label = (rng.uniform(size=n) < truth).astype(float)
    features = pd.DataFrame({"recency_days": recency, "frequency": frequency, "monetary_total": spend,
                             "interpurchase_mean_days": interval, "noise": noise})
    return features, label, truth


def simulate_lapses(n: int, *, seed: int = 0, followup: float = 180.0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(covariates, duration, event) of `n` people with an exponential time to lapse whose rate is
    exp(0.02 recency - 0.5 log(1 + purchase days)) / 200 per day, censored at `followup` days."""
    rng = np.random.default_rng(seed)
    recency = rng.uniform(0, 170, n).round()
    days = rng.poisson(3.0, n) + 1.0
    rate = np.exp(0.02 * (recency - 85) - 0.5 * np.log1p(days)) / 200.0
    time = rng.exponential(1.0 / rate)
    event = (time <= followup).astype(float)
    duration = np.minimum(time, followup).round(3)
    covariates = pd.DataFrame({"recency_days": recency, "log_purchase_days": np.log1p(days),
                               "discount_share": rng.uniform(0, 1, n).round(2)})
    return covariates, duration, event


@pytest.fixture(scope="session")
def synthetic():
    """The generators of this file, for tests: synthetic.simulate_bgnbd(...), synthetic.model_inputs(...)."""
    return SimpleNamespace(simulate_bgnbd=simulate_bgnbd, simulate_spend=simulate_spend, model_inputs=model_inputs,
                           simulate_buyers=simulate_buyers, simulate_lapses=simulate_lapses,
                           invalid_inputs=invalid_inputs)


def model_inputs(model_cls, n: int = 1500, seed: int = 3) -> dict[str, np.ndarray]:
    """Valid inputs for any registered model, by the names in its `input_names`."""
    if model_cls.input_names == ("frequency", "recency", "T"):
        x, r, T = simulate_bgnbd(n, seed=seed)
        return {"frequency": x, "recency": r, "T": T}
    if model_cls.input_names == ("frequency", "monetary_value"):
        x, m = simulate_spend(n, seed=seed)
        return {"frequency": x, "monetary_value": m}
    if model_cls.input_names == ("features", "label"):
        features, label, _ = simulate_buyers(n, seed=seed)
        return {"features": features, "label": label}
    if model_cls.input_names == ("features", "duration", "event"):
        covariates, duration, event = simulate_lapses(n, seed=seed)
        return {"features": covariates, "duration": duration, "event": event}
    raise AssertionError(f"no test inputs for a model taking {model_cls.input_names}: add them here")


_ROWS = [4, 17, 230]


def _broken(inputs: dict, name: str, value, column: str | None = None) -> dict:
    """A copy of `inputs` with rows 4, 17 and 230 of one input (or of one column of a frame) set to `value`."""
    out = {k: v.copy() for k, v in inputs.items()}
    if column is None:
        out[name][_ROWS] = value
    else:
        out[name][column] = out[name][column].astype(object if isinstance(value, str) else float)
        out[name].loc[_ROWS, column] = value
    return out


def invalid_inputs(model_cls, inputs: dict) -> list[tuple[dict, str]]:
    """Inputs a model must refuse, each with the words its error must say (always counted and located)."""
    if model_cls.input_names[0] != "features":
        return [(_broken(inputs, name, value), words)
                for name in model_cls.input_names for value, words in ((-1.0, "negative"), (np.nan, "NaN"))]
    cases = [(_broken(inputs, "features", np.inf, "recency_days"), "'recency_days' is infinite")]
    for name in model_cls.input_names[1:]:
        cases.append((_broken(inputs, name, np.nan), f"{name} is NaN"))
        cases.append((_broken(inputs, name, -1.0), "negative" if name == "duration" else f"{name} is not 0 or 1"))
    if model_cls.name == "churn":
        cases.append((_broken(inputs, "features", np.nan, "recency_days"), "'recency_days' is NaN"))
    return cases


# -- a simulated shop in a warehouse, for the tests that read one ------------------------------------

SIM_SECRET = "a7" * 32
SIM_END = "2024-12-31T16:00:00Z"  # the end of the simulated window (local midnight in Shanghai)


def build_sim_shop(root, customers: int, seed: int):
    """A DuckDB warehouse at root/w.duckdb with a simulated world loaded and identities resolved;
    returns (path, truth folder). Consents are left out: nothing here reads them."""
    import yaml

    from jingzhun.config import Settings
    from jingzhun.identity import resolve
    from jingzhun.pipeline import load_source
    from jingzhun.pipeline.demo import write_simulation
    from jingzhun.warehouse import Warehouse

    mapping = write_simulation(root / "world", customers=customers, seed=seed)
    spec = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    spec["files"] = [f for f in spec["files"] if f["table"] != "consents"]
    mapping.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    settings = Settings()
    path = root / "w.duckdb"
    with Warehouse.duckdb(path) as wh:
        wh.ensure_schema()
        load_source(wh, mapping, secret=SIM_SECRET, settings=settings)
        resolve(wh, settings.identity)
    return path, root / "world" / "truth"


@pytest.fixture(scope="session")
def sim_shop(tmp_path_factory):
    """(path of a DuckDB warehouse with 1,500 simulated customers, truth folder); copy the file to change it."""
    return build_sim_shop(tmp_path_factory.mktemp("sim_shop"), 1_500, seed=21)


@pytest.fixture
def shop(sim_shop, tmp_path):
    """A private copy of the simulated shop's warehouse, open."""
    import shutil

    from jingzhun.warehouse import Warehouse

    path = tmp_path / "shop.duckdb"
    shutil.copyfile(sim_shop[0], path)
    wh = Warehouse.duckdb(path)
    yield wh
    wh.close()
