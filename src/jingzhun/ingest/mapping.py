"""Mapping: a file's strings become the staged rows of its canonical table(s).

:func:`map_file` applies one file entry of a :class:`~jingzhun.ingest.source.SourceSpec` to the
:class:`~jingzhun.ingest.readers.RawTable` read from it. The result per target table has the canonical
columns (typed; identifiers still raw, the extras ``name`` and ``address`` allowed), ``_row`` and
``_file``. A value that does not parse sends its row to quarantine (``rule="type"``, the source field,
"cannot read 'abc' as float64"); a row missing a value its table cannot do without goes there too
(``rule="required"``). Nothing here writes: the pipeline stages, checks and loads the result.

Values are parsed column by column with pandas (vectorised), before any engine sees them, so the
staged batch is the same on DuckDB and Spark.

Timestamps: parsed with the column's ``format`` or as ISO 8601 (anything else pandas recognises as a
fall-back); values without a zone are in the mapping's ``timezone`` (ambiguous autumn hours are read
as summer time, spring-gap hours are shifted forward) and everything is converted to UTC.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from jingzhun.errors import InputError, MappingError
from jingzhun.ingest.readers import ROW, BadRow, RawTable
from jingzhun.ingest.source import (
    Concat,
    Constant,
    FileSpec,
    FromColumn,
    JsonObject,
    Lookup,
    SourceSpec,
)
from jingzhun.privacy import PERSONAL_EXTRAS, personal_columns
from jingzhun.schema import TABLES

__all__ = ["MappedTable", "map_file", "staged_schema", "bad_rows_quarantine", "QUARANTINE_COLUMNS"]

log = logging.getLogger(__name__)

FILE = "_file"
QUARANTINE_COLUMNS = ("_row", "_file", "rule", "field", "reason", "raw")
_LOAD_COLUMNS = ("load_id", "quality_flags")
_ARROW = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "boolean": pa.bool_(),
          "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_KEEP = object()


@dataclass
class MappedTable:
    """The staged rows of one canonical table from one file, and the rows set aside on the way."""

    table_name: str
    file: str
    rows: pa.Table
    quarantined: pd.DataFrame
    rows_read: int
    collapsed: int = 0  # rows folded into another row with the same natural key (one_row_per_key)
    notes: list[str] = field(default_factory=list)


def _kind(dtype: str) -> str:
    return "timestamp" if dtype.startswith("timestamp") else dtype


def staged_schema(table_name: str, extras: tuple[str, ...] = ()) -> pa.Schema:
    """Arrow schema of a staged batch: canonical columns (less load_id, quality_flags), extras, _row, _file."""
    spec = TABLES[table_name]
    fields = [pa.field(c.name, _ARROW[_kind(c.dtype)]) for c in spec.columns if c.name not in _LOAD_COLUMNS]
    fields += [pa.field(x, pa.string()) for x in extras]
    return pa.schema(fields + [pa.field(ROW, pa.int64()), pa.field(FILE, pa.string())])


class _Context:
    """Evaluation state for one file: its strings, computed columns, and the failures so far."""

    def __init__(self, frame: pd.DataFrame, file: str, lookups: dict[str, pd.DataFrame], timezone: str):
        self.frame = frame
        self.file = file
        self.lookups = lookups
        self.timezone = timezone
        self.computed: dict[str, pd.Series] = {}
        self.failures: list[tuple[np.ndarray, str, pd.Series, str]] = []

    @property
    def n(self) -> int:
        return len(self.frame)

    def column(self, name: str) -> pd.Series:
        if name in self.computed and name.startswith("_"):
            return self.computed[name]
        if name in self.frame.columns:
            return self.frame[name]
        raise InputError(f"column {name!r} named in the mapping is not in the file; it has "
                         f"{[c for c in self.frame.columns if c != ROW]}", file=self.file, row=1, field=name,
                         hint="fix the column name in the mapping or the file's header")

    def fail(self, mask: np.ndarray, field_name: str, reasons: pd.Series, rule: str = "type") -> None:
        if mask.any():
            self.failures.append((mask, field_name, reasons, rule))


# -- values ------------------------------------------------------------------------------------------
def _strings(series: pd.Series) -> pd.Series:
    """Raw strings, trimmed; empty means missing (None)."""
    s = series.astype(object)
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        s = s.str.strip()
        return s.where(s.notna() & (s != ""), None)
    s = s.where(series.notna(), None).map(lambda v: v.strip() if isinstance(v, str) else v)
    return s.where(s.map(lambda v: v is not None and v != ""), None)


def _fill(s: pd.Series, default: Any) -> pd.Series:
    if default is None:
        return s
    return s.where(s.notna(), default)


def _evaluate(spec, dtype: str, ctx: _Context) -> pd.Series:
    if isinstance(spec, FromColumn):
        s = _strings(ctx.column(spec.from_))
        if spec.map:
            other = spec.map.get("*", _KEEP)  # "*" maps every value the map does not name
            s = s.map(lambda v: v if v is None else spec.map.get(v, v if other is _KEEP else other))
        s = _fill(s, spec.default)
        return _parse(s, spec.type or dtype, spec.format, spec.from_, ctx)
    if isinstance(spec, Constant):
        return _parse(pd.Series([spec.value] * ctx.n, index=ctx.frame.index, dtype=object),
                      spec.type or dtype, None, "value", ctx)
    if isinstance(spec, Concat):
        parts = [_strings(ctx.column(c)).astype(object) for c in spec.concat]
        out = parts[0].astype(str)
        missing = parts[0].isna()
        for p in parts[1:]:
            out = out + spec.sep + p.astype(str)
            missing |= p.isna()
        out = out.where(~missing, None)
        return _parse(out, dtype, None, "+".join(spec.concat), ctx)
    if isinstance(spec, Lookup):
        s = _fill(_lookup(spec, ctx), spec.default)
        return _parse(s, spec.type or dtype, None, spec.take, ctx)
    if isinstance(spec, JsonObject):
        parts = {k: _evaluate(sub, getattr(sub, "type", None) or "string", ctx) for k, sub in spec.json_.items()}
        keys = list(parts)
        columns = [parts[k].tolist() for k in keys]
        texts = []
        for values in zip(*columns):
            obj = {k: _plain(v) for k, v in zip(keys, values) if not _missing(v)}
            texts.append(json.dumps(obj, ensure_ascii=False, default=str) if obj else None)
        return pd.Series(texts, index=ctx.frame.index, dtype=object)
    raise MappingError(f"unknown column entry {spec!r}")  # pragma: no cover - the model forbids it


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT or v is pd.NA


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _lookup(spec: Lookup, ctx: _Context) -> pd.Series:
    other = ctx.lookups.get(spec.lookup)
    if other is None:  # pragma: no cover - the pipeline reads every named file
        raise MappingError(f"lookup {spec.lookup!r} was not read")
    for col in [*spec.on.values(), spec.take, *(spec.where or {})]:
        if col not in other.columns:
            raise MappingError(f"lookup {spec.lookup!r} has no column {col!r}; it has "
                               f"{[c for c in other.columns if c != ROW]}")
    if spec.where:
        keep = np.ones(len(other), dtype=bool)
        for col, value in spec.where.items():
            keep &= (_strings(other[col]) == value).to_numpy()
        other = other[keep]
    right_keys = list(spec.on.values())
    left = pd.DataFrame({f"k{i}": _strings(ctx.column(c)) for i, c in enumerate(spec.on)})
    right = pd.DataFrame({f"k{i}": _strings(other[c]) for i, c in enumerate(right_keys)})
    keys = list(right.columns)
    take = _strings(other[spec.take])
    if spec.agg == "first":
        right["v"] = take
        right = right[right["v"].notna()].drop_duplicates(subset=keys, keep="first")
    else:
        right["v"] = pd.to_numeric(take, errors="coerce") if spec.agg != "count" else take.notna()
        grouped = right.groupby(keys, dropna=True)["v"]
        right = (grouped.mean() if spec.agg == "mean" else grouped.sum(min_count=1)).reset_index()
    merged = left.merge(right, on=keys, how="left")
    values = merged["v"]
    if spec.agg == "count":
        values = values.fillna(0)
    values.index = ctx.frame.index
    return values


def _parse(s: pd.Series, dtype: str, fmt: str | None, field_name: str, ctx: _Context) -> pd.Series:
    kind = _kind(dtype)
    present = s.notna().to_numpy()
    if kind == "string":
        if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
            return s.astype(object).where(s.notna(), None)
        return s.map(lambda v: None if _missing(v) else (str(v) if not isinstance(v, float) or not v.is_integer()
                                                          else str(int(v))))
    if kind in ("float64", "int64"):
        num = pd.to_numeric(s, errors="coerce")
        bad = present & num.isna().to_numpy()
        if kind == "int64":
            bad |= present & ~num.isna().to_numpy() & (num.fillna(0) % 1 != 0).to_numpy()
        _fail(ctx, bad, s, field_name, kind)
        num = num.where(~bad)
        return num.astype("Int64") if kind == "int64" else num.astype("float64")
    if kind == "boolean":
        text = s.map(lambda v: str(v).strip().lower() if not _missing(v) else None)
        out = text.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
        if s.map(lambda v: isinstance(v, bool)).any():
            out = s.map(lambda v: v if isinstance(v, bool) else None).where(s.map(lambda v: isinstance(v, bool)), out)
        bad = present & out.isna().to_numpy()
        _fail(ctx, bad, s, field_name, "boolean")
        return out.astype("boolean")
    if kind in ("date", "timestamp"):
        return _parse_time(s, kind, fmt, field_name, ctx, present)
    raise MappingError(f"unknown type {dtype!r} for {field_name}; use one of string, int64, float64, boolean, "
                       "date, timestamp")


def _fail(ctx: _Context, bad: np.ndarray, s: pd.Series, field_name: str, kind: str) -> None:
    if bad.any():
        reasons = s[bad].map(lambda v: f"cannot read {v!r} as {kind}")
        ctx.fail(bad, field_name, reasons)


def _parse_time(s, kind, fmt, field_name, ctx, present) -> pd.Series:
    text = s.map(lambda v: None if _missing(v) else str(v))
    zoned = text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True, na=False).to_numpy() if fmt is None else \
        np.zeros(len(text), dtype=bool)
    result = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    naive_idx = ~zoned & present
    if naive_idx.any():
        parsed = _to_datetime(text[naive_idx], fmt, utc=False)
        if getattr(parsed.dt, "tz", None) is None and kind == "timestamp":
            parsed = parsed.dt.tz_localize(ctx.timezone, ambiguous=np.ones(len(parsed), dtype=bool),
                                           nonexistent="shift_forward").dt.tz_convert("UTC")
        elif kind == "timestamp":
            parsed = parsed.dt.tz_convert("UTC")
        else:
            parsed = parsed.dt.tz_localize("UTC") if getattr(parsed.dt, "tz", None) is None else parsed
        result[naive_idx] = parsed
    if zoned.any():
        result[zoned] = _to_datetime(text[zoned], None, utc=True)
    bad = present & result.isna().to_numpy()
    _fail(ctx, bad, s, field_name, kind)
    if kind == "date":
        return result.dt.date.where(result.notna(), None)
    return result


def _to_datetime(text: pd.Series, fmt: str | None, *, utc: bool) -> pd.Series:
    parsed = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce", utc=utc)
    if fmt is None and parsed.isna().any():  # not ISO 8601: let pandas guess, value by value
        rest = parsed.isna()
        guessed = pd.to_datetime(text[rest], format="mixed", errors="coerce", utc=utc)
        if guessed.notna().any():
            parsed = parsed.copy()
            parsed[rest] = guessed
    return parsed


# -- tables ------------------------------------------------------------------------------------------
def map_file(spec: SourceSpec, entry: FileSpec, raw: RawTable, lookups: dict[str, RawTable], *,
             timezone: str = "UTC", currency: str = "GBP") -> list[MappedTable]:
    """Map one file entry's strings to the staged batch of each of its target tables."""
    if entry.table is None:
        return []
    tz = spec.timezone or timezone
    cur = spec.currency or currency
    frame = raw.data.to_pandas()
    frames = {name: t.data.to_pandas() for name, t in lookups.items()}
    ctx = _Context(frame, raw.file, frames, tz)
    table_spec = TABLES[entry.table]
    dtypes = {c.name: c.dtype for c in table_spec.columns}
    values: dict[str, pd.Series] = {}
    for col, col_spec in entry.columns.items():
        dtype = dtypes.get(col, "string")
        values[col] = ctx.computed[col] = _evaluate(col_spec, dtype, ctx)
    order_values: dict[str, pd.Series] = {}
    if entry.orders is not None:
        order_dtypes = {c.name: c.dtype for c in TABLES["orders"].columns}
        for col, col_spec in entry.orders.columns.items():
            order_values[col] = _evaluate(col_spec, order_dtypes.get(col, "string"), ctx)
    values = _derive(entry, values, ctx, cur)
    _required(entry.table, values, ctx)
    bad, quarantine = _failures(ctx, entry, raw)  # the first failure of a row is its reason
    good = ~bad
    rows = pd.DataFrame({k: v for k, v in values.items() if not k.startswith("_")})[good]
    rows[ROW] = frame[ROW].to_numpy()[good]
    rows[FILE] = raw.file
    rows["source"] = spec.source
    read_q = bad_rows_quarantine(raw.bad_rows, raw.file)
    quarantine = pd.concat([read_q, quarantine], ignore_index=True)
    out = []
    collapsed = 0
    if entry.one_row_per_key:
        before = len(rows)
        rows = _collapse(rows, entry.table)
        collapsed = before - len(rows)
    out.append(MappedTable(entry.table, raw.file, _to_arrow(rows, entry.table), quarantine, raw.rows_read, collapsed))
    if entry.orders is not None:
        orders = _derive_orders(entry, values, order_values, good, frame, raw.file, spec.source, cur)
        out.append(MappedTable("orders", raw.file, _to_arrow(orders, "orders"), _empty_quarantine(), len(orders)))
    return out


def _derive(entry: FileSpec, values: dict[str, pd.Series], ctx: _Context, currency: str) -> dict[str, pd.Series]:
    """Canonical columns a table needs that the mapping may leave to us."""
    values = dict(values)
    idx = ctx.frame.index
    prefix = entry.returns.order_id_prefix if entry.returns else None
    by_prefix = values["order_id"].astype(object).str.startswith(prefix, na=False).astype(bool) \
        if prefix and "order_id" in values else pd.Series(False, index=idx)
    if entry.table == "order_lines":
        if entry.line_no == "auto" and "order_id" in values:
            values["line_no"] = values["order_id"].fillna("").groupby(values["order_id"].fillna("")).cumcount() + 1
        q, p = values.get("quantity"), values.get("unit_price")
        disc = values.get("discount", pd.Series(0.0, index=idx)).fillna(0.0)
        if "amount" not in values and q is not None and p is not None:
            values["amount"] = q * p - disc
        if "unit_price" not in values and q is not None and "amount" in values:
            values["unit_price"] = ((values["amount"] + disc) / q.where(q != 0)).fillna(0.0)
        negative = (q < 0).fillna(False) if q is not None and (entry.returns is None or entry.returns.negative_quantity) \
            else pd.Series(False, index=idx)
        mapped = values.get("is_return", pd.Series(False, index=idx)).fillna(False).astype(bool)
        values["is_return"] = mapped | by_prefix.astype(bool) | negative.astype(bool)
    elif entry.table == "orders":
        amount = values.get("amount")
        negative = (amount < 0).fillna(False) if amount is not None else pd.Series(False, index=idx)
        mapped = values.get("is_return", pd.Series(False, index=idx)).fillna(False).astype(bool)
        values["is_return"] = mapped | by_prefix.astype(bool) | negative.astype(bool)
        status = np.where(by_prefix, "cancelled", np.where(values["is_return"], "returned", "completed"))
        values["status"] = values["status"].fillna(pd.Series(status, index=idx)) if "status" in values else \
            pd.Series(status, index=idx)
    if "currency" in TABLES[entry.table].column_names and entry.table in ("orders", "products"):
        values["currency"] = values["currency"].fillna(currency) if "currency" in values else \
            pd.Series(currency, index=idx)
    return values


def _required(table_name: str, values: dict[str, pd.Series], ctx: _Context) -> None:
    spec = TABLES[table_name]
    for col in spec.columns:
        if col.nullable or col.name in ("source",) + _LOAD_COLUMNS:
            continue
        if col.name not in values:
            raise MappingError(f"table {table_name} needs column {col.name!r} ({col.doc}); map it in the source's "
                               "`columns:` (docs/sources.md)")
        empty = values[col.name].isna().to_numpy()
        if empty.any():
            reasons = pd.Series(f"{col.name} is empty and table {table_name} requires it", index=ctx.frame.index)[empty]
            ctx.fail(empty, col.name, reasons, rule="required")


def _failures(ctx: _Context, entry: FileSpec, raw: RawTable) -> tuple[np.ndarray, pd.DataFrame]:
    """Rows with a failed value (first failure per row wins) and their quarantine records."""
    bad = np.zeros(ctx.n, dtype=bool)
    records = []
    masked = _personal_sources(entry)
    for mask, field_name, reasons, rule in ctx.failures:
        new = mask & ~bad
        if not new.any():
            continue
        bad |= new
        idx = ctx.frame.index[new]
        sub = ctx.frame.loc[idx]
        raws = [json.dumps({k: ("***" if k in masked and v else v) for k, v in r.items() if k != ROW},
                           ensure_ascii=False) for r in sub.to_dict("records")]
        records.append(pd.DataFrame({"_row": sub[ROW].to_numpy(), "_file": raw.file, "rule": rule,
                                     "field": field_name, "reason": reasons.loc[idx].to_numpy(), "raw": raws}))
    if not records:
        return bad, _empty_quarantine()
    return bad, pd.concat(records, ignore_index=True)


def _personal_sources(entry: FileSpec) -> set[str]:
    """Source columns that feed personal columns (masked in quarantine's raw JSON)."""
    canonical = TABLES[entry.table].column_names
    personal = set(personal_columns(entry.table)) | {x for x in PERSONAL_EXTRAS if x not in canonical}
    cols = dict(entry.columns)
    if entry.orders is not None:
        personal |= set(personal_columns("orders"))
        cols.update(entry.orders.columns)
    out: set[str] = set()
    for name, spec in cols.items():
        if name in personal:
            if isinstance(spec, FromColumn):
                out.add(spec.from_)
            elif isinstance(spec, Concat):
                out.update(spec.concat)
    return out


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "_row" else object) for c in QUARANTINE_COLUMNS})


def bad_rows_quarantine(bad_rows: list[BadRow], file: str) -> pd.DataFrame:
    """Quarantine records (the columns of QUARANTINE_COLUMNS) for rows set aside while reading."""
    if not bad_rows:
        return _empty_quarantine()
    return pd.DataFrame({"_row": [b.row for b in bad_rows], "_file": file, "rule": [b.rule for b in bad_rows],
                         "field": [b.field for b in bad_rows], "reason": [b.reason for b in bad_rows],
                         "raw": [json.dumps({"line": b.raw}, ensure_ascii=False) for b in bad_rows]})


def _collapse(rows: pd.DataFrame, table_name: str) -> pd.DataFrame:
    key = [k for k in TABLES[table_name].key if k != "source"]
    agg = {c: "first" for c in rows.columns if c not in key}
    agg[ROW] = "min"
    return rows.groupby(key, sort=False, dropna=False).agg(agg).reset_index()[list(rows.columns)]


def _derive_orders(entry, values, order_values, good, frame, file, source, currency) -> pd.DataFrame:
    lines = pd.DataFrame({"order_id": values["order_id"], "amount": values["amount"],
                          "is_return": values["is_return"].astype(bool), ROW: frame[ROW]})
    for col, series in order_values.items():
        lines[col] = series
    lines = lines[good]
    prefix = entry.returns.order_id_prefix if entry.returns else None
    grouped = lines.groupby("order_id", sort=False)
    orders = grouped.agg(amount=("amount", "sum"), n_lines=("amount", "size"), is_return=("is_return", "all"),
                         **{ROW: (ROW, "min")}, **{c: (c, "first") for c in order_values})
    orders = orders.reset_index()
    cancelled = orders["order_id"].str.startswith(prefix) if prefix else pd.Series(False, index=orders.index)
    status = np.where(cancelled, "cancelled", np.where(orders["is_return"], "returned", "completed"))
    orders["status"] = orders["status"].fillna(pd.Series(status, index=orders.index)) if "status" in orders else status
    orders["currency"] = orders["currency"].fillna(currency) if "currency" in orders else currency
    orders["source"] = source
    orders[FILE] = file
    missing = [c for c in ("ordered_at",) if c not in orders]
    if missing:
        raise MappingError(f"{entry.path}: `orders:` needs `columns: {{ordered_at: ...}}` (when the order was placed)")
    dropped = orders["ordered_at"].isna()
    if dropped.any():
        log.warning("%s: %d derived orders have no ordered_at and are left out", file, int(dropped.sum()))
        orders = orders[~dropped]
    return orders


def _to_arrow(rows: pd.DataFrame, table_name: str) -> pa.Table:
    canonical = TABLES[table_name].column_names
    extras = tuple(x for x in PERSONAL_EXTRAS if x in rows.columns and x not in canonical)
    schema = staged_schema(table_name, extras)
    arrays = []
    n = len(rows)
    for f in schema:
        if f.name not in rows.columns:
            arrays.append(pa.nulls(n, f.type))
            continue
        col = rows[f.name]
        if pa.types.is_timestamp(f.type):
            col = pd.to_datetime(col, utc=True)
        elif pa.types.is_date(f.type):
            col = col.astype(object).where(col.notna(), None)
        elif f.type == pa.string():
            col = col.astype(object).where(col.notna(), None)
        arrays.append(pa.array(col, type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)
