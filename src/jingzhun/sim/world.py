"""`simulate` and the `World` it returns: blocks of persons, each from its own seed, joined together.

Persons are generated in blocks of :data:`~jingzhun.sim.options.BLOCK_SIZE`; block ``b`` draws from
``SeedSequence(seed).spawn(2)[1].spawn(n_blocks)[b]``, and stores and products from
``SeedSequence(seed).spawn(2)[0]``. A block's data therefore depend only on the seed, the options, the
block's index and its size, and memory per block stays bounded.
"""

from __future__ import annotations

import json
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from jingzhun.errors import ConfigError
from jingzhun.sim.catalogue import make_catalogue, make_stores
from jingzhun.sim.events import make_events
from jingzhun.sim.identifiers import identifier_rows, make_person_ids
from jingzhun.sim.options import BLOCK_SIZE, MAX_CUSTOMERS, SimOptions
from jingzhun.sim.people import assign_response_types, make_people
from jingzhun.sim.purchases import make_orders, simulate_timing
from jingzhun.sim.records import make_records
from jingzhun.sim.social import make_consents, make_referrals, make_reviews
from jingzhun.sim.strings import iso_seconds
from jingzhun.sim.truth import persons_table, unique_identifiers

__all__ = ["World", "simulate", "simulate_to", "SOURCE_FILES", "TRUTH_FILES", "MIN_CUSTOMERS"]

log = logging.getLogger(__name__)

MIN_CUSTOMERS = 100
# attribute of World -> file name under the output folder
SOURCE_FILES = {
    "stores": "stores.csv", "products": "products.csv", "customers": "customers.csv",
    "orders": "orders.parquet", "order_lines": "order_lines.parquet", "events": "events.parquet",
    "consents": "consents.csv", "reviews": "reviews.csv", "referrals": "referrals.csv",
}
TRUTH_FILES = {
    "persons": "truth/persons.parquet", "identifiers": "truth/identifiers.parquet",
    "records": "truth/records.parquet", "bots": "truth/bots.parquet", "reviews_truth": "truth/reviews_truth.parquet",
}
_BLOCK_TABLES = ("customers", "orders", "order_lines", "events", "consents", "reviews", "referrals",
                 "persons", "identifiers", "records", "bots", "reviews_truth")


@dataclass
class World:
    """A simulated retail world: source tables as a business would export them, and the truth.

    All tables are ``pyarrow.Table`` (``.to_pandas()`` for pandas). ``params`` holds the true
    population parameters, the window, the options and the seed (written as ``truth/params.json``).
    """

    stores: pa.Table
    products: pa.Table
    customers: pa.Table
    orders: pa.Table
    order_lines: pa.Table
    events: pa.Table
    consents: pa.Table
    reviews: pa.Table
    referrals: pa.Table
    persons: pa.Table
    identifiers: pa.Table
    records: pa.Table
    bots: pa.Table
    reviews_truth: pa.Table
    params: dict = field(default_factory=dict)

    def write(self, out_dir: str | os.PathLike) -> Path:
        """Write every source file and the ``truth/`` folder under ``out_dir``; return the folder.

        Same world, same bytes: CSV and Parquet are written without timestamps of the run.
        """
        out = Path(out_dir)
        try:
            (out / "truth").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the output folder {out}: {exc} (choose a writable --out)") from exc
        def write_one(item):
            name, rel = item
            table, path = getattr(self, name), out / rel
            if rel.endswith(".csv"):
                _write_csv(table, path)
            else:
                pq.write_table(table, path, compression="snappy")
            log.info("wrote %s (%d rows)", path, table.num_rows)

        # largest first, so the two writers finish together
        items = sorted({**SOURCE_FILES, **TRUTH_FILES}.items(), key=lambda kv: -getattr(self, kv[0]).nbytes)
        with ThreadPoolExecutor(max_workers=_workers()) as pool:
            list(pool.map(write_one, items))
        (out / "truth" / "params.json").write_text(
            json.dumps(self.params, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        return out


def _workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _write_csv(table: pa.Table, path: Path) -> None:
    cols = []
    for f, col in zip(table.schema, table.columns):
        cols.append(iso_seconds(col.combine_chunks()) if pa.types.is_timestamp(f.type) else col)
    table = pa.table(cols, names=table.column_names)
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))


def _check_size(customers) -> int:
    if isinstance(customers, bool) or not isinstance(customers, (int, np.integer)):
        raise ConfigError(f"customers must be a whole number, got {customers!r}")
    if not MIN_CUSTOMERS <= int(customers) <= MAX_CUSTOMERS:
        raise ConfigError(f"customers must be between {MIN_CUSTOMERS:,} and {MAX_CUSTOMERS:,}, got {customers:,}")
    return int(customers)


def _world_parts(customers, seed: int, options: dict):
    """What every world needs before its blocks: options, stores, catalogue, the block seeds."""
    n_total = _check_size(customers)
    opts = SimOptions.from_kwargs(options)
    world_seq, people_seq = np.random.SeedSequence(seed).spawn(2)
    world_rng = np.random.default_rng(world_seq)
    stores = make_stores(world_rng, opts.n_stores(n_total), opts.shop_tablets, date.fromisoformat(opts.start))
    cat = make_catalogue(world_rng, opts.products)
    return n_total, opts, stores, cat, people_seq.spawn(math.ceil(n_total / BLOCK_SIZE))


def _blocks(n_total: int, opts: SimOptions, stores, cat, seqs):
    """Yield each block's tables in block order (blocks run two at a time; each has its own generator)."""
    def run(job):
        b, seq = job
        first = b * BLOCK_SIZE
        return _block(np.random.default_rng(seq), b, first, min(BLOCK_SIZE, n_total - first), opts, stores, cat)

    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        for b, block in enumerate(pool.map(run, enumerate(seqs))):
            log.debug("block %d of %d done", b + 1, len(seqs))
            yield block


def _params(seed: int, n_total: int, opts: SimOptions, stores, cat) -> dict:
    return {
        "seed": seed, "customers": n_total, "block_size": BLOCK_SIZE,
        "bgnbd": {"r": opts.bgnbd_r, "alpha": opts.bgnbd_alpha, "a": opts.bgnbd_a, "b": opts.bgnbd_b,
                  "time_unit": "week"},
        "gamma_gamma": {"p": opts.spend_p, "q": opts.spend_q, "gamma": opts.spend_gamma, "currency": "CNY"},
        "window": {"start": opts.start_utc.isoformat().replace("+00:00", "Z"),
                   "end": opts.end_utc.isoformat().replace("+00:00", "Z"),
                   "weeks": opts.window_weeks, "local_timezone": "Asia/Shanghai",
                   "calibration": "the whole window: every purchase from start to end"},
        "options": opts.as_dict(),
        "stores": stores.table.num_rows, "products": cat.table.num_rows,
        "shop_tablets": list(stores.tablet_ids),
    }


def simulate(customers: int, *, seed: int = 0, **options) -> World:
    """Simulate a retail world of ``customers`` persons, deterministically from ``seed``.

    ``options`` are the fields of :class:`~jingzhun.sim.options.SimOptions` (rates of planted messiness,
    BG/NBD and spend parameters, window, events per customer, ...). Same seed, size and options give the
    same tables and, written, the same bytes. The whole world is held in memory (about 3 GB per million
    customers); :func:`simulate_to` writes a world of any size block by block instead.
    """
    n_total, opts, stores, cat, seqs = _world_parts(customers, seed, options)
    parts: dict[str, list[pa.Table]] = {k: [] for k in _BLOCK_TABLES}
    for block in _blocks(n_total, opts, stores, cat, seqs):
        for k, t in block.items():
            parts[k].append(t)
    tables = {k: pa.concat_tables(v) for k, v in parts.items()}
    ids = tables["identifiers"]
    shared = pc.field("is_shared")
    tables["identifiers"] = pa.concat_tables([ids.filter(~shared), unique_identifiers(ids.filter(shared))])
    return World(stores=stores.table, products=cat.table, params=_params(seed, n_total, opts, stores, cat), **tables)


def simulate_to(out_dir: str | os.PathLike, customers: int, *, seed: int = 0, **options) -> Path:
    """Simulate like :func:`simulate` and write the world to ``out_dir`` block by block.

    Memory stays at about two blocks whatever the size, so 10 million customers fit on a laptop. The
    files hold the same rows as ``simulate(...).write(out_dir)`` (Parquet row groups may be cut
    differently). Returns the folder.
    """
    n_total, opts, stores, cat, seqs = _world_parts(customers, seed, options)
    out = Path(out_dir)
    try:
        (out / "truth").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the output folder {out}: {exc} (choose a writable --out)") from exc
    _write_csv(stores.table, out / SOURCE_FILES["stores"])
    _write_csv(cat.table, out / SOURCE_FILES["products"])
    files = {**SOURCE_FILES, **TRUTH_FILES}
    writers: dict[str, object] = {}
    shared_ids: list[pa.Table] = []
    try:
        for block in _blocks(n_total, opts, stores, cat, seqs):
            ids = block["identifiers"]
            shared_ids.append(ids.filter(pc.field("is_shared")))
            block = {**block, "identifiers": ids.filter(~pc.field("is_shared"))}
            for name, table in block.items():
                path = out / files[name]
                if name not in writers:
                    writers[name] = (_CsvAppender(path, table.schema) if path.suffix == ".csv"
                                     else pq.ParquetWriter(path, table.schema, compression="snappy"))
                writers[name].write_table(table)
        writers["identifiers"].write_table(unique_identifiers(pa.concat_tables(shared_ids)))
    finally:
        for w in writers.values():
            w.close()
    (out / "truth" / "params.json").write_text(
        json.dumps(_params(seed, n_total, opts, stores, cat), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8")
    return out


class _CsvAppender:
    """Writes a CSV in pieces with the same formatting as :func:`_write_csv` (header once)."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._path = path
        self._header = True
        path.write_bytes(b"")

    def write_table(self, table: pa.Table) -> None:
        cols = [iso_seconds(col.combine_chunks()) if pa.types.is_timestamp(f.type) else col
                for f, col in zip(table.schema, table.columns)]
        table = pa.table(cols, names=table.column_names)
        with open(self._path, "ab") as handle:
            pacsv.write_csv(table, handle, write_options=pacsv.WriteOptions(
                quoting_style="needed", include_header=self._header))
        self._header = False

    def close(self) -> None:
        pass


def _block(rng, b: int, first: int, n: int, opts: SimOptions, stores, cat) -> dict[str, pa.Table]:
    people = make_people(rng, first, n, opts, stores, end_day=(date.fromisoformat(opts.end) - date(1970, 1, 1)).days)
    ids = make_person_ids(rng, people)
    timing = simulate_timing(rng, people, opts)
    assign_response_types(people, timing.alive)
    buys = make_orders(rng, b, people, ids, timing, opts, cat, stores)
    first_s = buys.first_purchase_s
    customers, records, id_records, email_known = make_records(rng, people, ids, first_s, opts, stores)
    events, id_events, bots = make_events(rng, people, ids, first_s, opts, cat, email_known)
    reviews, reviews_truth = make_reviews(rng, b, people, ids, buys, opts, cat)
    referrals, influencer = make_referrals(rng, people, ids, first_s, opts)
    consents, id_consents = make_consents(rng, people, ids, first_s, opts, email_known)
    purchase_orders = buys.orders.slice(0, len(buys.order_person))
    order_person = ids.person_id.take(pa.array(buys.order_person))
    id_orders = identifier_rows("phone", purchase_orders["phone"].combine_chunks(), order_person, False)
    identifiers = unique_identifiers(pa.concat_tables([id_records, id_orders, id_events, id_consents]))
    return {
        "customers": customers, "orders": buys.orders, "order_lines": buys.lines, "events": events,
        "consents": consents, "reviews": reviews, "referrals": referrals,
        "persons": persons_table(people, ids, buys, influencer, stores, opts),
        "identifiers": identifiers, "records": records, "bots": bots, "reviews_truth": reviews_truth,
    }
