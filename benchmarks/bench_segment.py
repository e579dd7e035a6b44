"""Audience counts over a synthetic 1M-profile base table in DuckDB, side by side with pandas.

    python -m benchmarks.bench_segment [--profiles 1000000] [--runs 11]

Features are numpy-generated (gender, age, city, RFM fields, home coordinates), plus tags and scores in
their own long tables, as in the warehouse. Prints the median time of each audience count over the runs,
the same filter in pandas on the same data, and the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import ibis  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from jingzhun.segment import AudienceContext, Catalog, compile_audience  # noqa: E402

log = logging.getLogger(__name__)

AS_OF = dt.datetime(2024, 6, 30, tzinfo=dt.timezone.utc)
CITIES = np.array(["Shanghai", "Beijing", "Hangzhou", "Shenzhen", "Chengdu", "Wuhan", "Nanjing", "Xi'an"])


def make_data(n: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.char.add("p", np.arange(n).astype(str))
    base = pd.DataFrame({
        "profile_id": ids,
        "gender": rng.choice(np.array(["F", "M"]), n),
        "age": rng.integers(16, 80, n),
        "city": rng.choice(CITIES, n),
        "recency_days": rng.exponential(90, n).round(),
        "frequency": rng.poisson(3, n),
        "monetary": rng.gamma(2.0, 150.0, n).round(2),
        "latitude": 31.23 + rng.normal(0, 0.3, n),
        "longitude": 121.47 + rng.normal(0, 0.3, n),
    })
    tag_names = np.array(["vip", "dormant", "new_customer", "coupon_lover"])
    has = rng.random((n, len(tag_names))) < np.array([0.05, 0.2, 0.1, 0.15])
    rows, cols = np.nonzero(has)
    tags = pd.DataFrame({"profile_id": ids[rows], "tag": tag_names[cols]})
    scores = pd.concat([
        pd.DataFrame({"profile_id": ids, "score": "clv_12m", "value": rng.gamma(1.5, 300.0, n)}),
        pd.DataFrame({"profile_id": ids, "score": "p_alive", "value": rng.beta(2, 2, n)}),
    ], ignore_index=True)
    return {"base": base, "tags": tags, "scores": scores}


def pandas_filters(d: dict[str, pd.DataFrame]) -> dict[str, callable]:
    b, t, s = d["base"], d["tags"], d["scores"]

    def tagged(name):
        return b.profile_id.isin(t.profile_id[t.tag == name])

    def score(name, pred):
        x = s[s.score == name]
        return b.profile_id.isin(x.profile_id[pred(x.value)])

    def dist(lat, lon):
        r = np.pi / 180
        a = np.sin((b.latitude - lat) * r / 2) ** 2 + np.cos(b.latitude * r) * np.cos(lat * r) * \
            np.sin((b.longitude - lon) * r / 2) ** 2
        return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))

    return {
        "gender = 'F' and age between 25 and 35 and city in ('Shanghai', 'Hangzhou')":
            lambda: ((b.gender == "F") & b.age.between(25, 35) & b.city.isin(["Shanghai", "Hangzhou"])).sum(),
        "recency_days <= 30 and frequency >= 5 and monetary > 500":
            lambda: ((b.recency_days <= 30) & (b.frequency >= 5) & (b.monetary > 500)).sum(),
        "tag('vip') and not tag('dormant')": lambda: (tagged("vip") & ~tagged("dormant")).sum(),
        "score('clv_12m') > 500 and p_alive < 0.3":
            lambda: (score("clv_12m", lambda v: v > 500) & score("p_alive", lambda v: v < 0.3)).sum(),
        "within 5 km of point(31.23, 121.47) and gender = 'F'":
            lambda: ((dist(31.23, 121.47) <= 5) & (b.gender == "F")).sum(),
        "(gender = 'F' or tag('coupon_lover')) and age < 30 and not tag('dormant')":
            lambda: (((b.gender == "F") | tagged("coupon_lover")) & (b.age < 30) & ~tagged("dormant")).sum(),
    }


def _median(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    data = make_data(args.profiles)
    con = ibis.duckdb.connect()
    tables = {name: con.create_table(name, frame) for name, frame in data.items()}
    catalog = Catalog.from_schema(tables["base"].schema(), tags=data["tags"].tag.unique(), scores=["clv_12m", "p_alive"])
    ctx = AudienceContext(base=tables["base"], tags=tables["tags"], scores=tables["scores"], as_of=AS_OF,
                          catalog=catalog)
    print(f"{args.profiles:,} profiles, {len(data['tags']):,} tags, {len(data['scores']):,} scores "
          f"built in {time.perf_counter() - t0:.1f}s; median of {args.runs} runs")
    print(f"{'audience':<78} {'jingzhun':>9} {'pandas':>9} {'ratio':>6}  members")
    for text, pandas_fn in pandas_filters(data).items():
        expr = ctx.base.filter(compile_audience(text, ctx)).count()
        ours, n_ours = _median(lambda: int(con.execute(expr)), args.runs)
        ref, n_ref = _median(pandas_fn, args.runs)
        if int(n_ours) != int(n_ref):
            raise SystemExit(f"{text}: jingzhun counts {n_ours}, pandas {n_ref}")
        print(f"{text:<78} {ours:8.3f}s {ref:8.3f}s {ours / ref:5.2f}x  {int(n_ours):,}")


if __name__ == "__main__":
    main()
