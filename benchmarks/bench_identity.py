"""Identity resolution on a generated world of 100,000 people, on DuckDB, step by step.

Side by side: the Ibis components (label propagation, materialised per round) against a plain Python
union-find over the same used edges, with a check that both give the same partition of identifiers.
Precision and recall against the generated truth are printed too.

    python -m benchmarks.bench_identity [--persons 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd  # noqa: E402

from jingzhun.identity import pairwise_scores, resolve  # noqa: E402
from jingzhun.identity.components import Scratch, connected_components  # noqa: E402
from jingzhun.identity.synthetic import generate_world  # noqa: E402
from jingzhun.warehouse import Warehouse  # noqa: E402


def union_find(a: list[str], b: list[str]) -> dict[str, str]:
    """The reference: each node's root (the smallest node of its set), path halving, union by min."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in zip(a, b):
        rx, ry = find(x), find(y)
        if rx != ry:
            if rx < ry:
                parent[ry] = rx
            else:
                parent[rx] = ry
    return {x: find(x) for x in parent}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    world = generate_world(args.persons, seed=args.seed)
    print(f"world: {args.persons:,} people, {len(world.customers):,} records, {len(world.orders):,} orders, "
          f"{len(world.events):,} events, {len(world.truth):,} identifiers "
          f"(generated in {time.perf_counter() - t0:.1f}s)")
    with tempfile.TemporaryDirectory() as tmp, Warehouse.duckdb(os.path.join(tmp, "w.duckdb")) as wh:
        wh.ensure_schema()
        t0 = time.perf_counter()
        world.load(wh)
        print(f"load: {time.perf_counter() - t0:.1f}s")

        t0 = time.perf_counter()
        result = resolve(wh)
        total = time.perf_counter() - t0
        print(f"resolve: {total:.1f}s")
        for step, seconds in result.seconds.items():
            print(f"  {step:<12} {seconds:8.2f}s")
        print("  figures:", {k: v for k, v in result.to_dict().items() if k != "seconds"})

        t0 = time.perf_counter()
        result2 = resolve(wh)
        print(f"resolve again (stable ids): {time.perf_counter() - t0:.1f}s, ids kept {result2.profile_ids_kept:,}"
              f" of {result2.profiles:,}")

        # the components kernel alone vs union-find, on the same used edges
        edges = wh.table("identity_edges")
        used = edges.filter(edges.used).select(a=edges.kind_a + ":" + edges.key_a, b=edges.kind_b + ":" + edges.key_b)
        frame = wh.execute(used)
        scratch = Scratch(wh)
        staged = scratch.stage(frame)
        t0 = time.perf_counter()
        comps = connected_components(scratch, staged, max_iterations=64)
        labels = wh.execute(comps.labels)
        ibis_seconds = time.perf_counter() - t0
        scratch.drop_all()
        t0 = time.perf_counter()
        roots = union_find(frame.a.tolist(), frame.b.tolist())
        uf_seconds = time.perf_counter() - t0
        ours = dict(zip(labels.node, labels.label))
        same = ours == roots
        print(f"components on {len(frame):,} used edges: Ibis/DuckDB {ibis_seconds:.2f}s in {comps.rounds} rounds, "
              f"Python union-find {uf_seconds:.2f}s, ratio {ibis_seconds / uf_seconds:.1f}x; same partition: {same}")

        imap = wh.execute(wh.table("identity_map"))
        imap["node"] = imap.kind + ":" + imap.key
        people = imap[~imap.is_shared]
        by_uf = people.node.map(roots).fillna(people.node)
        same_map = bool((people.assign(r=by_uf).groupby("profile_id").r.nunique() == 1).all()
                        and (people.assign(r=by_uf).groupby("r").profile_id.nunique() == 1).all())
        print(f"identity_map partition equals union-find over used edges: {same_map}")

        scored = world.truth.merge(imap, on=["kind", "key"], how="left")
        persons = scored[scored.person >= 0]
        precision, recall = pairwise_scores(persons.profile_id, persons.person)
        planted = scored[scored.person < 0]
        print(f"against the truth: pairwise precision {precision:.5f}, recall {recall:.5f}; "
              f"planted shared identifiers set aside {int(planted.is_shared.sum())} of {len(planted)}")
        ok = same and same_map and precision >= 0.995 and recall >= 0.98
    return 0 if ok else 1


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    sys.exit(main())
