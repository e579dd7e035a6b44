"""Experiment statistics against independent computations (scipy, statsmodels) and the Hillstrom test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from jingzhun.errors import InputError
from jingzhun.measure.experiments import (
    adjust_pvalues, analyse, bootstrap_mean_diff, compare_means, compare_proportions, cuped, power_proportions,
    sample_ratio_check, sample_size_means, sample_size_proportions,
)

sm_prop = pytest.importorskip("statsmodels.stats.proportion")
sm_multi = pytest.importorskip("statsmodels.stats.multitest")
sm_power = pytest.importorskip("statsmodels.stats.power")


@pytest.mark.parametrize("x_t, n_t, x_c, n_c", [(120, 1000, 100, 1000), (30, 400, 45, 410), (3895, 21307, 2262, 21306)])
def test_proportions_equal_statsmodels(x_t, n_t, x_c, n_c):
    ours = compare_proportions(x_t, n_t, x_c, n_c, exact=False)
    z, p = sm_prop.proportions_ztest([x_t, x_c], [n_t, n_c])
    low, high = sm_prop.confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff")
    assert ours.p_value == pytest.approx(p, rel=1e-9, abs=1e-300)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert ours.diff == pytest.approx(x_t / n_t - x_c / n_c)


def test_small_counts_use_the_exact_test_and_newcombe_interval():
    ours = compare_proportions(4, 40, 0, 38)
    assert ours.test.startswith("Fisher")
    assert ours.p_value == pytest.approx(stats.fisher_exact([[4, 36], [0, 38]]).pvalue)
    low, high = sm_prop.confint_proportions_2indep(4, 40, 0, 38, method="newcomb", compare="diff")
    assert (ours.ci_low, ours.ci_high) == pytest.approx((low, high), rel=1e-6)


def test_means_equal_scipy_welch():
    rng = np.random.default_rng(3)
    a, c = rng.gamma(2.0, 3.0, 500), rng.gamma(2.0, 2.6, 640)
    ours = compare_means(a, c)
    ref = stats.ttest_ind(a, c, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_bootstrap_interval_is_deterministic_and_near_the_t_interval():
    rng = np.random.default_rng(5)
    a, c = rng.normal(10.5, 3, 800), rng.normal(10.0, 3, 800)
    first, again = bootstrap_mean_diff(a, c, seed=1), bootstrap_mean_diff(a, c, seed=1)
    assert first == again
    welch = compare_means(a, c)
    assert first[1] == pytest.approx(welch.ci_low, abs=0.05) and first[2] == pytest.approx(welch.ci_high, abs=0.05)


@pytest.mark.parametrize("method, theirs", [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_pvalues_equal_statsmodels(method, theirs):
    p = [0.01, 0.04, 0.03, 0.2, 0.0001, 0.04]
    assert np.allclose(adjust_pvalues(p, method), sm_multi.multipletests(p, method=theirs)[1])


def test_sample_ratio_check_flags_a_broken_split():
    fine = sample_ratio_check({"a": 5030, "b": 4970})
    assert not fine.mismatch and fine.p_value == pytest.approx(stats.chisquare([5030, 4970]).pvalue)
    broken = sample_ratio_check({"a": 5300, "b": 4700})
    assert broken.mismatch
    planned = sample_ratio_check({"treated": 9000, "control": 1000}, {"treated": 0.9, "control": 0.1})
    assert not planned.mismatch
    with pytest.raises(InputError, match="no planned share"):
        sample_ratio_check({"a": 1, "b": 2}, {"a": 1.0})


def test_cuped_reduces_variance_without_bias():
    """Over repeated simulated experiments the CUPED estimate is centred on the true effect, with less spread."""
    rng = np.random.default_rng(11)
    raw, adjusted, factors = [], [], []
    for _ in range(200):
        pre = rng.gamma(2.0, 50.0, 2000)
        treated = rng.random(2000) < 0.5
        post = 0.8 * pre + rng.normal(0, 30, 2000) + 5.0 * treated
        raw.append(post[treated].mean() - post[~treated].mean())
        adj, theta, factor = cuped(post, pre)
        adjusted.append(adj[treated].mean() - adj[~treated].mean())
        factors.append(factor)
    assert np.mean(adjusted) == pytest.approx(5.0, abs=0.3)
    assert np.var(raw) / np.var(adjusted) == pytest.approx(np.mean(factors), rel=0.3)
    assert np.mean(factors) == pytest.approx(4100 / 900, rel=0.05)  # 1 / (1 - rho^2) of this design


def test_sample_sizes_reach_their_power():
    n = sample_size_proportions(0.10, 0.12)
    assert power_proportions(0.10, 0.12, n) >= 0.8 > power_proportions(0.10, 0.12, n - 60)
    n_means = sample_size_means(0.2, 1.0)
    theirs = sm_power.TTestIndPower().solve_power(effect_size=0.2, alpha=0.05, power=0.8)
    assert n_means == int(np.ceil(theirs))
    with pytest.raises(InputError):
        sample_size_proportions(0.1, 0.1)


def test_bad_inputs_are_named():
    with pytest.raises(InputError, match="successes"):
        compare_proportions(5, 4, 1, 10)
    with pytest.raises(InputError, match="missing or infinite"):
        compare_means([1.0, np.nan, 2.0], [1.0, 2.0])
    frame = pd.DataFrame({"arm": ["a", "b"], "y": [1, 0]})
    with pytest.raises(InputError, match="control arm"):
        analyse(frame, arm="arm", control="zz", outcomes={"y": "proportion"})
    with pytest.raises(InputError, match="declared a proportion"):
        analyse(frame.assign(y=[2, 0]), arm="arm", control="a", outcomes={"y": "proportion"})


# -- Hillstrom: the MineThatData e-mail experiment --------------------------------------------------------
@pytest.fixture(scope="module")
def hillstrom(datasets):
    path = datasets / "hillstrom" / "hillstrom.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return pd.read_csv(path)


PUBLISHED = {  # n, visit rate, conversion rate, spend per customer (../shared/datasets/README.md)
    "Mens E-Mail": (21307, 0.1828, 0.0125, 1.4226),
    "Womens E-Mail": (21387, 0.1514, 0.0088, 1.0772),
    "No E-Mail": (21306, 0.1062, 0.0057, 0.6528),
}


def test_hillstrom_arms_lifts_and_sample_ratio(hillstrom):
    result = analyse(hillstrom, arm="segment", control="No E-Mail",
                     outcomes={"visit": "proportion", "conversion": "proportion", "spend": "mean"}, correction=None)
    arms = result.arms.set_index("arm")
    for name, (n, visit, conversion, spend) in PUBLISHED.items():
        assert arms.loc[name, "n"] == n
        assert arms.loc[name, "visit"] == pytest.approx(visit, abs=5e-5)
        assert arms.loc[name, "conversion"] == pytest.approx(conversion, abs=5e-5)
        assert arms.loc[name, "spend"] == pytest.approx(spend, abs=5e-5)
    control = hillstrom[hillstrom.segment == "No E-Mail"]
    for c in result.comparisons:
        arm = hillstrom[hillstrom.segment == c.arm]
        if c.kind == "proportion":
            x_t, x_c = int(arm[c.outcome].sum()), int(control[c.outcome].sum())
            _, p = sm_prop.proportions_ztest([x_t, x_c], [len(arm), len(control)])
            low, high = sm_prop.confint_proportions_2indep(x_t, len(arm), x_c, len(control), method="wald",
                                                           compare="diff")
        else:
            ref = stats.ttest_ind(arm.spend, control.spend, equal_var=False)
            p, (low, high) = ref.pvalue, ref.confidence_interval(0.95)
        assert c.p_value == pytest.approx(p, rel=1e-6, abs=1e-300), c
        assert (c.ci_low, c.ci_high) == pytest.approx((low, high), rel=1e-9), c
    assert not result.sample_ratio.mismatch
    decisions = result.decisions()
    mens_visit = next(d for d in decisions if d.startswith("Mens E-Mail") and "on visit" in d)
    assert mens_visit.startswith("Mens E-Mail beats No E-Mail on visit: +7.7 pp") and "p < 0.001" in mens_visit
    print("\n" + "\n".join(decisions))
