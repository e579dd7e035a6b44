"""`jingzhun demo` and `jingzhun sim`: a simulated shop through the same path as a user's data.

The demo simulates a world, creates a project, loads the world's files with their shipped mapping,
runs the build, and summarises what it found, including how well identity resolution recovered the
simulator's true persons (the simulator is the referee); then it runs two campaigns on the world, lets
the simulated people answer from their hidden truth, and measures the campaigns against that truth
(:mod:`jingzhun.pipeline.demo_campaigns`).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import ibis

from jingzhun.config import CONFIG_FILE, ProfileSettings, Settings
from jingzhun.errors import ConfigError, JingzhunError
from jingzhun.pipeline.build import build, profile_timezone
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

    # the simulated shop is in China: customers' local hours and days are Shanghai's (sources stay in UTC)
    settings = Settings(profile=ProfileSettings(timezone="Asia/Shanghai"))
    with Project.init(directory, settings) as project:
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

        t = time.perf_counter()
        step("segments, predictions, baskets and recommendations")
        marketing = marketing_figures(wh, result.as_of, timezone=profile_timezone(project.settings))
        timings["marketing"] = time.perf_counter() - t

        t = time.perf_counter()
        step("campaigns: plan, send (local SMTP server, SMS export file), answers from the truth, measure")
        from jingzhun.pipeline.demo_campaigns import run_demo_campaigns

        campaigns = run_demo_campaigns(project, world_dir, result.as_of, step=step)
        timings["campaigns"] = time.perf_counter() - t

        summary = {
            "project": str(project.root),
            "customers_simulated": customers,
            "seed": seed,
            "load": report.to_dict(),
            "build": result.steps,
            "identity_vs_truth": scores,
            "shop": _shop_figures(wh),
            "as_of": result.as_of,
            "marketing": marketing,
            "campaigns": campaigns,
            "seconds": {k: round(v, 1) for k, v in timings.items()},
        }
    return summary


def marketing_figures(wh, as_of, *, timezone: str = "UTC", examples: int = 3) -> dict:
    """What a marketer looks at first, as of the build's moment: the RFM grid and segment sizes, lifecycle
    stages, tag coverage, a few audiences, the CLV leaderboard, the churn-risk list, the top basket rules
    and recommendations with reasons for a few customers. Each part is computed by its own layer."""
    from jingzhun.models.scoring import ScoreSettings
    from jingzhun.profile.clock import Clock
    from jingzhun.segment import audience, context_from_warehouse
    from jingzhun.segment.lifecycle import derive_rules, lifecycle_stages
    from jingzhun.segment.rfm import grid_frame, rfm_grid, rfm_scores, rfm_summary, summary_rows

    if as_of is None:
        return {}
    features = wh.table("profile_features")
    rfm = rfm_scores(features)
    out: dict = {"rfm_grid": grid_frame(wh.execute(rfm_grid(rfm))),
                 "rfm_segments": summary_rows(wh.execute(rfm_summary(rfm)))}
    clock = Clock.at(as_of, timezone)
    rules = derive_rules(wh, clock)
    stages = lifecycle_stages(wh, clock, rules)
    counts = wh.execute(stages.group_by("stage").aggregate(profiles=stages.count()))
    out["lifecycle"] = {"rules": rules.to_dict(),
                        "stages": {r.stage: int(r.profiles) for r in counts.itertuples()}}
    tags = wh.table("tags")
    coverage = wh.execute(tags.group_by("tag").aggregate(profiles=tags.count()).order_by(ibis.desc("profiles")))
    out["tags"] = {"distinct": len(coverage), "top": coverage.head(8).to_dict("records")}
    ctx = context_from_warehouse(wh, as_of=as_of)
    out["audiences"] = []
    for text in ("tag('high_value') and recency_days > 90", "price_sensitivity >= 0.5 and frequency >= 3",
                 "within 3 km of store 'S0001' and not bought category '眼镜'"):
        try:
            n = int(wh.execute(audience(text, ctx).count()))
        except JingzhunError as exc:  # a tag or store this world lacks: say so rather than hide the audience
            n = None
            log.warning("demo audience %r: %s", text, exc)
        out["audiences"].append({"audience": text, "profiles": n})
    out["clv_leaders"] = _leaderboard(wh, "clv_12m", examples * 3)
    # who is about to go: the highest risk among people who have not lapsed yet (those who have are lost already)
    lapse = ScoreSettings().lapse_days
    out["churn_risk"] = _leaderboard(wh, "churn_risk", examples * 3, where=lambda pf: pf.recency_days < lapse)
    out["rules"] = _top_rules(wh)
    out["recommendations"] = _recommendations(wh, as_of, [r["profile_id"] for r in out["clv_leaders"][:examples]])
    return out


def _leaderboard(wh, score: str, n: int, where=None) -> list[dict]:
    scores, pf = wh.table("scores"), wh.table("profile_features")
    if where is not None:
        pf = pf.filter(where(pf))
    mine = scores.filter(scores.score == score)
    board = mine.join(pf, "profile_id").select(
        "profile_id", value=mine.value, reason=mine.reason, frequency=pf.frequency, monetary_total=pf.monetary_total,
        recency_days=pf.recency_days)
    rows = wh.execute(board.order_by([ibis.desc("value"), "profile_id"]).limit(n))
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in rows.to_dict("records")]


def _top_rules(wh, n: int = 5) -> list[dict]:
    from jingzhun.rules import MiningOptions, RuleQuery, mine_rules, read_rules, write_rules

    try:
        # pairs of sub-categories (category > sub-category): readable, and where the cross-sell lives
        write_rules(wh, mine_rules(wh, MiningOptions(level="category", category_depth=2, min_support=0.003,
                                                     min_confidence=0.1, max_len=2)))
    except JingzhunError as exc:
        log.warning("demo rules: %s", exc)
        return []
    top = read_rules(wh, RuleQuery(level="category", top=n))
    return [{"antecedent": " + ".join(r["antecedent"]), "consequent": " + ".join(r["consequent"]),
             "support": r["support"], "confidence": r["confidence"], "lift": r["lift"]} for r in top.to_dict("records")]


def _recommendations(wh, as_of, profile_ids: list[str], n: int = 5) -> list[dict]:
    """Item-item (BM25) recommendations with the business rules, for a few people."""
    import numpy as np

    from jingzhun.recommend import load_interactions, make_recommender, recommend_all

    interactions = load_interactions(wh, end=as_of, all_profiles=True)
    model = make_recommender("bm25").fit(interactions)
    positions = np.flatnonzero(np.isin(interactions.users, profile_ids))
    recs = recommend_all(model, interactions, n=n, users=positions)
    names = wh.table("products").select("product_id", "name", "category")
    names = wh.execute(names.filter(names.product_id.isin(recs.product_id.tolist())))
    recs = recs.merge(names.drop_duplicates("product_id"), on="product_id", how="left")
    return recs[["profile_id", "rank", "product_id", "name", "category", "reason"]].to_dict("records")


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
