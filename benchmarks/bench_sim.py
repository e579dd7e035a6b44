"""The simulator: `simulate(N).write(tmpdir)` against a plain per-customer Python loop, side by side.

    python -m benchmarks.bench_sim [--customers N] [--loop-customers M]

Prints the time of simulation and of writing, the rows written per second, and, for the purchase
process alone, purchases generated per second by the vectorised kernel and by the plain loop
(`jingzhun.sim.purchases.reference_timing`) on a sample of M persons, with their ratio.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from jingzhun.sim import simulate  # noqa: E402
from jingzhun.sim.options import SimOptions  # noqa: E402
from jingzhun.sim.purchases import reference_timing, simulate_timing  # noqa: E402


class _People:
    def __init__(self, lam, p):
        self.lam, self.p, self.n = lam, p, len(lam)


def _purchase_rates(m: int) -> tuple[float, float]:
    opts = SimOptions()
    rng = np.random.default_rng(0)
    lam = rng.gamma(opts.bgnbd_r, 1 / opts.bgnbd_alpha, m)
    p = rng.beta(opts.bgnbd_a, opts.bgnbd_b, m)
    t0 = time.perf_counter()
    fast = simulate_timing(np.random.default_rng(1), _People(lam, p), opts)
    fast_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    times, _ = reference_timing(np.random.default_rng(2), lam, p, fast.t0, opts.window_weeks)
    loop_s = time.perf_counter() - t0
    return len(fast.t) / fast_s, (m + sum(len(t) for t in times)) / loop_s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--loop-customers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"simulate({args.customers:,}).write(tmpdir) on {os.cpu_count()} cores, load average {load:.1f}")
    t0 = time.perf_counter()
    world = simulate(args.customers, seed=args.seed)
    sim_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="jingzhun-bench-sim-") as tmp:
        t0 = time.perf_counter()
        world.write(tmp)
        write_s = time.perf_counter() - t0
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tmp) for f in fs)
    rows = sum(getattr(world, k).num_rows for k in ("customers", "orders", "order_lines", "events", "consents",
                                                      "reviews", "referrals", "persons", "identifiers", "records"))
    total = sim_s + write_s
    print(f"  simulate {sim_s:6.1f} s   write {write_s:6.1f} s   total {total:6.1f} s   (target < 60 s)")
    print(f"  {rows:,} rows, {size / 1e6:,.0f} MB; {rows / total:,.0f} rows/s end to end")
    for k in ("customers", "orders", "order_lines", "events", "identifiers"):
        print(f"    {k:12s} {getattr(world, k).num_rows:>12,}")
    fast, loop = _purchase_rates(args.loop_customers)
    print(f"purchase process on {args.loop_customers:,} persons (purchases generated per second):")
    print(f"  vectorised {fast:14,.0f}/s   plain loop {loop:12,.0f}/s   ratio {fast / loop:,.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
