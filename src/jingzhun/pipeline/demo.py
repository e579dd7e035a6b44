"""`jingzhun demo` and `jingzhun sim`: a simulated shop through the same path as a user's data.

The demo simulates a world, creates a project, loads the world's files with their shipped mapping,
runs the build, and summarises what it found, including how well identity resolution recovered the
simulator's true persons (the simulator is the referee). Later issues extend it until it runs the whole
loop.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import ibis

from jingzhun.config import CONFIG_FILE
from jingzhun.errors import ConfigError
from jingzhun.pipeline.build import build
from jingzhun.pipeline.load import load_source
from jingzhun.pipeline.referee import identity_scores
from jingzhun.project import Project

__all__ = ["SIM_MAPPING", "write_simulation", "run_demo"]

log = logging.getLogger(__name__)

SIM_MAPPING = Path(__file__).resolve().parents[1] / "sim" / "mappings" / "sim.yaml"


def write_simulation(out: str | Path, *, customers: int, seed: int = 0) -> Path:
    """Simulate ``customers`` people into ``out`` with the ingest mapping beside the files; returns the mapping."""
    from jingzhun.sim import simulate_to

    out = Path(out)
    simulate_to(out, customers, seed=seed)  # block by block: memory stays flat at any size
    mapping = out / "sim.yaml"
    shutil.copyfile(SIM_MAPPING, mapping)
    return mapping


def _fresh_folder(directory: Path) -> None:
    """Replace a previous demo project, but never a folder that is not one."""
    if not directory.exists():
        return
    if not directory.is_dir():
        raise ConfigError(f"{directory} exists and is not a folder: pass another --dir")
    if any(directory.iterdir()) and not (directory / CONFIG_FILE).exists():
        raise ConfigError(f"{directory} is not empty and holds no jingzhun project: pass another --dir for the demo")
    shutil.rmtree(directory)


def run_demo(directory: str | Path, *, customers: int = 20_000, seed: int = 0,
             on_progress: Callable[[str, int, int], None] | None = None,
             on_step: Callable[[str], None] | None = None) -> dict:
    """Run the demo in ``directory`` (a previous demo there is replaced) and return its summary."""
    directory = Path(directory)
    step = on_step or (lambda s: None)
    timings: dict[str, float] = {}
    _fresh_folder(directory)

    t = time.perf_counter()
    step(f"simulating {customers:,} customers")
    world_dir = directory / "world"
    directory.mkdir(parents=True)
    mapping = write_simulation(world_dir, customers=customers, seed=seed)
    timings["simulate"] = time.perf_counter() - t

    with Project.init(directory) as project:
        wh = project.warehouse
        t = time.perf_counter()
        step("loading the world's files (read, map, clean, pseudonymise, write)")
        report = load_source(wh, mapping, secret=project.secret, settings=project.settings, on_progress=on_progress)
        timings["ingest"] = time.perf_counter() - t

        t = time.perf_counter()
        step("building: reference checks, identity graph, profiles")
        result = build(wh, project.settings, project_dir=project.root)
        timings["build"] = time.perf_counter() - t

        t = time.perf_counter()
        step("checking identities against the simulator's truth")
        scores = identity_scores(wh, world_dir / "truth", secret=project.secret, settings=project.settings)
        timings["referee"] = time.perf_counter() - t

        summary = {
            "project": str(project.root),
            "customers_simulated": customers,
            "seed": seed,
            "load": report.to_dict(),
            "build": result.steps,
            "identity_vs_truth": scores,
            "shop": _shop_figures(wh),
            "seconds": {k: round(v, 1) for k, v in timings.items()},
        }
    return summary


def _shop_figures(wh) -> dict:
    orders = wh.table("orders")
    purchases = orders.filter(~orders.is_return)
    profiles = wh.table("profiles")
    agg = wh.execute(purchases.aggregate(
        orders=purchases.count(), revenue=purchases.amount.sum(),
        first=purchases.ordered_at.min(), last=purchases.ordered_at.max(),
    )).iloc[0]
    by_channel = wh.execute(
        purchases.group_by("channel").agg(orders=purchases.count(), revenue=purchases.amount.sum())
        .order_by(ibis.desc("revenue"))
    )
    return {
        "profiles": int(wh.execute(profiles.count())),
        "orders": int(agg.orders),
        "revenue": round(float(agg.revenue or 0), 2),
        "returns": int(wh.execute(orders.filter(orders.is_return).count())),
        "period": [str(agg["first"]), str(agg["last"])],
        "by_channel": [
            {"channel": r.channel, "orders": int(r.orders), "revenue": round(float(r.revenue), 2)}
            for r in by_channel.itertuples()
        ],
    }
