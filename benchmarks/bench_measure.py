"""Linking conversions and computing a campaign's KPIs on DuckDB, beside the same linking in pandas.

    python -m benchmarks.bench_measure [--people 200000] [--orders-per-person 2]

A synthetic campaign: every person planned (10% control, held out; the rest in two arms, sent), each
with a Poisson number of purchases spread over 60 days around the send. Times `link_responses` (all
three kinds), then `campaign_kpis` by arm; beside them, the conversions alone in pandas (merge, window
filter, first order per message), checked to give the same count.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from jingzhun.measure.kpis import campaign_kpis  # noqa: E402
from jingzhun.measure.responses import link_responses  # noqa: E402
from jingzhun.warehouse import Warehouse  # noqa: E402

SENT = pd.Timestamp("2024-06-01T10:00Z")
WINDOW = pd.Timedelta(days=14)
DEFINITION = {"arms": {"control": 0.1, "A": 0.45, "B": 0.45}, "costs": {"email": 0.002}}


def make_data(n: int, per_person: float, seed: int = 3) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.char.add("p", np.arange(n).astype(str))
    arm = np.where(rng.random(n) < 0.1, "control", np.where(rng.random(n) < 0.5, "A", "B"))
    sent = arm != "control"
    deliveries = pd.DataFrame({
        "delivery_id": np.char.add("d", ids), "campaign_id": "bench", "profile_id": ids, "arm": arm,
        "channel": "email", "scheduled_at": SENT, "sent_at": pd.Series(np.where(sent, SENT, pd.NaT)).astype(
            "datetime64[ns, UTC]"), "status": np.where(sent, "sent", "held_out")})
    k = rng.poisson(per_person, n)
    who = np.repeat(np.arange(n), k)
    at = SENT + pd.to_timedelta(rng.uniform(-30, 30, who.size) * 86_400, unit="s").round("s")
    orders = pd.DataFrame({
        "order_id": np.char.add("o", np.arange(who.size).astype(str)), "user_id": ids[who], "ordered_at": at,
        "status": "completed", "is_return": False, "channel": np.where(rng.random(who.size) < 0.2, "store", "web"),
        "currency": "CNY", "amount": rng.gamma(2.0, 60.0, who.size).round(2), "n_lines": 1, "source": "bench",
        "load_id": "l", "quality_flags": ""})
    identity = pd.DataFrame({"kind": "user_id", "key": ids, "profile_id": ids, "is_shared": False})
    return {"deliveries": deliveries, "orders": orders, "identity_map": identity}


def pandas_conversions(data: dict[str, pd.DataFrame]) -> int:
    """The conversion rule in plain pandas: the first purchase in (t, t + 14 days] per message."""
    d = data["deliveries"]
    ref = d.sent_at.fillna(d.scheduled_at)
    pairs = d.assign(ref=ref).merge(data["orders"], left_on="profile_id", right_on="user_id")
    pairs = pairs[(pairs.ordered_at > pairs.ref) & (pairs.ordered_at <= pairs.ref + WINDOW) & (pairs.amount > 0)]
    return int(pairs.sort_values(["delivery_id", "ordered_at"]).drop_duplicates("delivery_id").shape[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--orders-per-person", type=float, default=2.0)
    args = parser.parse_args(argv)
    data = make_data(args.people, args.orders_per_person)
    with tempfile.TemporaryDirectory() as tmp, Warehouse.duckdb(Path(tmp) / "bench.duckdb") as wh:
        wh.ensure_schema()
        for name, frame in data.items():
            wh.append(name, frame)
        wh.append("campaigns", pd.DataFrame({"campaign_id": ["bench"], "name": ["bench"], "status": ["done"],
                                             "definition": [json.dumps(DEFINITION)],
                                             "created_at": [SENT]}))
        t0 = time.perf_counter()
        linked = link_responses(wh, "bench", at=SENT + pd.Timedelta(days=60))
        t_link = time.perf_counter() - t0
        t0 = time.perf_counter()
        kpis = campaign_kpis(wh, "bench")
        t_kpis = time.perf_counter() - t0
    t0 = time.perf_counter()
    reference = pandas_conversions(data)
    t_pandas = time.perf_counter() - t0
    assert reference == linked["conversion"], (reference, linked)
    print(f"{args.people:,} messages, {len(data['orders']):,} orders")
    print(f"link_responses (3 kinds, DuckDB): {t_link:6.2f} s  {linked}")
    print(f"conversions only, pandas:         {t_pandas:6.2f} s  ({t_pandas / t_link:.2f}x the three kinds)")
    print(f"campaign_kpis by arm:             {t_kpis:6.2f} s")
    print(kpis.table[["arm", "reach", "delivered", "conversions", "revenue", "incremental_conversions"]].to_string(
        index=False))


if __name__ == "__main__":
    main()
