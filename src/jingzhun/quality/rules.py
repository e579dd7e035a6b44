"""Row rules over a staged batch: normalise, flag, or set aside with a reason.

CONTRACT (used by pipeline.load):

    apply_rules(warehouse, table_name, staged, *, settings, options) -> QualityOutcome

``staged`` has the canonical columns of ``table_name`` (raw, unhashed identifiers; optional personal
extras ``name`` and ``address``) plus ``_row`` (int64) and ``_file`` (string). The outcome's ``rows``
keep those columns, normalised, plus ``quality_flags``; ``quarantined`` has ``_row``, ``_file``,
``rule``, ``field``, ``reason`` and ``raw`` (the row as JSON text, personal values masked: see
:mod:`jingzhun.quality.quarantine`).

The rules run in the order of :data:`RULES` (docs/quality.md explains each). A row is quarantined by
at most one rule, the first that rejects it, so that for every batch

    rows staged = rows kept + sum of ``quarantined`` over the rules.

Flags are kept on the row: ``quality_flags`` is the sorted, comma-separated list of the flags of a
kept row ('' when none). A rule's ``flagged`` count is the number of *kept* rows carrying its flag.
Everything is one chain of Ibis projections and window functions, evaluated once (materialised in a
staging table when a warehouse is given) and then split into kept and quarantined rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.config import QualitySettings
from jingzhun.errors import MappingError, SchemaError
from jingzhun.quality.bots import flag_bots
from jingzhun.quality.normalise import INVALID, PLACEHOLDER, normalise_identifiers, problem_column
from jingzhun.quality.quarantine import mask_expr, masked_columns, raw_json_expr
from jingzhun.schema import TABLES

__all__ = ["QualityOptions", "RuleCount", "QualityOutcome", "Rule", "RULES", "FLAGS", "EARLIEST_TIME",
           "apply_rules"]

log = logging.getLogger(__name__)

EARLIEST_TIME = datetime(1990, 1, 1, tzinfo=timezone.utc)
_FUTURE_SLACK = timedelta(days=1)
_HELPER = "__q_"  # prefix of the working columns, dropped from the outcome
_NOT_CONTENT = ("_row", "_file", "line_no", "quality_flags", "load_id")


@dataclass(frozen=True)
class QualityOptions:
    """Per-source choices a mapping can make."""

    duplicates: str = "flag"  # rows identical in every mapped column: "flag" (keep, flagged) or "quarantine"
    extra: dict = field(default_factory=dict)
    # Timestamps later than this plus one day are quarantined. None: the batch's latest received_at
    # where the table has one, else no upper bound (pipeline.load passes the load's start time).
    reference_time: datetime | None = None
    burst_events: int = 10             # consecutive too-fast events that make a burst (bots)
    max_unit_price: float | None = None  # prices above this are quarantined as absurd (None: no bound)

    def __post_init__(self) -> None:
        if self.duplicates not in ("flag", "quarantine"):
            raise MappingError(f"duplicates must be 'flag' or 'quarantine', not {self.duplicates!r}")
        if self.burst_events < 2:
            raise MappingError(f"burst_events must be at least 2, not {self.burst_events}")
        if self.reference_time is not None and self.reference_time.tzinfo is None:
            raise MappingError("reference_time must carry a time zone (use UTC)")


@dataclass(frozen=True)
class RuleCount:
    rule: str
    description: str
    checked: int
    flagged: int = 0      # kept, with the rule's flag in quality_flags (or a value nulled)
    quarantined: int = 0  # set aside with a reason


@dataclass(frozen=True)
class QualityOutcome:
    rows: ir.Table
    quarantined: ir.Table
    counts: tuple[RuleCount, ...]


@dataclass(frozen=True)
class Rule:
    """A rule as the report and the docs show it: its name, what it does, its flag if it keeps rows."""

    name: str
    description: str
    flag: str | None = None   # the flag kept rows get; None for rules that only quarantine
    quarantines: bool = False


RULES: tuple[Rule, ...] = (
    Rule("email_invalid", "e-mail without a valid shape: set to null", flag="email_invalid"),
    Rule("phone_invalid", "phone too short, too long or not a number: set to null", flag="phone_invalid"),
    Rule("placeholder", "placeholder e-mail or phone (none@none.com, 00000000000): set to null", flag="placeholder"),
    Rule("return", "return or cancellation (negative quantity or amount, or marked): is_return set", flag="return"),
    Rule("inconsistent_return", "return with a positive quantity or amount, or a purchase with a negative one",
         flag="inconsistent_return"),
    Rule("required", "required field empty", quarantines=True),
    Rule("timestamp_range", "timestamp before 1990 or more than a day after the reference time", quarantines=True),
    Rule("price_range", "negative price (or above the source's maximum)", quarantines=True),
    Rule("zero_price", "price of zero", flag="zero_price"),
    Rule("zero_quantity", "quantity of zero", flag="zero_quantity"),
    Rule("coordinates", "latitude/longitude out of range or 0,0: both set to null", flag="coordinates_invalid"),
    Rule("duplicate_exact", "identical to an earlier row of the batch in every mapped column",
         flag="duplicate_exact", quarantines=True),
    Rule("duplicate_key", "same natural key as an earlier row of the batch", quarantines=True),
    Rule("bot", "event of an id with more events per minute or faster bursts than a person makes", flag="bot"),
)
FLAGS: tuple[str, ...] = tuple(sorted(r.flag for r in RULES if r.flag))
_BY_NAME = {r.name: r for r in RULES}


def _flag_col(flag: str) -> str:
    return f"{_HELPER}flag_{flag}"


def _checked_col(rule: str) -> str:
    return f"{_HELPER}checked_{rule}"


class _Batch:
    """The staged table as it passes through the rules, with the bookkeeping columns beside it."""

    def __init__(self, table_name: str, staged: ir.Table) -> None:
        self.table_name = table_name
        self.spec = TABLES[table_name]
        self.columns = list(staged.columns)
        self.t = staged.mutate(**{
            f"{_HELPER}rule": ibis.null("string"), f"{_HELPER}field": ibis.null("string"),
            f"{_HELPER}reason": ibis.null("string"),
        })
        self.applied: list[str] = []  # rules that apply to this table, in order

    def has(self, *cols: str) -> bool:
        return all(c in self.columns for c in cols)

    @property
    def open(self) -> ir.BooleanValue:
        """Rows no rule has rejected yet."""
        return self.t[f"{_HELPER}rule"].isnull()

    def mutate(self, **values) -> None:
        self.t = self.t.mutate(**values)

    def checked(self, rule: str, cond: ir.BooleanValue) -> None:
        self.applied.append(rule)
        self.mutate(**{_checked_col(rule): cond.fill_null(False)})

    def flag(self, flag: str, cond: ir.BooleanValue) -> None:
        col = _flag_col(flag)
        cond = cond.fill_null(False)
        self.mutate(**{col: (self.t[col] | cond) if col in self.t.columns else cond})

    def reject(self, rule: str, cond: ir.BooleanValue, field: ir.StringValue | str | None,
               reason: ir.StringValue | str) -> None:
        """Set aside the open rows where ``cond`` holds, unless an earlier rule already did."""
        hit = self.open & cond.fill_null(False)
        field_expr = ibis.literal(field, "string") if field is None or isinstance(field, str) else field
        reason_expr = ibis.literal(reason) if isinstance(reason, str) else reason
        self.mutate(**{
            f"{_HELPER}rule": ibis.ifelse(hit, ibis.literal(rule), self.t[f"{_HELPER}rule"]),
            f"{_HELPER}field": ibis.ifelse(hit, field_expr, self.t[f"{_HELPER}field"]),
            f"{_HELPER}reason": ibis.ifelse(hit, reason_expr, self.t[f"{_HELPER}reason"]),
        })


# -- the rules, in order ----------------------------------------------------------------------------

def _identifiers(b: _Batch, settings: QualitySettings) -> None:
    cols = [c for c in ("email", "phone") if b.has(c)]
    b.t = normalise_identifiers(b.table_name, b.t, settings=settings, problems=True)
    for col, rule in (("email", "email_invalid"), ("phone", "phone_invalid")):
        if col in cols:
            b.checked(rule, b.t[f"{_HELPER}orig_{col}"].notnull())
            b.flag(rule, b.t[problem_column(col)] == INVALID)
    if cols:
        present = ibis.literal(False)
        for col in cols:
            present = present | b.t[f"{_HELPER}orig_{col}"].notnull()
            b.flag("placeholder", b.t[problem_column(col)] == PLACEHOLDER)
        b.checked("placeholder", present)
        b.t = b.t.drop(*[problem_column(c) for c in cols])


def _returns(b: _Batch) -> None:
    if b.table_name == "order_lines" and b.has("quantity"):
        given = b.t.is_return.fill_null(False) if b.has("is_return") else ibis.literal(False)
        qty = b.t.quantity
        amount = b.t.amount if b.has("amount") else ibis.null("float64")
        is_return = given | (qty < 0).fill_null(False)
        inconsistent = (given & (qty > 0)) | ((qty > 0) & (amount < 0)) | ((qty < 0) & (amount > 0))
    elif b.table_name == "orders" and b.has("amount"):
        given = b.t.is_return.fill_null(False) if b.has("is_return") else ibis.literal(False)
        is_return = given | (b.t.amount < 0).fill_null(False)
        inconsistent = given & (b.t.amount > 0)
    else:
        return
    b.checked("inconsistent_return", ibis.literal(True))
    b.flag("inconsistent_return", inconsistent)  # before is_return changes: it reads the given value
    b.mutate(is_return=is_return)
    if "is_return" not in b.columns:
        b.columns.append("is_return")
    b.checked("return", ibis.literal(True))
    b.flag("return", b.t.is_return)


def _required(b: _Batch) -> None:
    cols = [c.name for c in b.spec.columns
            if not c.nullable and c.name not in ("source", "load_id", "quality_flags") and b.has(c.name)]
    b.checked("required", b.open)
    if not cols:
        return
    missing = ibis.cases(*[(b.t[c].isnull(), ibis.literal(c)) for c in cols], else_=ibis.null("string"))
    b.mutate(**{f"{_HELPER}missing": missing})
    m = b.t[f"{_HELPER}missing"]
    b.reject("required", m.notnull(), m, m.concat(" is empty but required"))


def _timestamps(b: _Batch, reference: datetime | None) -> None:
    cols = [c.name for c in b.spec.columns if c.dtype.startswith("timestamp") and b.has(c.name)]
    if not cols:
        return
    b.checked("timestamp_range", b.open)
    earliest = int(EARLIEST_TIME.timestamp())
    latest = int((reference + _FUTURE_SLACK).timestamp()) if reference is not None else None
    cases = []
    for col in cols:
        secs = b.t[col].epoch_seconds().floor().cast("int64")
        cases.append((secs < earliest, col, f"{col} is before {EARLIEST_TIME:%Y-%m-%d}"))
        if latest is not None:
            cases.append((secs > latest, col,
                          f"{col} is more than a day after the reference time {reference:%Y-%m-%d %H:%M:%S} UTC"))
    for cond, col, reason in cases:
        b.reject("timestamp_range", cond, col, reason)


def _prices(b: _Batch, options: QualityOptions) -> None:
    col = {"order_lines": "unit_price", "products": "price"}.get(b.table_name)
    if col is None or not b.has(col):
        return
    price = b.t[col]
    b.checked("price_range", b.open)
    b.reject("price_range", price < 0, col, f"{col} is negative")
    if options.max_unit_price is not None:
        b.reject("price_range", price > options.max_unit_price, col,
                 f"{col} is above the maximum of {options.max_unit_price:g} set for this source")
    b.checked("zero_price", ibis.literal(True))
    b.flag("zero_price", price == 0)


def _quantities(b: _Batch) -> None:
    if b.table_name == "order_lines" and b.has("quantity"):
        b.checked("zero_quantity", ibis.literal(True))
        b.flag("zero_quantity", b.t.quantity == 0)


def _coordinates(b: _Batch) -> None:
    if not b.has("latitude", "longitude"):
        return
    lat, lon = b.t.latitude, b.t.longitude
    given = lat.notnull() | lon.notnull()
    bad = given & (
        lat.isnull() | lon.isnull() | (lat < -90) | (lat > 90) | (lon < -180) | (lon > 180) | ((lat == 0) & (lon == 0))
    ).fill_null(True)
    b.checked("coordinates", given)
    b.mutate(**{f"{_HELPER}bad_coords": bad})
    bad = b.t[f"{_HELPER}bad_coords"]
    b.flag("coordinates_invalid", bad)
    b.mutate(latitude=ibis.ifelse(bad, ibis.null("float64"), lat), longitude=ibis.ifelse(bad, ibis.null("float64"), lon))


def _first_of(b: _Batch, keys: list[str], name: str) -> tuple[ir.IntegerValue, ir.IntegerValue, ir.StringValue]:
    """Per open row: its rank among open rows with the same ``keys`` (0 = first by _row), and the first's row/file."""
    open_ = f"{_HELPER}open_{name}"
    b.mutate(**{open_: b.open})
    group = [b.t[k] for k in keys] + [b.t[open_]]
    ordered = ibis.window(group_by=group, order_by=[b.t._row, b.t._file])
    b.mutate(**{
        f"{_HELPER}rank_{name}": ibis.row_number().over(ordered),
        f"{_HELPER}first_row_{name}": b.t._row.first().over(ordered),
        f"{_HELPER}first_file_{name}": b.t._file.first().over(ordered),
    })
    return (b.t[f"{_HELPER}rank_{name}"], b.t[f"{_HELPER}first_row_{name}"], b.t[f"{_HELPER}first_file_{name}"])


def _where(file: ir.StringValue, row: ir.IntegerValue) -> ir.StringValue:
    return file.fill_null("?").concat(" row ", row.cast("string"))


def _duplicate_exact(b: _Batch, options: QualityOptions) -> None:
    content = [c for c in b.columns if c not in _NOT_CONTENT]
    if not content:
        return
    b.checked("duplicate_exact", b.open)
    rank, first_row, first_file = _first_of(b, content, "exact")
    dup = b.t[f"{_HELPER}open_exact"] & (rank > 0)
    if options.duplicates == "quarantine":
        b.reject("duplicate_exact", dup, None, ibis.literal("identical to ").concat(_where(first_file, first_row)))
    else:
        b.flag("duplicate_exact", dup)


def _duplicate_key(b: _Batch) -> None:
    keys = [k for k in b.spec.key if k != "source"]
    if not keys or not b.has(*keys):
        return
    b.checked("duplicate_key", b.open)
    rank, first_row, first_file = _first_of(b, keys, "key")
    masked = set(masked_columns(b.table_name))
    shown = []
    for k in keys:
        text = b.t[k].cast("string")
        text = mask_expr(k, text) if k in masked else text
        shown.append(ibis.literal(f"{k}=").concat(text.fill_null("null")))
    detail = shown[0]
    for part in shown[1:]:
        detail = detail.concat(", ", part)
    reason = ibis.literal("same key as ").concat(_where(first_file, first_row), " (", detail, ")")
    b.reject("duplicate_key", b.t[f"{_HELPER}open_key"] & (rank > 0), ",".join(keys), reason)


def _bots(b: _Batch, settings: QualitySettings, options: QualityOptions) -> None:
    if b.table_name != "events" or not b.has("timestamp"):
        return
    b.checked("bot", b.open)
    b.mutate(**{f"{_HELPER}open_bot": b.open})
    b.t = flag_bots(b.t, settings=settings, burst_events=options.burst_events, eligible=f"{_HELPER}open_bot",
                    into=f"{_HELPER}bot")
    b.flag("bot", b.t[f"{_HELPER}bot"])


# -- putting it together ----------------------------------------------------------------------------

def _reference_time(warehouse, staged: ir.Table, options: QualityOptions) -> datetime | None:
    if options.reference_time is not None:
        return options.reference_time.astimezone(timezone.utc)
    if "received_at" in staged.columns:
        run = warehouse.execute if warehouse is not None else (lambda e: e.execute())
        value = run(staged.received_at.max())
        if value is not None and not pd.isna(value):
            ts = pd.Timestamp(value)
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            return ts.to_pydatetime()
    return None


def _flags_text(b: _Batch) -> ir.StringValue:
    parts = [ibis.ifelse(b.t[_flag_col(f)], f + ",", "") for f in FLAGS if _flag_col(f) in b.t.columns]
    if not parts:
        return ibis.literal("")
    text = parts[0]
    for part in parts[1:]:
        text = text.concat(part)
    return text.re_replace(",$", "")


def apply_rules(warehouse, table_name: str, staged: ir.Table, *, settings: QualitySettings = QualitySettings(),
                options: QualityOptions = QualityOptions()) -> QualityOutcome:
    """Normalise, flag and quarantine the rows of a staged batch for canonical table ``table_name``.

    ``warehouse`` (may be None in tests) materialises the annotated batch once, so that the kept
    rows, the quarantined rows and the counts are computed from one evaluation.
    """
    if table_name not in TABLES:
        raise SchemaError(f"no canonical table {table_name!r}; known: {', '.join(TABLES)}")
    missing = [c for c in ("_row", "_file") if c not in staged.columns]
    if missing:
        raise SchemaError(f"the staged batch for {table_name} lacks {missing}: ingest adds _row and _file")
    reference = _reference_time(warehouse, staged, options)
    if reference is None:
        log.warning("no reference time for %s: timestamps in the future are not checked", table_name)

    b = _Batch(table_name, staged)
    keep = [c for c in (*masked_columns(table_name), "is_return", "latitude", "longitude") if b.has(c)]
    b.mutate(**{f"{_HELPER}orig_{c}": b.t[c] for c in keep})
    _identifiers(b, settings)
    _returns(b)
    _required(b)
    _timestamps(b, reference)
    _prices(b, options)
    _quantities(b)
    _coordinates(b)
    _duplicate_exact(b, options)
    _duplicate_key(b)
    _bots(b, settings, options)
    b.mutate(quality_flags=_flags_text(b))

    annotated = b.t
    if warehouse is not None:
        annotated = warehouse.stage(annotated)
    rule_col = annotated[f"{_HELPER}rule"]
    out_cols = [c for c in b.columns if c != "quality_flags"] + ["quality_flags"]
    rows = annotated.filter(rule_col.isnull()).select(*out_cols)

    rejected = annotated.filter(rule_col.notnull())
    originals = {c: rejected[f"{_HELPER}orig_{c}"] for c in keep}
    as_staged = rejected.mutate(**originals)
    shown = [c for c in staged.columns if c not in ("_row", "_file")]
    quarantined = as_staged.select(
        "_row", "_file", rule=as_staged[f"{_HELPER}rule"],
        field=as_staged[f"{_HELPER}field"], reason=as_staged[f"{_HELPER}reason"],
        raw=raw_json_expr(as_staged, shown, masked_columns(table_name)),
    )
    counts = _count(warehouse, annotated, b.applied)
    return QualityOutcome(rows=rows, quarantined=quarantined, counts=counts)


def _count(warehouse, annotated: ir.Table, applied: list[str]) -> tuple[RuleCount, ...]:
    kept = annotated[f"{_HELPER}rule"].isnull()
    metrics = {"__rows": annotated.count()}
    for name in applied:
        rule = _BY_NAME[name]
        metrics[f"c_{name}"] = annotated[_checked_col(name)].cast("int64").sum()
        if rule.flag and _flag_col(rule.flag) in annotated.columns:
            metrics[f"f_{name}"] = (kept & annotated[_flag_col(rule.flag)]).cast("int64").sum()
        if rule.quarantines:
            metrics[f"q_{name}"] = (annotated[f"{_HELPER}rule"] == name).fill_null(False).cast("int64").sum()
    expr = annotated.aggregate(**metrics)
    got = (warehouse.execute(expr) if warehouse is not None else expr.execute()).iloc[0]

    def n(key: str) -> int:
        v = got.get(key)
        return 0 if v is None or pd.isna(v) else int(v)

    return tuple(
        RuleCount(rule=name, description=_BY_NAME[name].description, checked=n(f"c_{name}"),
                  flagged=n(f"f_{name}"), quarantined=n(f"q_{name}"))
        for name in (r.name for r in RULES) if name in applied
    )
