"""The vectorised BG/NBD timing agrees with the plain per-person loop."""

from __future__ import annotations

import numpy as np

from jingzhun.sim.options import SimOptions
from jingzhun.sim.purchases import reference_timing, simulate_timing


class _People:
    def __init__(self, lam, p):
        self.lam, self.p, self.n = lam, p, len(lam)


def test_vectorised_timing_matches_the_reference_loop():
    opts = SimOptions()
    rng = np.random.default_rng(5)
    n = 20_000
    lam = rng.gamma(opts.bgnbd_r, 1 / opts.bgnbd_alpha, n)
    p = rng.beta(opts.bgnbd_a, opts.bgnbd_b, n)
    fast = simulate_timing(np.random.default_rng(1), _People(lam, p), opts)
    times, alive = reference_timing(np.random.default_rng(2), lam, p, fast.t0, opts.window_weeks)
    x_ref = np.array([len(t) for t in times])
    # same process: mean repeat purchases and alive share agree within sampling error
    se = np.sqrt(fast.x.var() / n + x_ref.var() / n)
    assert abs(fast.x.mean() - x_ref.mean()) < 4 * se
    assert abs(fast.alive.mean() - alive.mean()) < 4 * np.sqrt(0.25 * 2 / n)
    assert (fast.t[fast.t > 0] <= opts.window_weeks).all()
    last_ref = np.array([t[-1] - t0 if t else 0.0 for t, t0 in zip(times, fast.t0)])
    spans = np.zeros(n)
    has = fast.x > 0
    order_last = np.r_[np.flatnonzero(np.diff(fast.person)), len(fast.person) - 1]
    spans[has] = (fast.t[order_last] - fast.t0)[has]
    assert abs(spans.mean() - last_ref.mean()) < 4 * np.sqrt(spans.var() / n + last_ref.var() / n)
