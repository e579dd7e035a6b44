"""Experiment statistics: did an arm change an outcome against control, by how much, and how sure are we.

Conversion-type outcomes (0/1 per person) are compared with the two-proportion z test (pooled standard
error for the p-value, unpooled Wald interval), or, when an expected cell count is below 5, Fisher's
exact test with Newcombe's hybrid score interval. Money-type outcomes are compared with Welch's t test
(and, on request, a percentile bootstrap). A pre-period covariate reduces variance by CUPED (Deng, Xu,
Kohavi & Walker 2013). p-values across several comparisons are adjusted by Holm or Benjamini-Hochberg.
The sample-ratio-mismatch check is a chi-square goodness-of-fit test of the arm sizes against the
planned shares. Beside the frequentist answer: the probability that the arm beats control and the
expected loss of choosing it (Beta posteriors for conversions, a normal posterior for means).

Everything works on numpy arrays or pandas columns of one row per person; nothing here reads a
warehouse (the campaign measurement does that and hands the arrays in).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from jingzhun.errors import InputError

__all__ = [
    "Comparison", "ExperimentResult", "SampleRatio", "compare_proportions", "compare_means", "bootstrap_mean_diff",
    "cuped", "adjust_pvalues", "sample_ratio_check", "analyse", "sample_size_proportions", "sample_size_means",
    "power_proportions",
]

log = logging.getLogger(__name__)

SRM_ALPHA = 0.001  # a sample-ratio mismatch is declared below this p-value (a common, strict threshold)


@dataclass(frozen=True)
class Comparison:
    """One arm against control on one outcome."""

    arm: str
    control: str
    outcome: str
    kind: str  # "proportion" or "mean"
    n_arm: int
    n_control: int
    arm_value: float  # rate or mean in the arm
    control_value: float
    diff: float  # arm - control
    ci_low: float
    ci_high: float
    relative_lift: float | None  # arm / control - 1 (None when control is 0)
    p_value: float
    test: str
    p_adjusted: float | None = None
    prob_beats_control: float | None = None
    expected_loss: float | None = None
    alpha: float = 0.05
    variance_reduction: float | None = None  # CUPED: var(raw) / var(adjusted)

    @property
    def significant(self) -> bool:
        p = self.p_adjusted if self.p_adjusted is not None else self.p_value
        return p < self.alpha

    def decision(self) -> str:
        """The comparison as a sentence a marketer can act on."""
        level = f"{1 - self.alpha:.0%}"
        if self.kind == "proportion":
            effect = f"{self.diff * 100:+.1f} pp"
            ci = f"{level} CI {self.ci_low * 100:+.1f} to {self.ci_high * 100:+.1f} pp"
        else:
            effect = f"{self.diff:+.3g} per person"
            ci = f"{level} CI {self.ci_low:+.3g} to {self.ci_high:+.3g}"
        p = self.p_adjusted if self.p_adjusted is not None else self.p_value
        p_text = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        if self.p_adjusted is not None:
            p_text += " (adjusted)"
        if not self.significant:
            return f"{self.arm} vs {self.control} on {self.outcome}: {effect} ({ci}), {p_text}: no clear difference"
        verb = "beats" if self.diff > 0 else "does worse than"
        return f"{self.arm} {verb} {self.control} on {self.outcome}: {effect} ({ci}), {p_text}"

    def to_dict(self) -> dict:
        return {**asdict(self), "significant": self.significant, "decision": self.decision()}


@dataclass(frozen=True)
class SampleRatio:
    """The sample-ratio-mismatch check: observed arm sizes against the planned shares."""

    observed: dict[str, int]
    expected_shares: dict[str, float]
    chi2: float
    p_value: float

    @property
    def mismatch(self) -> bool:
        return self.p_value < SRM_ALPHA

    def to_dict(self) -> dict:
        return {**asdict(self), "mismatch": self.mismatch}


@dataclass
class ExperimentResult:
    arms: pd.DataFrame  # one row per arm: n and each outcome's rate or mean
    comparisons: list[Comparison] = field(default_factory=list)
    sample_ratio: SampleRatio | None = None

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_dict() for c in self.comparisons])

    def decisions(self) -> list[str]:
        return [c.decision() for c in self.comparisons]


# -- proportions -----------------------------------------------------------------------------------------
def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _beta_posterior(x_t: int, n_t: int, x_c: int, n_c: int, draws: int, seed: int) -> tuple[float, float]:
    """P(rate_t > rate_c) and E[max(rate_c - rate_t, 0)] under Beta(1 + x, 1 + n - x) posteriors."""
    rng = np.random.default_rng(seed)
    t = rng.beta(1 + x_t, 1 + n_t - x_t, draws)
    c = rng.beta(1 + x_c, 1 + n_c - x_c, draws)
    return float(np.mean(t > c)), float(np.mean(np.maximum(c - t, 0.0)))


def compare_proportions(x_arm: int, n_arm: int, x_control: int, n_control: int, *, alpha: float = 0.05,
                        arm: str = "arm", control: str = "control", outcome: str = "conversion",
                        exact: bool | None = None, draws: int = 200_000, seed: int = 0) -> Comparison:
    """Two proportions: z test with a Wald interval, or Fisher's exact test with Newcombe's interval.

    ``exact=None`` chooses the exact test when any expected cell of the 2x2 table is below 5.
    """
    for name, x, n in (("arm", x_arm, n_arm), ("control", x_control, n_control)):
        if n <= 0 or x < 0 or x > n:
            raise InputError(f"{name} has {x} successes out of {n}: need 0 <= successes <= n and n > 0",
                             field=name)
    p_t, p_c = x_arm / n_arm, x_control / n_control
    diff = p_t - p_c
    z = stats.norm.ppf(1 - alpha / 2)
    pooled = (x_arm + x_control) / (n_arm + n_control)
    table = np.array([[x_arm, n_arm - x_arm], [x_control, n_control - x_control]], dtype=float)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if exact is None:
        exact = bool((expected < 5).any())
    if exact:
        p_value = float(stats.fisher_exact(table.astype(int), alternative="two-sided").pvalue)
        lt, ut = _wilson(x_arm, n_arm, z)
        lc, uc = _wilson(x_control, n_control, z)
        low = diff - math.sqrt((p_t - lt) ** 2 + (uc - p_c) ** 2)
        high = diff + math.sqrt((ut - p_t) ** 2 + (p_c - lc) ** 2)
        test = "Fisher exact test, Newcombe interval"
    else:
        se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_arm + 1 / n_control))
        p_value = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(diff) / se0))
        se = math.sqrt(p_t * (1 - p_t) / n_arm + p_c * (1 - p_c) / n_control)
        low, high = diff - z * se, diff + z * se
        test = "two-proportion z test, Wald interval"
    prob, loss = _beta_posterior(x_arm, n_arm, x_control, n_control, draws, seed)
    return Comparison(arm=arm, control=control, outcome=outcome, kind="proportion", n_arm=n_arm, n_control=n_control,
                      arm_value=p_t, control_value=p_c, diff=diff, ci_low=low, ci_high=high,
                      relative_lift=(p_t / p_c - 1) if p_c > 0 else None, p_value=p_value, test=test,
                      prob_beats_control=prob, expected_loss=loss, alpha=alpha)


# -- means -----------------------------------------------------------------------------------------------
def _values(values, name: str) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or a.size < 2:
        raise InputError(f"{name} needs at least two values, got {a.size}", field=name)
    bad = ~np.isfinite(a)
    if bad.any():
        raise InputError(f"{name} has {int(bad.sum())} missing or infinite values (first at position "
                         f"{int(np.flatnonzero(bad)[0])}); fill or drop them first", field=name)
    return a


def compare_means(arm_values, control_values, *, alpha: float = 0.05, arm: str = "arm", control: str = "control",
                  outcome: str = "revenue", test_name: str = "Welch t test") -> Comparison:
    """Difference of means by Welch's t test (unequal variances) and its t interval."""
    a, c = _values(arm_values, arm), _values(control_values, control)
    va, vc = a.var(ddof=1) / a.size, c.var(ddof=1) / c.size
    se = math.sqrt(va + vc)
    diff = float(a.mean() - c.mean())
    if se == 0:
        p_value, low, high = (1.0 if diff == 0 else 0.0), diff, diff
    else:
        df = (va + vc) ** 2 / (va ** 2 / (a.size - 1) + vc ** 2 / (c.size - 1))
        p_value = float(2 * stats.t.sf(abs(diff) / se, df))
        half = stats.t.ppf(1 - alpha / 2, df) * se
        low, high = diff - half, diff + half
    # normal posterior of the difference (flat prior): P(> 0) and E[max(-D, 0)]
    if se > 0:
        d = diff / se
        prob = float(stats.norm.cdf(d))
        loss = float(se * stats.norm.pdf(d) - diff * stats.norm.cdf(-d))
    else:
        prob, loss = float(diff > 0), max(-diff, 0.0)
    cm = float(c.mean())
    return Comparison(arm=arm, control=control, outcome=outcome, kind="mean", n_arm=int(a.size),
                      n_control=int(c.size), arm_value=float(a.mean()), control_value=cm, diff=diff, ci_low=low,
                      ci_high=high, relative_lift=(float(a.mean()) / cm - 1) if cm != 0 else None, p_value=p_value,
                      test=test_name, prob_beats_control=prob, expected_loss=loss, alpha=alpha)


def bootstrap_mean_diff(arm_values, control_values, *, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0,
                        chunk: int = 100) -> tuple[float, float, float]:
    """Percentile bootstrap interval of the difference of means: (diff, low, high). Deterministic by seed."""
    a, c = _values(arm_values, "arm"), _values(control_values, "control")
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        ia = rng.integers(0, a.size, (k, a.size))
        ic = rng.integers(0, c.size, (k, c.size))
        diffs[start:start + k] = a[ia].mean(axis=1) - c[ic].mean(axis=1)
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    return float(a.mean() - c.mean()), float(low), float(high)


def cuped(outcome, covariate) -> tuple[np.ndarray, float, float]:
    """CUPED-adjusted outcomes ``y - theta (x - mean x)``, theta = cov(y, x) / var(x) over everyone.

    Returns (adjusted, theta, variance reduction factor var(y) / var(adjusted)). The adjustment leaves every
    group's expected mean unchanged when the covariate was measured before assignment.
    """
    y, x = _values(outcome, "outcome"), _values(covariate, "covariate")
    if y.size != x.size:
        raise InputError(f"outcome has {y.size} values and covariate {x.size}; they must be one per person",
                         field="covariate")
    vx = x.var(ddof=1)
    if vx == 0:
        return y.copy(), 0.0, 1.0
    theta = float(np.cov(y, x, ddof=1)[0, 1] / vx)
    adjusted = y - theta * (x - x.mean())
    va = adjusted.var(ddof=1)
    return adjusted, theta, float(y.var(ddof=1) / va) if va > 0 else float("inf")


def adjust_pvalues(pvalues: Sequence[float], method: str = "holm") -> np.ndarray:
    """Holm's step-down (family-wise error) or Benjamini-Hochberg's step-up (false discovery rate)."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method in ("bh", "fdr_bh", "benjamini-hochberg"):
        adj = np.minimum.accumulate((m / np.arange(1, m + 1) * ranked)[::-1])[::-1]
    else:
        raise InputError(f"unknown correction {method!r}; use 'holm' or 'bh'", field="correction")
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def sample_ratio_check(counts: Mapping[str, int], expected_shares: Mapping[str, float] | None = None) -> SampleRatio:
    """Chi-square goodness of fit of the arm sizes against the planned shares (equal shares by default)."""
    arms = list(counts)
    if len(arms) < 2:
        raise InputError("a sample-ratio check needs at least two arms", field="arm")
    shares = dict(expected_shares) if expected_shares else {a: 1 / len(arms) for a in arms}
    missing = [a for a in arms if a not in shares]
    if missing:
        raise InputError(f"no planned share for arm(s) {missing}", field="expected_shares")
    total_share = sum(shares[a] for a in arms)
    observed = np.array([counts[a] for a in arms], dtype=float)
    expected = np.array([shares[a] / total_share for a in arms]) * observed.sum()
    chi2, p = stats.chisquare(observed, expected)
    return SampleRatio(observed={a: int(counts[a]) for a in arms},
                       expected_shares={a: shares[a] / total_share for a in arms}, chi2=float(chi2), p_value=float(p))


def analyse(frame: pd.DataFrame, *, arm: str, control: str, outcomes: Mapping[str, str], alpha: float = 0.05,
            correction: str | None = "holm", covariate: str | None = None,
            expected_shares: Mapping[str, float] | None = None, seed: int = 0) -> ExperimentResult:
    """Every arm against ``control`` on every outcome (``name -> "proportion" | "mean"``).

    ``covariate`` (a pre-period column) applies CUPED to the mean outcomes. p-values are adjusted across all
    the comparisons by ``correction`` (None: none). The sample-ratio check uses ``expected_shares``.
    """
    if arm not in frame.columns:
        raise InputError(f"no arm column {arm!r}; columns are {list(frame.columns)}", field=arm)
    missing = [c for c in [*outcomes, *([covariate] if covariate else [])] if c not in frame.columns]
    if missing:
        raise InputError(f"no column {missing[0]!r}; columns are {list(frame.columns)}", field=missing[0])
    groups = {str(k): g for k, g in frame.groupby(arm, sort=True)}
    if control not in groups:
        raise InputError(f"control arm {control!r} not found; arms are {sorted(groups)}", field=arm)
    rows = []
    for name, g in groups.items():
        rows.append({"arm": name, "n": len(g), **{o: float(g[o].mean()) for o in outcomes}})
    comparisons: list[Comparison] = []
    adjusted = {}
    if covariate:
        for o, kind in outcomes.items():
            if kind == "mean":
                adjusted[o] = cuped(frame[o].to_numpy(), frame[covariate].to_numpy())
    for name, g in groups.items():
        if name == control:
            continue
        c = groups[control]
        for o, kind in outcomes.items():
            if kind == "proportion":
                values = frame[o].dropna().unique()
                if not set(values) <= {0, 1, True, False}:
                    raise InputError(f"outcome {o!r} is declared a proportion but has values other than 0 and 1",
                                     field=o)
                comparisons.append(compare_proportions(int(g[o].sum()), len(g), int(c[o].sum()), len(c),
                                                       alpha=alpha, arm=name, control=control, outcome=o, seed=seed))
            elif kind == "mean":
                if o in adjusted:
                    values, _, factor = adjusted[o]
                    series = pd.Series(values, index=frame.index)
                    cmp = compare_means(series[g.index], series[c.index], alpha=alpha, arm=name, control=control,
                                        outcome=o, test_name="Welch t test on CUPED-adjusted values")
                    cmp = Comparison(**{**asdict(cmp), "variance_reduction": factor})
                else:
                    cmp = compare_means(g[o], c[o], alpha=alpha, arm=name, control=control, outcome=o)
                comparisons.append(cmp)
            else:
                raise InputError(f"outcome {o!r} has kind {kind!r}; use 'proportion' or 'mean'", field=o)
    if correction and len(comparisons) > 1:
        adj = adjust_pvalues([c.p_value for c in comparisons], correction)
        comparisons = [Comparison(**{**asdict(c), "p_adjusted": float(a)}) for c, a in zip(comparisons, adj)]
    srm = sample_ratio_check({k: len(g) for k, g in groups.items()}, expected_shares)
    if srm.mismatch:
        log.warning("sample ratio mismatch: arm sizes %s against planned shares %s (p = %.2g); the comparisons "
                    "are not trustworthy until the cause is found", srm.observed, srm.expected_shares, srm.p_value)
    return ExperimentResult(arms=pd.DataFrame(rows), comparisons=comparisons, sample_ratio=srm)


# -- planning --------------------------------------------------------------------------------------------
def power_proportions(p_control: float, p_arm: float, n_per_arm: int, *, alpha: float = 0.05) -> float:
    """Power of the two-sided two-proportion z test with ``n_per_arm`` people in each arm."""
    za = stats.norm.ppf(1 - alpha / 2)
    pbar = (p_control + p_arm) / 2
    se0 = math.sqrt(2 * pbar * (1 - pbar) / n_per_arm)
    se1 = math.sqrt((p_control * (1 - p_control) + p_arm * (1 - p_arm)) / n_per_arm)
    d = abs(p_arm - p_control)
    return float(stats.norm.cdf((d - za * se0) / se1) + stats.norm.cdf((-d - za * se0) / se1))


def sample_size_proportions(p_control: float, p_arm: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """People per arm to detect ``p_arm`` against ``p_control`` (two-sided z test, equal arms)."""
    if not (0 < p_control < 1 and 0 < p_arm < 1) or p_control == p_arm:
        raise InputError("rates must lie strictly between 0 and 1 and differ", field="p_arm")
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    pbar = (p_control + p_arm) / 2
    top = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p_control * (1 - p_control) + p_arm * (1 - p_arm))
    return int(math.ceil(top ** 2 / (p_arm - p_control) ** 2))


def sample_size_means(effect: float, sd: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """People per arm to detect a difference ``effect`` in means with standard deviation ``sd`` (t test)."""
    if effect == 0 or sd <= 0:
        raise InputError("effect must be non-zero and sd positive", field="effect")
    d = abs(effect) / sd
    n = 2 * (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) ** 2 / d ** 2
    # refine with the t distribution: the smallest n whose noncentral-t power reaches the target
    n = max(int(math.floor(n)), 2)
    while True:
        df = 2 * n - 2
        crit = stats.t.ppf(1 - alpha / 2, df)
        nc = d * math.sqrt(n / 2)
        achieved = stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc)
        if achieved >= power:
            return n
        n += 1
