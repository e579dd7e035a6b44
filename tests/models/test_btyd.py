"""Unit tests of the BTYD models: formulas against plain references, gradients, compression, recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln, hyp2f1

from jingzhun.models import BetaGeoModel, GammaGammaModel, ModelInputError, ModifiedBetaGeoModel, ParetoNBDModel
from jingzhun.models.estimation import central_gradient, unique_rows

BG_PARAMS = np.array([0.243, 4.414, 0.793, 2.426])


def _fitted(cls, params):
    model = cls()
    model.params_ = dict(zip(cls.param_names, map(float, params)))
    return model


def test_unique_rows_matches_numpy():
    rng = np.random.default_rng(0)
    cols = [rng.integers(0, 4, 1000).astype(float), rng.integers(0, 3, 1000) / 7, rng.integers(5, 7, 1000) / 7]
    uniques, inverse, counts = unique_rows(*cols)
    reference, ref_inverse, ref_counts = np.unique(np.column_stack(cols), axis=0, return_inverse=True,
                                                   return_counts=True)
    assert np.array_equal(np.column_stack(uniques), reference)
    assert np.array_equal(counts, ref_counts)
    for u, c in zip(uniques, cols):
        assert np.array_equal(u[inverse], c)


def _bg_reference_expectation(p, t, x, tx, T, k):
    """FHL (2005) eq. (10) / Batislam et al. (2007) eq. (7), written directly without Euler's transform."""
    r, alpha, a, b = p
    hyp = hyp2f1(r + x, b + x + k, a + b + x - 1 + k, t / (alpha + T + t))
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
    delta = 1.0 if k == 1 else (x > 0).astype(float)
    alive_odds = delta * a / (b + x - 1 + k) * ((alpha + T) / (alpha + tx)) ** (r + x)
    return (a + b + x - 1 + k) / (a - 1) * bracket / (1 + alive_odds)


@pytest.mark.parametrize("cls, k", [(BetaGeoModel, 0), (ModifiedBetaGeoModel, 1)])
def test_bg_expectation_matches_direct_formula(cls, k, synthetic):
    x, tx, T = synthetic.simulate_bgnbd(500, seed=5)
    model = _fitted(cls, BG_PARAMS)
    for t in (0.5, 10.0, 52.0):
        ours = model.expected_purchases(t, x, tx, T)
        assert np.allclose(ours, _bg_reference_expectation(BG_PARAMS, t, x, tx, T, k), rtol=1e-9, atol=1e-12)
    r, alpha, a, b = BG_PARAMS
    unconditional = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + 39)) ** r * hyp2f1(r, b, a + b - 1, 39 / (alpha + 39)))
    if k == 0:
        assert _fitted(cls, BG_PARAMS).expected_purchases_new_customer(39.0) == pytest.approx(unconditional, rel=1e-10)


def test_frequent_buyers_stay_finite():
    """Euler's transformation keeps expectations finite where the direct 2F1 overflows."""
    model = _fitted(BetaGeoModel, BG_PARAMS)
    x = np.array([200.0, 500.0, 1000.0])
    values = model.expected_purchases(52.0, x, np.full(3, 104.0), np.full(3, 104.0))
    assert np.all(np.isfinite(values)) and np.all(values > 0)
    assert np.all(np.diff(values) > 0)
    pareto = _fitted(ParetoNBDModel, [0.55, 10.6, 0.6, 200.0])
    assert np.all(np.isfinite(pareto._loglik(pareto._params_array(), x, np.full(3, 100.0), np.full(3, 104.0))))


def _pareto_reference_loglik(p, x, tx, T):
    """Fader & Hardie's note, equation (22), with the 2F1 terms as written (no transformation)."""
    r, alpha, s, beta = p
    if alpha >= beta:
        F = lambda t: hyp2f1(r + s + x, s + 1, r + s + x + 1, (alpha - beta) / (alpha + t)) / (alpha + t) ** (r + s + x)
    else:
        F = lambda t: hyp2f1(r + s + x, r + x, r + s + x + 1, (beta - alpha) / (beta + t)) / (beta + t) ** (r + s + x)
    inside = (alpha + T) ** -(r + x) * (beta + T) ** -s + s / (r + s + x) * (F(tx) - F(T))
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.log(inside)


@pytest.mark.parametrize("params", [[0.55, 10.6, 0.6, 11.7], [0.55, 12.6, 0.6, 11.7], [2.0, 3.0, 0.3, 20.0],
                                    [0.3, 20.0, 1.5, 2.0], [0.5, 5.0, 1.0, 5.0]])
def test_pareto_loglik_matches_direct_formula(params, synthetic):
    x, tx, T = synthetic.simulate_bgnbd(400, seed=6)
    model = _fitted(ParetoNBDModel, params)
    assert np.allclose(model._loglik(np.array(params), x, tx, T), _pareto_reference_loglik(params, x, tx, T),
                       rtol=1e-10)


def test_pareto_expectation_at_s_equal_one_is_the_limit(synthetic):
    x, tx, T = synthetic.simulate_bgnbd(200, seed=7)
    at_one = _fitted(ParetoNBDModel, [0.55, 10.6, 1.0, 11.7]).expected_purchases(10.0, x, tx, T)
    near = _fitted(ParetoNBDModel, [0.55, 10.6, 1.0 + 1e-7, 11.7]).expected_purchases(10.0, x, tx, T)
    assert np.allclose(at_one, near, rtol=1e-5)


@pytest.mark.parametrize("cls, params", [(BetaGeoModel, BG_PARAMS), (ModifiedBetaGeoModel, BG_PARAMS)])
def test_analytic_gradient_matches_differences(cls, params, synthetic):
    x, tx, T = synthetic.simulate_bgnbd(300, seed=8)
    model = cls()
    analytic = model._loglik_gradient(params, x, tx, T).sum(axis=0)
    numeric = central_gradient(lambda p: model._loglik(p, x, tx, T).sum(), params, step=1e-6)
    assert np.allclose(analytic, numeric, rtol=1e-5)


def test_gamma_gamma_gradient_matches_differences(synthetic):
    x, m = synthetic.simulate_spend(300)
    model = GammaGammaModel()
    params = np.array([6.25, 3.74, 15.44])
    analytic = model._loglik_gradient(params, x, m).sum(axis=0)
    numeric = central_gradient(lambda p: model._loglik(p, x, m).sum(), params, step=1e-6)
    assert np.allclose(analytic, numeric, rtol=1e-5)


def test_bgnbd_recovers_simulated_parameters(synthetic):
    x, tx, T = synthetic.simulate_bgnbd(40_000, r=0.5, alpha=6.0, a=0.8, b=2.5, seed=11)
    model = BetaGeoModel().fit(x, tx, T, compute_se=True)
    for name, truth in zip(model.param_names, (0.5, 6.0, 0.8, 2.5)):
        # within 4 standard errors plus 5% for the day rounding of the simulated times
        assert abs(model.params_[name] - truth) < 4 * model.standard_errors_[name] + 0.05 * truth, name


def test_gamma_gamma_recovers_simulated_parameters(synthetic):
    x, m = synthetic.simulate_spend(20_000, seed=12)
    model = GammaGammaModel().fit(x, m, compute_se=True)
    for name, truth in zip(model.param_names, (6.25, 3.74, 15.44)):
        assert abs(model.params_[name] - truth) < 4 * model.standard_errors_[name] + 0.01 * truth, name


def test_probability_alive_properties(synthetic):
    model = _fitted(BetaGeoModel, BG_PARAMS)
    assert model.probability_alive(0, 0, 30) == 1.0
    older = model.probability_alive(3, np.array([5.0, 20.0, 30.0]), 30.0)
    assert np.all(np.diff(older) > 0) and np.all((older > 0) & (older < 1))
    assert _fitted(ModifiedBetaGeoModel, BG_PARAMS).probability_alive(0, 0, 30) < 1.0


def test_time_to_next_purchase():
    model = _fitted(BetaGeoModel, BG_PARAMS)
    values = model.expected_time_to_next_purchase(np.array([0.0, 3.0]), np.array([0.0, 20.0]), 30.0)
    assert values[0] == np.inf
    assert values[1] == pytest.approx((4.414 + 30) / (0.243 + 3 - 1))


def test_penalizer_shrinks_parameters(synthetic):
    x, tx, T = synthetic.simulate_bgnbd(2000, seed=13)
    plain = BetaGeoModel().fit(x, tx, T)
    shrunk = BetaGeoModel(penalizer=0.1).fit(x, tx, T)
    assert sum(v**2 for v in shrunk.params_.values()) < sum(v**2 for v in plain.params_.values())
    with pytest.raises(ModelInputError, match="penalizer"):
        BetaGeoModel(penalizer=-1).fit(x, tx, T)


def test_prediction_inputs_are_checked():
    model = _fitted(BetaGeoModel, BG_PARAMS)
    with pytest.raises(ModelInputError, match="t is negative"):
        model.expected_purchases(-1, 1, 1, 2)
    with pytest.raises(ModelInputError, match="recency is 0 while frequency > 0 for 1 customer"):
        model.probability_alive([1, 2], [1, 0], [3, 3])
    with pytest.raises(ModelInputError, match="ids b"):
        model.probability_alive(pd.Series([1, 2], index=["a", "b"]), pd.Series([1, 4], index=["a", "b"]), 3)


def test_chunked_predictions_equal_unchunked(synthetic):
    x, tx, T = synthetic.simulate_bgnbd(2000, seed=14)
    whole = _fitted(BetaGeoModel, BG_PARAMS).expected_purchases(10, x, tx, T)
    chunked = BetaGeoModel(chunk_size=7)
    chunked.params_ = dict(zip(chunked.param_names, BG_PARAMS))
    assert np.array_equal(chunked.expected_purchases(10, x, tx, T), whole)


def test_expected_clv_is_the_discounted_sum(synthetic):
    bg = _fitted(BetaGeoModel, BG_PARAMS)
    gg = _fitted(GammaGammaModel, [6.25, 3.74, 15.44])
    x, tx, T = np.array([0.0, 2.0]), np.array([0.0, 30.0]), np.array([38.0, 38.0])
    m = np.array([0.0, 25.0])
    clv = gg.expected_clv(bg, x, tx, T, m, horizon=3, discount_rate=0.1, freq_per_period=4.0, margin=0.3)
    flows = [bg.expected_purchases(4.0 * k, x, tx, T) - bg.expected_purchases(4.0 * (k - 1), x, tx, T)
             for k in (1, 2, 3)]
    manual = 0.3 * gg.expected_average_value(x, m) * sum(f / 1.1 ** k for k, f in zip((1, 2, 3), flows))
    assert np.allclose(clv, manual, rtol=1e-12)
    assert gg.expected_average_value(0, 0) == pytest.approx(6.25 * 15.44 / 2.74)
    with pytest.raises(ModelInputError, match="horizon"):
        gg.expected_clv(bg, x, tx, T, m, horizon=0, discount_rate=0.1, freq_per_period=4.0)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_factorised_totals_match_the_plain_sums(cls, synthetic):
    """The fit's fast path (`_total_with_gradient`) equals the per-row reference summed."""
    x, tx, T = synthetic.simulate_bgnbd(3000, seed=15)
    model = cls()
    uniques, inverse, _ = unique_rows(x, tx, T)
    counts = np.bincount(inverse).astype(float)
    prepared = model._prepare(uniques, counts)
    for params in (BG_PARAMS, np.array([1.3, 0.7, 2.0, 0.4])):
        value, grad = model._total_with_gradient(params, prepared)
        assert value == pytest.approx(model._loglik(params, x, tx, T).sum(), rel=1e-12)
        assert model._total(params, prepared) == pytest.approx(value, rel=1e-14)
        assert np.allclose(grad, model._loglik_gradient(params, x, tx, T).sum(axis=0), rtol=1e-10)


def test_unique_rows_fast_path_equals_the_plain_one(synthetic):
    from jingzhun.models.estimation import _unique_rows_lexsort

    cols = synthetic.simulate_bgnbd(5000, seed=16)
    for fast, plain in zip(unique_rows(*cols), _unique_rows_lexsort(*cols)):
        if isinstance(fast, list):
            assert all(np.array_equal(f, p) for f, p in zip(fast, plain))
        else:
            assert np.array_equal(fast, plain)


def test_unique_rows_sorted_path_equals_the_plain_one():
    """Many distinct values (the packed key is grouped by sorting, not by counting)."""
    from jingzhun.models.estimation import _unique_rows_lexsort

    rng = np.random.default_rng(17)
    cols = [rng.integers(0, 50, 4000).astype(float), rng.random(4000).round(3), rng.random(4000).round(3)]
    fast, plain = unique_rows(*cols), _unique_rows_lexsort(*cols)
    assert all(np.array_equal(f, p) for f, p in zip(fast[0], plain[0]))
    assert np.array_equal(fast[1], plain[1]) and np.array_equal(fast[2], plain[2])


@pytest.mark.parametrize("column", [
    np.array([3.0, 0.0, 3.0, 12.0, 1.0]),                     # counts: the grid of whole units
    np.array([0, 1, 8, 8, 365, 2]) / 7,                        # days in weeks: the grid of sevenths
    np.array([1 / 7, 1 / 7 + 1e-12, 2 / 7]),                   # almost on the grid: must not be merged
    np.array([0.5, 0.25, 0.5, -3.0]),                          # off the grids: the sort
    np.array([0.0, 1e15, 3.0]),                                # too wide a span to count
])
def test_codes_give_back_the_column_exactly(column):
    from jingzhun.models.estimation import _codes

    values, codes = _codes(column)
    assert np.array_equal(values, np.unique(column))
    assert np.array_equal(values[codes], column)
