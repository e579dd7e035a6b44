"""BG/NBD fitting: jingzhun's BetaGeoModel against lifetimes' BetaGeoFitter, side by side.

    python -m benchmarks.bench_btyd [--customers N] [--referee-customers M]

Customers' (frequency, recency, T) are drawn from a BG/NBD process (a small seeded generator
here), with times recorded to the day and expressed in weeks, as a transaction log summarised by
jingzhun.models.btyd.data would give them. Both libraries fit the same arrays in the same run. If
lifetimes would take too long at N, it is timed at M customers and its time at N extrapolated
linearly (its cost is linear in customers: one pass of autograd over all rows per evaluation); the
printout says which figures are measured and which are extrapolated.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402

from jingzhun.models import BetaGeoModel  # noqa: E402

TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def generate(n: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frequency, recency, T) of n BG/NBD customers; T between 27 and 52 weeks, times to the day."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE["r"], 1.0 / TRUE["alpha"], n)
    p = rng.beta(TRUE["a"], TRUE["b"], n)
    T_days = rng.integers(27 * 7, 52 * 7 + 1, n)
    T = T_days / 7
    potential = rng.poisson(lam * T)
    x = np.minimum(potential, rng.geometric(p))
    recency_days = np.zeros(n)
    buyers = x > 0
    last = T[buyers] * rng.beta(x[buyers], potential[buyers] - x[buyers] + 1)
    recency_days[buyers] = np.clip(np.ceil(last * 7), 1, T_days[buyers])
    return x.astype(np.float64), recency_days / 7, T


def _sig3(a: float, b: float) -> bool:
    return f"{a:.2e}" == f"{b:.2e}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--referee-customers", type=int, default=None,
                        help="customers for the lifetimes run (default: the same as --customers)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="fits per library; the best time of each is reported (the machine may be busy)")
    parser.add_argument("--no-referee", action="store_true", help="time jingzhun only")
    args = parser.parse_args(argv)

    n = args.customers
    t0 = time.perf_counter()
    x, r, T = generate(n)
    print(f"generated {n:,} customers in {time.perf_counter() - t0:.2f}s "
          f"({(x > 0).mean():.1%} repeat buyers, max frequency {int(x.max())})")

    ours_time = np.inf
    for _ in range(max(args.repeats, 1)):
        t0 = time.perf_counter()
        ours = BetaGeoModel().fit(x, r, T)
        ours_time = min(ours_time, time.perf_counter() - t0)
    print(f"jingzhun BetaGeoModel: {ours_time:.2f}s at {n:,} customers, best of {max(args.repeats, 1)} "
          f"({ours.fit_info_['n_unique']:,} distinct histories, {ours.fit_info_['iterations']} iterations)")
    print("  params", {k: round(v, 4) for k, v in ours.params_.items()}, f"log-likelihood {ours.log_likelihood_:.1f}")

    # the cost without compression's help: the likelihood over all rows, as many times as the fit used
    p = ours._params_array()
    t0 = time.perf_counter()
    ours._loglik(p, x, r, T)
    ours._loglik_gradient(p, x, r, T)
    per_eval = time.perf_counter() - t0
    print(f"  (uncompressed, one likelihood+gradient pass over all {n:,} rows takes {per_eval:.2f}s; "
          f"x {ours.fit_info_['evaluations']} evaluations = {per_eval * ours.fit_info_['evaluations']:.2f}s)")

    if args.no_referee:
        return 0
    try:
        from lifetimes import BetaGeoFitter
    except ImportError:
        print("lifetimes is not installed (pip install -e '.[dev]'): no comparison")
        return 0
    m = min(args.referee_customers or n, n)
    theirs_time = np.inf
    for _ in range(max(args.repeats, 1)):
        t0 = time.perf_counter()
        theirs = BetaGeoFitter().fit(x[:m], r[:m], T[:m])
        theirs_time = min(theirs_time, time.perf_counter() - t0)
    theirs_params = {k: float(theirs.params_[k]) for k in TRUE}
    if m == n:
        print(f"lifetimes BetaGeoFitter: {theirs_time:.2f}s at {n:,} customers (measured, best of {max(args.repeats, 1)})")
        theirs_at_n, how = theirs_time, "measured"
    else:
        theirs_at_n, how = theirs_time * n / m, "extrapolated linearly"
        print(f"lifetimes BetaGeoFitter: {theirs_time:.2f}s at {m:,} customers (measured); "
              f"{theirs_at_n:.1f}s at {n:,} ({how})")
    print("  params", {k: round(v, 4) for k, v in theirs_params.items()})
    print(f"speed-up: {theirs_at_n / ours_time:.1f}x ({how}; target >= 30x)")
    if m == n:
        agree = {k: _sig3(ours.params_[k], theirs_params[k]) for k in TRUE}
        print("parameters agree to 3 significant digits:", agree)
    else:
        same = BetaGeoModel().fit(x[:m], r[:m], T[:m])
        agree = {k: _sig3(same.params_[k], theirs_params[k]) for k in TRUE}
        print(f"parameters on the same {m:,} customers agree to 3 significant digits:", agree,
              {k: round(v, 4) for k, v in same.params_.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
