"""Readers: a file becomes a table of strings with a 1-based row number per row.

Strings first, so that a bad value can be reported with its row and field instead of failing the
whole file. Row numbers count records: in a delimited file with a header the header is row 1 and data
starts at row 2 (the same as the line number unless a quoted value holds a line break); in JSON lines
and Parquet the first record is row 1; in Excel the row is the sheet's row.

Delimited text is parsed by pyarrow (all columns as strings) for speed. When pyarrow refuses the
file (a row with too many or too few fields, a quote left open) the file is parsed again with
Python's ``csv`` module, which knows the exact row: a malformed row is set aside for quarantine, and a
malformed *last* row (a truncated file) is an :class:`InputError`.

A file that cannot be read at all (empty, binary, wrong encoding, missing a required column,
truncated) raises :class:`InputError` naming the file, row and field where known.
"""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import hashlib
import io
import json
import logging
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from jingzhun.errors import InputError

__all__ = ["RawTable", "BadRow", "read_file", "file_digest", "detect_format", "ROW"]

log = logging.getLogger(__name__)

ROW = "_row"
_SNIFF = (",", ";", "\t", "|")
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".dat": "csv", ".parquet": "parquet",
               ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
               ".xlsx": "excel", ".xlsm": "excel"}


@dataclass(frozen=True)
class BadRow:
    """A row set aside while reading (wrong number of fields, unreadable JSON)."""

    row: int
    reason: str
    raw: str
    rule: str = "shape"
    field: str | None = None


@dataclass
class RawTable:
    """A file read as strings: ``data`` has the source columns (string) and ``_row`` (int64)."""

    file: str
    columns: tuple[str, ...]
    data: pa.Table
    bad_rows: list[BadRow] = field(default_factory=list)
    sha256: str = ""
    encoding: str = "utf-8"

    @property
    def rows_read(self) -> int:
        return self.data.num_rows + len(self.bad_rows)


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes as stored (compressed files are hashed compressed)."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def detect_format(path: str | os.PathLike) -> str:
    name = str(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    fmt = _EXTENSIONS.get(os.path.splitext(name)[1])
    if fmt is None:
        raise InputError("cannot tell the file's format from its name", file=str(path),
                         hint="set `format:` to csv, parquet, jsonl or excel in the mapping")
    return fmt


def read_file(path: str | os.PathLike, *, format: str | None = None, encoding: str = "auto",
              delimiter: str = "auto", header: bool = True, sheet: str | None = None,
              required: tuple[str, ...] | list[str] = ()) -> RawTable:
    """Read one file as strings. See the module docstring for what each format means."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise InputError("file not found", file=name, hint="check `path:` in the mapping and JINGZHUN_DATASETS")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    fmt = format or detect_format(path)
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"the gzip stream is damaged or cut short ({exc})", file=name,
                             hint="download or export the file again") from None
    if not raw.strip():
        raise InputError("the file is empty", file=name, hint="export the data again; an empty file loads nothing")
    if fmt == "csv":
        table = _read_delimited(raw, name, encoding, delimiter, header)
    elif fmt == "jsonl":
        table = _read_jsonl(raw, name, encoding)
    elif fmt == "parquet":
        table = _read_parquet(raw, name)
    elif fmt == "excel":
        table = _read_excel(raw, name, sheet, header)
    else:
        raise InputError(f"unknown format {fmt!r}", file=name, hint="use csv, parquet, jsonl or excel")
    table.sha256 = digest
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(f"required column {missing[0]!r} is missing; the file has {list(table.columns)}",
                         file=name, row=1 if fmt in ("csv", "excel") and header else None, field=missing[0],
                         hint="fix the export or the column name in the mapping")
    log.info("read %s: %d rows (%d set aside), %d columns", name, table.data.num_rows, len(table.bad_rows),
             len(table.columns))
    return table


# -- text --------------------------------------------------------------------------------------------
def _looks_binary(raw: bytes) -> int | None:
    """Offset of the first byte that no text file holds (NUL, most control bytes), else None."""
    sample = raw[: 1 << 16]
    bad = sum(1 for b in sample if b < 9 or 13 < b < 32 and b != 27)
    if b"\x00" in sample or bad > max(4, len(sample) // 200):
        for i, b in enumerate(sample):
            if b == 0 or (b < 9 or 13 < b < 32 and b != 27):
                return i
    return None


def _row_at(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _decode(raw: bytes, name: str, encoding: str) -> tuple[str, str]:
    """The file's text and the encoding it was read with."""
    bad = _looks_binary(raw)
    if bad is not None:
        raise InputError(f"the file holds binary data (byte {raw[bad]:#04x} at offset {bad}), not text",
                         file=name, row=_row_at(raw, bad),
                         hint="check that the path points at the export itself, not an archive or a spreadsheet")
    enc = encoding.lower().replace("_", "-")
    if enc in ("auto", "utf-8", "utf8", "utf-8-sig"):
        try:
            return raw.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError as exc:
            if enc != "auto":
                raise InputError(
                    f"the file is not UTF-8 as declared: byte {raw[exc.start]:#04x} at offset {exc.start} is invalid",
                    file=name, row=_row_at(raw, exc.start),
                    hint="set `encoding: auto` (tries GB18030 next) or the file's real encoding, e.g. gbk") from None
            first_error = exc
        try:
            return raw.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            raise InputError(
                f"the file is neither UTF-8 nor GB18030: byte {raw[first_error.start]:#04x} at offset "
                f"{first_error.start} is invalid UTF-8", file=name, row=_row_at(raw, first_error.start),
                hint="set `encoding:` to the file's encoding (e.g. latin-1, big5) or convert it to UTF-8") from None
    try:
        return raw.decode(encoding), encoding
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}", file=name, hint="use auto, utf-8, gb18030, gbk, latin-1, ...") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"the file is not {encoding} as declared: byte {raw[exc.start]:#04x} at offset {exc.start}",
                         file=name, row=_row_at(raw, exc.start), hint="set `encoding: auto` or the real encoding") from None


def _sniff(text: str) -> str:
    lines = [ln for ln in text[: 1 << 16].splitlines()[:50] if ln.strip()]
    if len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line short
    best, best_score = ",", (-1, 0)
    for d in _SNIFF:
        counts = [len(r) for r in csv.reader(lines, delimiter=d)]
        if not counts or max(counts) < 2:
            continue
        modal = max(set(counts), key=counts.count)
        score = (counts.count(modal), modal)
        if score > best_score:
            best, best_score = d, score
    return best


def _header_names(fields: list[str], name: str) -> tuple[str, ...]:
    names = tuple(f.strip() for f in fields)
    for i, n in enumerate(names):
        if not n:
            raise InputError(f"header field {i + 1} is empty", file=name, row=1,
                             hint="give every column a name, or set `header: false`")
        if names.index(n) != i:
            raise InputError(f"the header names column {n!r} twice", file=name, row=1, field=n,
                             hint="rename one of them in the export")
    return names


def _read_delimited(raw: bytes, name: str, encoding: str, delimiter: str, header: bool) -> RawTable:
    text, used = _decode(raw, name, encoding)
    delim = _DELIMITER_NAMES.get(delimiter.lower(), delimiter)
    if delim == "whitespace":
        return _read_whitespace(text, name, header, used)
    if delim == "auto":
        delim = _sniff(text)
    if len(delim) != 1:
        raise InputError(f"delimiter {delimiter!r} is not one character", file=name,
                         hint="use auto, whitespace, tab, or a single character")
    first = next(csv.reader(io.StringIO(text[: 1 << 16], newline=""), delimiter=delim), [])
    columns = _header_names(first, name) if header else tuple(f"col{i + 1}" for i in range(len(first)))
    body = text.rstrip("\r\n")
    # Blank lines would shift row numbers, and an odd number of quotes means one is left open (pyarrow
    # would read to the end of the file): both go the exact, row-by-row way.
    if "\n\n" not in body and "\n\r\n" not in body and raw.count(b'"') % 2 == 0:
        data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
        if used != "utf-8":
            data = text.encode("utf-8")
        try:
            table = pa_csv.read_csv(
                io.BytesIO(data),
                read_options=pa_csv.ReadOptions(column_names=list(columns), skip_rows=1 if header else 0,
                                                block_size=1 << 24),
                parse_options=pa_csv.ParseOptions(delimiter=delim, newlines_in_values=True),
                convert_options=pa_csv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                                      strings_can_be_null=False, quoted_strings_can_be_null=False),
            )
            start = 2 if header else 1
            rows = pa.array(range(start, start + table.num_rows), pa.int64())
            return RawTable(name, columns, table.append_column(ROW, rows), encoding=used)
        except pa.ArrowInvalid as exc:
            log.info("%s: pyarrow could not parse the file (%s); reading it row by row", name, exc)
    return _read_delimited_python(text, name, delim, header, columns, used)


def _read_delimited_python(text: str, name: str, delim: str, header: bool, columns: tuple[str, ...],
                           used: str) -> RawTable:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    n = len(columns)
    values: list[list[str]] = [[] for _ in range(n)]
    rows: list[int] = []
    bad: list[BadRow] = []
    pending: tuple[int, list[str]] | None = None  # hold each row until we know whether it is the last
    record = 0
    try:
        for fields in reader:
            record += 1
            if header and record == 1:
                continue
            if not fields:
                continue
            if pending is not None:
                _take(pending, n, values, rows, bad, delim)
            pending = (record, fields)
    except csv.Error as exc:
        raise InputError(f"the last line is truncated: a quoted field is not closed ({exc})", file=name,
                         row=record + 1, hint="the file was probably cut short; export or download it again") from None
    if pending is not None:
        row, fields = pending
        if len(fields) < n:
            raise InputError(f"the last line is truncated: it has {len(fields)} fields, the header has {n}",
                             file=name, row=row, field=columns[len(fields)],
                             hint="the file was probably cut short; export or download it again")
        _take(pending, n, values, rows, bad, delim)
    data = {c: pa.array(v, pa.string()) for c, v in zip(columns, values)}
    data[ROW] = pa.array(rows, pa.int64())
    return RawTable(name, columns, pa.table(data), bad, encoding=used)


def _take(item, n, values, rows, bad, delim) -> None:
    row, fields = item
    if len(fields) != n:
        bad.append(BadRow(row, f"row has {len(fields)} fields, the header has {n}", delim.join(fields)))
        return
    for i, v in enumerate(fields):
        values[i].append(v)
    rows.append(row)


def _read_whitespace(text: str, name: str, header: bool, used: str) -> RawTable:
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise InputError("the file is empty", file=name)
    head = lines[first].split()
    columns = _header_names(head, name) if header else tuple(f"col{i + 1}" for i in range(len(head)))
    n = len(columns)
    values: list[list[str]] = [[] for _ in range(n)]
    rows: list[int] = []
    bad: list[BadRow] = []
    last = max(i for i, ln in enumerate(lines) if ln.strip())
    for i in range(first + 1 if header else first, last + 1):
        fields = lines[i].split()
        if not fields:
            continue
        if len(fields) != n:
            if i == last and len(fields) < n:
                raise InputError(f"the last line is truncated: it has {len(fields)} fields, the header has {n}",
                                 file=name, row=i + 1, field=columns[len(fields)],
                                 hint="the file was probably cut short; export or download it again")
            bad.append(BadRow(i + 1, f"row has {len(fields)} fields, the header has {n}", lines[i]))
            continue
        for j, v in enumerate(fields):
            values[j].append(v)
        rows.append(i + 1)
    data = {c: pa.array(v, pa.string()) for c, v in zip(columns, values)}
    data[ROW] = pa.array(rows, pa.int64())
    return RawTable(name, columns, pa.table(data), bad, encoding=used)


# -- other formats -----------------------------------------------------------------------------------
def _text_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, _dt.datetime) else value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _from_records(name: str, columns: list[str], records: list[list], rows: list[int], bad, used="utf-8") -> RawTable:
    data = {c: pa.array([_text_value(r[i]) if i < len(r) else "" for r in records], pa.string())
            for i, c in enumerate(columns)}
    data[ROW] = pa.array(rows, pa.int64())
    return RawTable(name, tuple(columns), pa.table(data), bad, encoding=used)


def _read_jsonl(raw: bytes, name: str, encoding: str) -> RawTable:
    text, used = _decode(raw, name, encoding)
    lines = text.splitlines()
    last = max(i for i, ln in enumerate(lines) if ln.strip())
    columns: dict[str, None] = {}
    objects: list[dict] = []
    rows: list[int] = []
    bad: list[BadRow] = []
    for i, line in enumerate(lines[: last + 1]):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("a line must hold one JSON object")
        except ValueError as exc:
            if i == last:
                raise InputError(f"the last line is not a complete JSON object ({exc})", file=name, row=i + 1,
                                 hint="the file was probably cut short; export it again") from None
            bad.append(BadRow(i + 1, f"not a JSON object: {exc}", line))
            continue
        columns.update(dict.fromkeys(obj))
        objects.append(obj)
        rows.append(i + 1)
    cols = list(columns)
    return _from_records(name, cols, [[o.get(c) for c in cols] for o in objects], rows, bad, used)


def _read_parquet(raw: bytes, name: str) -> RawTable:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"not a readable Parquet file ({exc})", file=name,
                         hint="check the file, or set `format:` if it is not Parquet") from None
    columns = {}
    for col_name, col in zip(table.column_names, table.columns):
        try:
            arr = col.cast(pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            arr = pa.array([_text_value(v) for v in col.to_pylist()], pa.string())
        columns[col_name] = arr.fill_null("")
    columns[ROW] = pa.array(range(1, table.num_rows + 1), pa.int64())
    return RawTable(name, tuple(table.column_names), pa.table(columns))


def _read_excel(raw: bytes, name: str, sheet: str | None, header: bool) -> RawTable:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise InputError(f"not a readable Excel workbook ({exc})", file=name, hint="save it again as .xlsx") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InputError(f"the workbook has no sheet {sheet!r}; it has {book.sheetnames}", file=name,
                             hint="set `sheet:` to one of those")
        ws = book[sheet] if sheet else book.worksheets[0]
        all_rows = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    numbered = [(i + 1, r) for i, r in enumerate(all_rows) if any(v not in (None, "") for v in r)]
    if not numbered:
        raise InputError("the sheet is empty", file=name)
    width = max(len(r) for _, r in numbered)
    if header:
        _, head = numbered.pop(0)
        while head and head[-1] in (None, ""):
            head = head[:-1]
        columns = list(_header_names([_text_value(v) for v in head], name))
    else:
        columns = [f"col{i + 1}" for i in range(width)]
    return _from_records(name, columns, [r for _, r in numbered], [i for i, _ in numbered], [])
