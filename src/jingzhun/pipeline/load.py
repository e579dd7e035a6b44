"""A load: one source's files into the warehouse, whole or not at all (docs/architecture.md).

    read + map (ingest) -> stage (warehouse) -> quality.apply_rules -> privacy.pseudonymise
      -> one warehouse.transaction() for the whole source:
           rows whose natural key is already there are skipped (counted), the rest appended;
           quarantine rows, new vault rows and one `loads` ledger row per file and table appended.

A file entry whose fingerprint (SHA-256 of the file's bytes, of the entry's meaning and of the files it
looks values up in) is already in `loads` for a table is skipped whole and reported as already loaded.
After the write, :func:`jingzhun.quality.check_references` counts orphans into ``report.checks``.

Per file and table the report keeps ``rows_read = rows_loaded + rows_quarantined + rows_skipped``:
skipped rows are rows already present by natural key, rows folded into another row with the same key
(``one_row_per_key``), or, for a file already loaded, every row.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.config import Settings
from jingzhun.errors import InputError
from jingzhun.ingest import FileSpec, MappedTable, RawTable, SourceSpec, load_source_spec, map_file, read_file
from jingzhun.ingest.mapping import bad_rows_quarantine
from jingzhun.ingest.readers import file_digest
from jingzhun.privacy import pseudonymise
from jingzhun.quality import FileReport, QualityOptions, QualityReport, RuleCount, apply_rules, check_references
from jingzhun.schema import TABLES

__all__ = ["load_source", "Progress"]

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
_QUARANTINE_SCHEMA = ibis.schema({"_row": "int64", "_file": "string", "rule": "string", "field": "string",
                                  "reason": "string", "raw": "string"})
_MAPPING_RULES = {
    "shape": "rows with a different number of fields than the header, or unreadable records",
    "type": "values that cannot be read as the column's type",
    "required": "rows missing a value their table cannot do without",
}


@dataclass
class _Target:
    """One file entry's contribution to one table, as it moves through the load."""

    entry: FileSpec
    file: str
    fingerprint: str
    mapped: MappedTable
    report: FileReport
    rows: ir.Table | None = None        # pseudonymised rows, staged
    quarantined: ir.Table | None = None
    vault: ir.Table | None = None


def load_source(warehouse, source: SourceSpec | str | os.PathLike, *, secret: str,
                settings: Settings = Settings(), on_progress: Progress | None = None) -> QualityReport:
    """Load every file of a source; return its quality report. Raises InputError and writes nothing
    when a file cannot be read."""
    spec = load_source_spec(source)
    progress = on_progress or (lambda step, done, total: None)
    load_id = uuid.uuid4().hex[:16]
    started = pd.Timestamp.now(tz="UTC")
    clock = time.perf_counter()
    report = QualityReport(source=spec.source, load_id=load_id)
    try:
        targets, lookup_reads = _read_and_map(warehouse, spec, report, settings, progress)
        _check(warehouse, spec, targets, settings, secret, started, progress)
        _write(warehouse, spec, load_id, started, targets, lookup_reads, progress)
    finally:
        warehouse.drop_stages()
    progress("checks", 0, 1)
    report.checks = list(check_references(warehouse, spec.source))
    progress("done", 1, 1)
    log.info("loaded source %s in %.1fs: %s", spec.source, time.perf_counter() - clock,
             ", ".join(f"{f.table_name} +{f.rows_loaded}" for f in report.files))
    return report


# -- read and map ------------------------------------------------------------------------------------
def _read_and_map(warehouse, spec: SourceSpec, report: QualityReport, settings: Settings, progress):
    paths = {id(e): spec.resolve_path(e) for e in spec.files}
    for entry in spec.files:
        if not paths[id(entry)].is_file():
            raise InputError("file not found", file=str(paths[id(entry)]),
                             hint="check `path:` in the mapping and the JINGZHUN_DATASETS setting")
    digests: dict[Path, str] = {}
    for p in paths.values():
        if p not in digests:
            digests[p] = file_digest(p)

    def fingerprint(entry: FileSpec) -> str:
        parts = [spec.file_fingerprint(entry), digests[paths[id(entry)]]]
        for name in sorted({lk.lookup for _, lk in entry.lookups}):
            other = spec.file_named(name)
            parts += [name, spec.file_fingerprint(other), digests[paths[id(other)]]]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    prints = {id(e): fingerprint(e) for e in spec.files if e.table is not None}
    ledger = _ledger(warehouse, set(prints.values()))
    todo = [e for e in spec.files if e.table is not None
            and any((prints[id(e)], t) not in ledger for t in e.targets)]
    needed = {lk.lookup for e in todo for _, lk in e.lookups}
    cache: dict[tuple, RawTable] = {}

    def read(entry: FileSpec) -> RawTable:
        key = (paths[id(entry)], entry.format, entry.encoding, entry.delimiter, entry.header, entry.sheet)
        if key not in cache:
            cache[key] = read_file(paths[id(entry)], format=entry.format, encoding=entry.encoding,
                                   delimiter=entry.delimiter, header=entry.header, sheet=entry.sheet)
        raw = cache[key]
        missing = [c for c in entry.required if c not in raw.columns]
        if missing:
            raise InputError(f"required column {missing[0]!r} is missing; the file has {list(raw.columns)}",
                             file=raw.file, row=1, field=missing[0], hint="fix the export or `required:` in the mapping")
        return raw

    to_read = [e for e in spec.files if e in todo or (e.table is None and e.name in needed)]
    lookups: dict[str, RawTable] = {}
    lookup_reads: list[tuple[FileSpec, RawTable]] = []
    for i, entry in enumerate(to_read):
        progress("read", i, len(to_read))
        raw = read(entry)
        if entry.name:
            lookups[entry.name] = raw
        if entry.table is None:
            lookup_reads.append((entry, raw))
    progress("read", len(to_read), len(to_read))
    for entry in spec.files:  # lookup files nobody needs this time are still read and validated
        if entry.table is None and entry.name not in needed and todo:
            lookup_reads.append((entry, read(entry)))

    targets: list[_Target] = []
    for i, entry in enumerate(spec.files):
        if entry.table is None:
            continue
        fp = prints[id(entry)]
        if entry not in todo:
            for table_name in entry.targets:
                n = ledger[(fp, table_name)]
                report.files.append(FileReport(str(paths[id(entry)]), table_name, rows_read=n, rows_skipped=n,
                                               already_loaded=True))
            continue
        progress("map", i, len(spec.files))
        raw = read(entry)
        used = {lk.lookup: lookups[lk.lookup] for _, lk in entry.lookups}
        for mapped in map_file(spec, entry, raw, used, timezone=settings.timezone, currency=settings.currency):
            if (fp, mapped.table_name) in ledger:
                n = ledger[(fp, mapped.table_name)]
                report.files.append(FileReport(raw.file, mapped.table_name, rows_read=n, rows_skipped=n,
                                               already_loaded=True))
                continue
            fr = FileReport(raw.file, mapped.table_name, rows_read=mapped.rows_read)
            report.files.append(fr)
            targets.append(_Target(entry, raw.file, fp, mapped, fr))
    for entry, raw in lookup_reads:
        report.files.append(FileReport(raw.file, f"lookup:{entry.name}", rows_read=raw.rows_read,
                                       rows_quarantined=len(raw.bad_rows),
                                       rows_skipped=raw.rows_read - len(raw.bad_rows)))
    progress("map", len(spec.files), len(spec.files))
    return targets, lookup_reads


def _ledger(warehouse, fingerprints: set[str]) -> dict[tuple[str, str], int]:
    if not fingerprints:
        return {}
    loads = warehouse.table("loads")
    done = warehouse.execute(loads.filter(loads.fingerprint.isin(sorted(fingerprints)))
                             .select("fingerprint", "table_name", "rows_read"))
    return {(r.fingerprint, r.table_name): int(r.rows_read) for r in done.itertuples()}


# -- quality and privacy -------------------------------------------------------------------------------
def _check(warehouse, spec, targets: list[_Target], settings: Settings, secret: str, started, progress) -> None:
    for i, t in enumerate(targets):
        progress("quality", i, len(targets))
        staged = warehouse.stage(t.mapped.rows)
        options = QualityOptions(duplicates=t.entry.duplicates, reference_time=started.to_pydatetime())
        outcome = apply_rules(warehouse, t.mapped.table_name, staged, settings=settings.quality, options=options)
        done = pseudonymise(t.mapped.table_name, outcome.rows, secret)
        t.rows = warehouse.stage(done.rows)
        t.vault = done.vault
        mapped_q = ibis.memtable(t.mapped.quarantined, schema=_QUARANTINE_SCHEMA)
        quality_q = outcome.quarantined.select(**{c: outcome.quarantined[c].cast(typ)
                                                  for c, typ in _QUARANTINE_SCHEMA.items()})
        t.quarantined = warehouse.stage(ibis.union(mapped_q, quality_q, distinct=False))
        rules = t.mapped.quarantined["rule"].value_counts().to_dict() if len(t.mapped.quarantined) else {}
        t.report.rules = [RuleCount(r, _MAPPING_RULES.get(r, r), checked=t.mapped.rows_read, quarantined=int(n))
                          for r, n in sorted(rules.items())] + list(outcome.counts)
    progress("quality", len(targets), len(targets))


# -- write ---------------------------------------------------------------------------------------------
def _new_rows(warehouse, table_name: str, rows: ir.Table) -> ir.Table:
    """Rows whose natural key is not in the table yet (nullable key columns compare null = null)."""
    spec = TABLES[table_name]
    existing = warehouse.table(table_name)
    if not spec.key:
        return rows
    preds = []
    for k in spec.key:
        col = spec.column(k)
        left, right = rows[k], existing[k]
        if col.nullable:  # two nulls are the same key here (a sentinel would be engine-dependent SQL)
            preds.append((left == right) | (left.isnull() & right.isnull()))
        else:
            preds.append(left == right)
    return rows.anti_join(existing, preds)


def _write(warehouse, spec: SourceSpec, load_id: str, started, targets: list[_Target], lookup_reads,
           progress) -> None:
    now = pd.Timestamp.now(tz="UTC")
    with warehouse.transaction():
        vaults = []
        for i, t in enumerate(targets):
            progress("write", i, len(targets))
            name = t.mapped.table_name
            canonical = [c for c in TABLES[name].column_names if c != "load_id"]
            rows = t.rows.select(*[c for c in canonical if c in t.rows.columns]).mutate(load_id=ibis.literal(load_id))
            new = warehouse.stage(_new_rows(warehouse, name, rows))
            offered = int(warehouse.execute(t.rows.count()))
            loaded = int(warehouse.execute(new.count()))
            warehouse.append(name, new)
            n_q = int(warehouse.execute(t.quarantined.count()))
            if n_q:
                warehouse.append("quarantine", _quarantine_rows(t.quarantined, load_id, spec.source, name, now))
            t.report.rows_loaded = loaded
            t.report.rows_quarantined = n_q
            t.report.rows_skipped = (offered - loaded) + t.mapped.collapsed
            if not t.report.balanced:
                log.error("%s -> %s: rows unaccounted for (read %d, loaded %d, quarantined %d, skipped %d)",
                          t.file, name, t.report.rows_read, loaded, n_q, t.report.rows_skipped)
            vaults.append(t.vault)
            warehouse.append("loads", pd.DataFrame({
                "load_id": [load_id], "source": [spec.source], "file": [t.file], "fingerprint": [t.fingerprint],
                "table_name": [name], "rows_read": [t.report.rows_read], "rows_loaded": [loaded],
                "rows_quarantined": [n_q], "rows_skipped": [t.report.rows_skipped], "started_at": [started],
                "finished_at": [pd.Timestamp.now(tz="UTC")],
                "report": [json.dumps(asdict(t.report), ensure_ascii=False, default=str)],
            }))
        for entry, raw in lookup_reads:
            if raw.bad_rows:
                q = warehouse.stage(ibis.memtable(bad_rows_quarantine(raw.bad_rows, raw.file), schema=_QUARANTINE_SCHEMA))
                warehouse.append("quarantine", _quarantine_rows(q, load_id, spec.source, f"lookup:{entry.name}", now))
        if vaults:
            progress("write", len(targets), len(targets) + 1)
            vault = ibis.union(*vaults, distinct=False).distinct()
            existing = warehouse.table("pii_vault")
            new_vault = vault.anti_join(existing, [vault.kind == existing.kind, vault.key == existing.key])
            new_vault = warehouse.stage(new_vault.mutate(first_seen_at=ibis.literal(now, "timestamp('UTC')"),
                                                         source=ibis.literal(spec.source)))
            warehouse.append("pii_vault", new_vault)
        progress("write", len(targets) + 1, len(targets) + 1)


def _quarantine_rows(q: ir.Table, load_id: str, source: str, table_name: str, now) -> ir.Table:
    return q.select(load_id=ibis.literal(load_id), source=ibis.literal(source), file=q._file,
                    table_name=ibis.literal(table_name), row_number=q._row, field=q.field, rule=q.rule,
                    reason=q.reason, raw=q.raw, quarantined_at=ibis.literal(now, "timestamp('UTC')"))
