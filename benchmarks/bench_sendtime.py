"""Send time: scoring everyone (fit + predict + write the scores) with jingzhun's Ibis model on DuckDB,
against a straightforward pandas version of the same computation.

    python -m benchmarks.bench_sendtime [--customers N]

The simulated world is written block by block to Parquet (``simulate_to``: memory stays small at 1M)
and read from there straight into the tables the model reads, as ``bench_features`` does (identifier
values as keys, the identity map from the simulator's truth, bots flagged). The segment column
(``age_band``) is written into ``profile_features`` from the truth's birth dates, so that the feature
build, benchmarked on its own, is not timed here. A few campaign deliveries with opens (5% of people)
make the ``responses`` path do work.

The pandas version reads the same tables, attaches people to rows the same way, builds the same weighted
hour and weekday histograms, smooths, adds the same integer priors and takes the same argmax (ties: the
earliest); its send hours and weekdays are checked equal to ours for every profile.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import tempfile
import time
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import ibis  # noqa: E402

from benchmarks.bench_features import _attach, _epoch, _load, _read  # noqa: E402
from jingzhun.models.scoring import ScoreSettings, score_send_time  # noqa: E402
from jingzhun.models.sendtime import ALL_CUSTOMERS, SCALE, SendTimeModel  # noqa: E402
from jingzhun.profile.behaviour import ENGAGEMENT_NAMES, HOUR_KERNEL  # noqa: E402
from jingzhun.schema.tables import table  # noqa: E402
from jingzhun.sim.world import simulate_to  # noqa: E402
from jingzhun.warehouse import Warehouse  # noqa: E402

AS_OF = "2024-12-31T16:00:00Z"
TZ = "Asia/Shanghai"
OFFSET = 8 * 3600
_BANDS = ((18, "<18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"), (200, "65+"))


def write_segments_and_campaign(wh: Warehouse, persons: pd.DataFrame, seed: int = 0) -> None:
    """profile_features rows with age_band (other columns 0), and e-mails with opens for 5% of people."""
    age = (pd.Timestamp("2025-01-01") - pd.to_datetime(persons.birth_date)).dt.days / 365.25
    band = pd.cut(age, [-1] + [b for b, _ in _BANDS], labels=[name for _, name in _BANDS], right=False)
    features = pd.DataFrame({"profile_id": persons.person_id, "age_band": band.astype(str),
                             "as_of": pd.Timestamp(AS_OF)})
    for column in table("profile_features").columns:
        if not column.nullable and column.name not in features:
            features[column.name] = 0 if column.dtype == "int64" else 0.0
    wh.append("profile_features", features)
    rng = np.random.default_rng(seed)
    chosen = persons.sample(frac=0.05, random_state=seed).reset_index(drop=True)
    sent = pd.Timestamp("2024-12-01 02:00", tz="UTC")
    deliveries = pd.DataFrame({"delivery_id": "d" + chosen.index.astype(str), "campaign_id": "c1",
                               "profile_id": chosen.person_id, "arm": "a", "channel": "email", "status": "sent",
                               "sent_at": sent})
    wh.append("deliveries", deliveries)
    opened = deliveries[rng.random(len(deliveries)) < 0.4]
    local_hour = chosen.loc[opened.index, "preferred_hour"].to_numpy()
    at = pd.Timestamp("2024-12-01", tz="UTC") + pd.to_timedelta((local_hour - 8) % 24, "h") + pd.Timedelta(minutes=20)
    wh.append("responses", pd.DataFrame({"delivery_id": opened.delivery_id, "profile_id": opened.profile_id,
                                         "response": "open", "responded_at": at}))


def ours(path: Path, tmp: Path) -> tuple[float, pd.DataFrame]:
    """``score_send_time``: the evidence staged once, fit, predict, register, write the scores."""
    with Warehouse.duckdb(path) as wh:
        t = time.perf_counter()
        out = score_send_time(wh, AS_OF, directory=tmp / "models", settings=ScoreSettings(timezone=TZ),
                              data_fingerprint="bench")
        seconds = time.perf_counter() - t
        print(f"jingzhun (Ibis on DuckDB), fit + predict + write {out['scores']}: {seconds:.1f}s  [{_load()}]")
        scores = wh.execute(wh.table("scores").select("profile_id", "score", "value"))
    return seconds, scores.pivot(index="profile_id", columns="score", values="value")


def _histograms(wh: Warehouse) -> pd.DataFrame:
    """(profile_id, hour, weekday, responses, purchases) of every engagement event, response and purchase."""
    before = int(pd.Timestamp(AS_OF).timestamp())
    imap = _read(wh, "identity_map", ["kind", "key", "profile_id", "is_shared"])
    imap = imap[~imap.is_shared]
    lookup = {k: g.set_index("key").profile_id for k, g in imap.groupby("kind")}
    ev = _read(wh, "events", ["type", "event", "user_id", "anonymous_id", "device_id", "email", "timestamp",
                              "quality_flags"])
    name = ev.event.fillna("").str.lower().str.replace("_", " ").str.strip()
    ev = ev[(ev.type == "track") & name.isin(ENGAGEMENT_NAMES) & ~(("," + ev.quality_flags + ",")
                                                                   .str.contains(",bot,", regex=False))]
    ev = ev[_epoch(ev.timestamp) < before]
    ev = pd.DataFrame({"profile_id": _attach(ev, ("user_id", "anonymous_id", "device_id", "email"), lookup),
                       "ts": _epoch(ev.timestamp), "reply": 1})
    resp = _read(wh, "responses", ["delivery_id", "profile_id", "response", "responded_at"])
    sent = set(_read(wh, "deliveries", ["delivery_id"]).delivery_id)
    resp = resp[resp.response.isin(["open", "click"]) & resp.delivery_id.isin(sent)]
    resp = pd.DataFrame({"profile_id": resp.profile_id, "ts": _epoch(resp.responded_at), "reply": 1})
    orders = _read(wh, "orders", ["user_id", "crm_id", "loyalty_card", "phone", "email", "wechat_openid",
                                  "anonymous_id", "ordered_at", "is_return", "status", "amount"])
    orders = orders[~orders.is_return & (orders.status.fillna("").str.lower() != "cancelled")
                    & (orders.amount > 0) & (_epoch(orders.ordered_at) < before)]
    buys = pd.DataFrame({"profile_id": _attach(orders, ("user_id", "crm_id", "loyalty_card", "phone", "email",
                                                        "wechat_openid", "anonymous_id"), lookup),
                         "ts": _epoch(orders.ordered_at), "reply": 0})
    acts = pd.concat([ev, resp, buys], ignore_index=True).dropna(subset=["profile_id"])
    local = acts.ts + OFFSET
    acts["hour"] = (local // 3600) % 24
    acts["weekday"] = (local // 86400 + 3) % 7
    return acts


def pandas_version(path: Path, model: SendTimeModel) -> tuple[float, pd.DataFrame]:
    with Warehouse.duckdb(path) as wh:
        t = time.perf_counter()
        acts = _histograms(wh)
        acts["weight"] = np.where(acts.reply == 1, model.engagement_weight, model.purchase_weight)
        ids, person = np.unique(acts.profile_id.to_numpy(), return_inverse=True)
        hours = np.zeros((len(ids), 24), np.int64)
        days = np.zeros((len(ids), 7), np.int64)
        np.add.at(hours, (person, acts.hour.to_numpy()), acts.weight.to_numpy())
        np.add.at(days, (person, acts.weekday.to_numpy()), acts.weight.to_numpy())
        replies = np.bincount(person, weights=acts.reply.to_numpy(), minlength=len(ids))
        imap = _read(wh, "identity_map", ["profile_id", "is_shared"])
        everyone = np.unique(imap.profile_id[~imap.is_shared].to_numpy())
        seg = _read(wh, "profile_features", ["profile_id", "age_band"]).set_index("profile_id").age_band
        # fit: each segment's share of all weighted evidence per hour and weekday
        own_seg = pd.Series(ids).map(seg).fillna(ALL_CUSTOMERS).to_numpy()
        frame = pd.DataFrame(np.hstack([hours, days]), columns=[*range(24), *[f"d{d}" for d in range(7)]])
        frame["segment"] = own_seg
        sums = frame.groupby("segment").sum()
        counts = frame.groupby("segment").size()
        kept = [s for s in sums.index if s != ALL_CUSTOMERS and counts[s] >= model.min_segment_size]
        total = sums.sum()

        def prior(row):
            h, d = row.iloc[:24].to_numpy(float), row.iloc[24:].to_numpy(float)
            h = np.rint(h / max(h.sum(), 1) * model.hour_prior_weight * 17 * SCALE)
            d = np.rint(d / max(d.sum(), 1) * model.weekday_prior_weight * SCALE)
            return h.astype(np.int64), d.astype(np.int64)

        priors = {ALL_CUSTOMERS: prior(total), **{s: prior(sums.loc[s]) for s in kept}}
        # predict: everyone, smoothed own evidence + the prior; argmax takes the first on ties
        full_h = np.zeros((len(everyone), 24), np.int64)
        full_d = np.zeros((len(everyone), 7), np.int64)
        where = np.searchsorted(everyone, ids)
        full_h[where], full_d[where] = hours, days
        k0, k1, k2 = HOUR_KERNEL
        smooth = (k0 * full_h + k1 * (np.roll(full_h, 1, 1) + np.roll(full_h, -1, 1))
                  + k2 * (np.roll(full_h, 2, 1) + np.roll(full_h, -2, 1)))
        segs = pd.Series(everyone).map(seg).to_numpy(dtype=object)
        keys = np.where(pd.Series(segs).isin(kept), segs, ALL_CUSTOMERS)
        names = list(priors)
        index = pd.Series(range(len(names)), index=names)[keys].to_numpy()
        prior_h = np.stack([priors[n][0] for n in names])[index]
        prior_d = np.stack([priors[n][1] for n in names])[index]
        result = pd.DataFrame({"send_hour": np.argmax(smooth * SCALE + prior_h, 1).astype(float),
                               "send_weekday": np.argmax(full_d * SCALE + prior_d, 1).astype(float)},
                              index=pd.Index(everyone, name="profile_id"))
        seconds = time.perf_counter() - t
        print(f"pandas ({len(result):,} profiles, {int(replies.sum()):,} opens and clicks): {seconds:.1f}s  "
              f"[{_load()}]")
    return seconds, result


def write_world(wh: Warehouse, folder: Path) -> pd.DataFrame:
    """identity_map, events and orders from a world written by ``simulate_to``; returns the persons."""
    ids = wh.con.read_parquet(str(folder / "truth" / "identifiers.parquet"))
    ids = ids.filter(ids.kind != "record_id").select("kind", "value", "person_id").distinct(on=["kind", "value"])
    wh.append("identity_map", ids.select(
        "kind", key=ids.value, profile_id=ibis.coalesce(ids.person_id, "s" + ids.value),
        is_shared=ids.person_id.isnull()))
    bots = wh.con.read_parquet(str(folder / "truth" / "bots.parquet")).select("anonymous_id")
    bots = bots.mutate(_bot=ibis.literal("bot"))
    ev = wh.con.read_parquet(str(folder / "events.parquet"))
    ev = ev.left_join(bots, "anonymous_id")
    wh.append("events", ev.select(*[c for c in ev.columns if c not in ("_bot", "anonymous_id_right")],
                                  source=ibis.literal("sim"), load_id=ibis.literal("l1"),
                                  quality_flags=ev._bot.fill_null("")))
    orders = wh.con.read_parquet(str(folder / "orders.parquet"))
    wh.append("orders", orders.mutate(source=ibis.literal("sim"), load_id=ibis.literal("l1"),
                                      quality_flags=ibis.literal("")))
    persons = wh.con.read_parquet(str(folder / "truth" / "persons.parquet"))
    return persons.select("person_id", "birth_date", "preferred_hour").to_pandas()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        folder = simulate_to(Path(tmp) / "world", args.customers, seed=args.seed)
        print(f"simulated {args.customers:,} customers to Parquet in {time.perf_counter() - t:.1f}s")
        path = Path(tmp) / "bench.duckdb"
        with Warehouse.duckdb(path) as wh:
            wh.ensure_schema()
            persons = write_world(wh, folder)
            write_segments_and_campaign(wh, persons)
            print(f"{wh.count('events'):,} events, {wh.count('orders'):,} orders, "
                  f"{wh.count('identity_map'):,} identifiers written")
        del persons
        gc.collect()
        seconds, got = ours(path, Path(tmp))
        print(f"target: under 60 s for {args.customers:,} people: {'met' if seconds < 60 else 'NOT met'}")
        with Warehouse.duckdb(path) as wh:
            model = SendTimeModel(timezone=TZ).fit(wh, AS_OF)
        naive, ref = pandas_version(path, model)
        print(f"ratio pandas / jingzhun: {naive / seconds:.1f}x")
        mine = got.reindex(ref.index)
        same = (mine.send_hour == ref.send_hour) & (mine.send_weekday == ref.send_weekday)
        print("pandas and jingzhun agree on every profile's hour and weekday" if same.all() else
              f"DISAGREEMENT on {int((~same).sum()):,} of {len(ref):,} profiles")


if __name__ == "__main__":
    main()
