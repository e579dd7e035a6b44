"""The source mapping: a YAML file that says how a source's files become canonical tables.

The models here are the YAML format of docs/architecture.md, frozen and typed. Unknown keys are
errors (a typo must never lose a field silently), every model round-trips to YAML and JSON, and
:attr:`SourceSpec.fingerprint` hashes the mapping's *meaning*: key order, comments, the description
and where the files live do not change it. docs/sources.md documents every key with examples.

A column entry is a source column name or one of these transforms::

    {from: COL, type: T, format: F, map: {raw: new}, default: V}
    {value: CONST}
    {concat: [A, B], sep: "-"}
    {lookup: NAME, on: {local_col: other_col}, take: COL, agg: first|mean|sum|count, where: {...}}
    {json: {key: COLUMN-ENTRY, ...}}
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from jingzhun.errors import MappingError
from jingzhun.schema import TABLES

__all__ = [
    "SourceSpec", "FileSpec", "FromColumn", "Constant", "Concat", "Lookup", "JsonObject", "ColumnSpec",
    "ReturnsSpec", "OrdersSpec", "VALUE_TYPES", "load_source_spec", "mapping_path",
]

VALUE_TYPES = ("string", "int64", "float64", "boolean", "date", "timestamp")
FORMATS = ("csv", "parquet", "jsonl", "excel")
_FROZEN = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _YamlLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. (YAML 1.1 reads `on:`, `no`, `y` as booleans, and a
    lookup's `on:` key must stay a string.)"""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                  list("tTfF"))


def read_yaml(text: str):
    """Parse mapping YAML with YAML 1.2 booleans (see :class:`_YamlLoader`)."""
    return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass


class FromColumn(BaseModel):
    """A source column, parsed as ``type`` (default: the canonical column's type)."""

    model_config = _FROZEN
    from_: str = Field(alias="from", description="source column name")
    type: Literal[VALUE_TYPES] | None = None  # type: ignore[valid-type]
    format: str | None = Field(None, description="strptime format for dates and timestamps")
    map: dict[str, Any] | None = Field(None, description="replace raw values before parsing")
    default: Any = Field(None, description="value used where the source is empty")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"from": data} if isinstance(data, str) else data

    @model_serializer(mode="wrap")
    def _to_string(self, handler):
        data = handler(self)
        fields = {k: v for k, v in data.items() if v is not None}
        if len(fields) == 1:  # a bare column name stays a bare name in YAML
            return self.from_
        return fields


class Constant(BaseModel):
    model_config = _FROZEN
    value: str | int | float | bool | None
    type: Literal[VALUE_TYPES] | None = None  # type: ignore[valid-type]


class Concat(BaseModel):
    """Source columns joined by ``sep``; a missing part leaves the result empty (null)."""

    model_config = _FROZEN
    concat: tuple[str, ...] = Field(min_length=1)
    sep: str = ""


class Lookup(BaseModel):
    """A value from another file of the same source, matched on one or more columns."""

    model_config = _FROZEN
    lookup: str = Field(description="`name` of the other file entry")
    on: dict[str, str] = Field(min_length=1, description="local column -> column of the other file")
    take: str = Field(description="column of the other file to take")
    agg: Literal["first", "mean", "sum", "count"] = "first"
    where: dict[str, str] | None = Field(None, description="only rows of the other file with these values")
    type: Literal[VALUE_TYPES] | None = None  # type: ignore[valid-type]
    default: Any = None


class JsonObject(BaseModel):
    """A JSON object built from column entries (empty values are left out)."""

    model_config = _FROZEN
    json_: dict[str, "ColumnSpec"] = Field(alias="json", min_length=1)


def _column_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "from"
    if isinstance(value, dict):
        for key in ("from", "value", "concat", "lookup", "json"):
            if key in value:
                return key
        return None
    return {FromColumn: "from", Constant: "value", Concat: "concat", Lookup: "lookup",
            JsonObject: "json"}.get(type(value))


ColumnSpec = Annotated[
    Union[
        Annotated[FromColumn, Tag("from")],
        Annotated[Constant, Tag("value")],
        Annotated[Concat, Tag("concat")],
        Annotated[Lookup, Tag("lookup")],
        Annotated[JsonObject, Tag("json")],
    ],
    Discriminator(
        _column_kind,
        custom_error_type="column_entry",
        custom_error_message="a column entry is a source column name or a mapping with one of the keys "
                             "from, value, concat, lookup, json",
    ),
]
JsonObject.model_rebuild()


class ReturnsSpec(BaseModel):
    """How to recognise returns and cancellations."""

    model_config = _FROZEN
    order_id_prefix: str | None = Field(None, description="order ids starting with this are cancellations")
    negative_quantity: bool = Field(True, description="a line with quantity < 0 is a return")


class OrdersSpec(BaseModel):
    """Derive one `orders` row per order id from a file of order lines."""

    model_config = _FROZEN
    columns: dict[str, ColumnSpec] = Field(default_factory=dict, description="order-level columns")

    @field_validator("columns")
    @classmethod
    def _known(cls, value: dict) -> dict:
        derived = {"order_id", "amount", "n_lines", "is_return"}
        _check_columns("orders", {k: v for k, v in value.items() if k not in derived})
        clash = sorted(derived & set(value))
        if clash:
            raise ValueError(f"orders.columns {clash} are computed from the lines; remove them")
        return value


class FileSpec(BaseModel):
    """One file of a source and the canonical table it loads (or `table: null` for a lookup)."""

    model_config = _FROZEN
    path: str
    name: str | None = Field(None, description="name other files use to look values up in this one")
    format: Literal[FORMATS] | None = None  # type: ignore[valid-type]
    encoding: str = "auto"
    delimiter: str = "auto"
    header: bool = True
    sheet: str | None = Field(None, description="Excel sheet (default: the first)")
    table: str | None
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    required: tuple[str, ...] = ()
    line_no: Literal["auto"] | None = None
    returns: ReturnsSpec | None = None
    orders: OrdersSpec | None = None
    duplicates: Literal["flag", "quarantine"] = "flag"
    one_row_per_key: bool = Field(False, description="collapse rows with one natural key to one row")

    @model_validator(mode="after")
    def _consistent(self) -> "FileSpec":
        if self.table is None:
            if not self.name:
                raise ValueError(f"{self.path}: a lookup-only file (table: null) needs a `name`")
            if self.columns or self.orders or self.line_no or self.returns:
                raise ValueError(f"{self.path}: a lookup-only file (table: null) cannot have columns, orders, "
                                 "line_no or returns")
            return self
        if self.table not in TABLES or TABLES[self.table].kind != "source":
            known = ", ".join(n for n, t in TABLES.items() if t.kind == "source")
            raise ValueError(f"table {self.table!r} is not a canonical source table; use one of {known}")
        _check_columns(self.table, self.columns)
        if self.orders is not None and self.table != "order_lines":
            raise ValueError("`orders:` derives orders from order lines; it needs `table: order_lines`")
        if self.line_no and self.table != "order_lines":
            raise ValueError("`line_no: auto` applies to `table: order_lines` only")
        return self

    @property
    def targets(self) -> tuple[str, ...]:
        """Canonical tables this entry writes."""
        if self.table is None:
            return ()
        return (self.table, "orders") if self.orders is not None else (self.table,)

    @property
    def lookups(self) -> tuple[tuple[str, "Lookup"], ...]:
        """(column, lookup) for every lookup in this entry, nested ones included."""
        return tuple(_all_lookups(self))

    @property
    def meaning(self) -> dict:
        """What the entry means, without where the file lives."""
        return {k: v for k, v in self.model_dump(mode="json", by_alias=True).items() if k != "path"}


def _check_columns(table_name: str, columns: dict) -> None:
    allowed = set(TABLES[table_name].column_names) - {"source", "load_id", "quality_flags"}
    allowed |= {"name", "address"}  # personal extras, sent to the vault by privacy
    unknown = [c for c in columns if c not in allowed and not c.startswith("_")]
    if unknown:
        raise ValueError(f"columns {unknown} are not in table {table_name!r}; it has "
                         f"{sorted(allowed)} (names starting with '_' are intermediates, not loaded)")


class SourceSpec(BaseModel):
    """A source: a name, defaults for timestamps and amounts, and its files."""

    model_config = _FROZEN
    source: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    timezone: str | None = None
    currency: str | None = None
    files: tuple[FileSpec, ...] = Field(min_length=1)
    _base_dir: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _names(self) -> "SourceSpec":
        names = [f.name for f in self.files if f.name]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"file names {dupes} are used twice; each `name` must be unique")
        for f in self.files:
            for col, entry in _all_lookups(f):
                if entry.lookup not in names:
                    raise ValueError(f"column {col!r} of {f.path} looks up {entry.lookup!r}, but no file "
                                     f"has that name; names: {names}")
        return self

    def __eq__(self, other: object) -> bool:  # where the YAML lives is not part of the mapping
        return isinstance(other, SourceSpec) and self.model_dump() == other.model_dump()

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    # -- reading and writing -----------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> "SourceSpec":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MappingError(f"cannot read the source mapping {path}: {exc}") from exc
        try:
            data = read_yaml(text)
        except yaml.YAMLError as exc:
            raise MappingError(f"{path} is not valid YAML: {exc}") from exc
        spec = cls.parse(data, origin=str(path))
        spec._base_dir = path.resolve().parent
        return spec

    @classmethod
    def parse(cls, data: Any, *, origin: str = "<mapping>", base_dir: str | os.PathLike | None = None) -> "SourceSpec":
        """Validate a mapping given as a dict; errors name the key and ``origin``."""
        if not isinstance(data, dict):
            raise MappingError(f"{origin}: a source mapping is a YAML mapping with `source:` and `files:`")
        try:
            spec = cls.model_validate(data)
        except ValidationError as exc:
            raise MappingError(_explain(exc, origin)) from None
        if base_dir is not None:
            spec._base_dir = Path(base_dir).resolve()
        return spec

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", by_alias=True, exclude_defaults=True),
                              sort_keys=False, allow_unicode=True)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True, exclude_defaults=True), ensure_ascii=False)

    # -- meaning -----------------------------------------------------------------------------------
    @property
    def settings_meaning(self) -> dict:
        return {"source": self.source, "timezone": self.timezone, "currency": self.currency}

    @property
    def fingerprint(self) -> str:
        """SHA-256 of what the mapping means (not of its text)."""
        meaning = {**self.settings_meaning, "files": [f.meaning for f in self.files]}
        return _digest(meaning)

    def file_fingerprint(self, entry: FileSpec) -> str:
        """SHA-256 of one file entry's meaning with the source-level settings it depends on."""
        return _digest({**self.settings_meaning, "file": entry.meaning})

    # -- paths -------------------------------------------------------------------------------------
    @property
    def base_dir(self) -> Path:
        return self._base_dir or Path.cwd()

    def resolve_path(self, entry: FileSpec) -> Path:
        """The file's path with ${VARS} expanded (JINGZHUN_DATASETS defaults to the shared data sets)."""
        from jingzhun.config import datasets_dir

        def expand(match: re.Match) -> str:
            name = match.group(1)
            if name in os.environ:
                return os.environ[name]
            if name == "JINGZHUN_DATASETS":
                return str(datasets_dir())
            raise MappingError(f"{entry.path}: environment variable {name} is not set; set it or write the path out")

        path = Path(os.path.expanduser(_ENV.sub(expand, entry.path)))
        return path if path.is_absolute() else self.base_dir / path

    def file_named(self, name: str) -> FileSpec:
        for f in self.files:
            if f.name == name:
                return f
        raise MappingError(f"source {self.source} has no file named {name!r}")


def mapping_path(name: str) -> Path:
    """Path of a mapping shipped with jingzhun (``online_retail``, ``olist``, ``cdnow``)."""
    path = Path(__file__).parent / "mappings" / f"{name}.yaml"
    if not path.exists():
        shipped = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise MappingError(f"no shipped mapping {name!r}; shipped: {shipped}")
    return path


def load_source_spec(source: "SourceSpec | str | os.PathLike") -> SourceSpec:
    """A SourceSpec as given, or read from a YAML path; a bare name finds a shipped mapping."""
    if isinstance(source, SourceSpec):
        return source
    path = Path(source)
    if not path.exists() and path.suffix == "" and len(path.parts) == 1:
        path = mapping_path(str(path))
    return SourceSpec.from_yaml(path)


def _all_lookups(entry: FileSpec):
    def walk(col: str, spec: Any):
        if isinstance(spec, Lookup):
            yield col, spec
        elif isinstance(spec, JsonObject):
            for sub in spec.json_.values():
                yield from walk(col, sub)

    columns = dict(entry.columns)
    if entry.orders is not None:
        columns.update(entry.orders.columns)
    for col, spec in columns.items():
        yield from walk(col, spec)


def _digest(meaning: dict) -> str:
    text = json.dumps(meaning, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _explain(exc: ValidationError, origin: str) -> str:
    lines = [f"{origin} is not a valid source mapping:"]
    errors = exc.errors()
    if any(e["type"] != "too_short" for e in errors):  # a failed item also makes its list look short
        errors = [e for e in errors if e["type"] != "too_short"]
    tags = {"from", "value", "concat", "lookup", "json"}
    for err in errors:
        parts = [str(p) for p in err["loc"]]
        where = [p for i, p in enumerate(parts[:-1]) if p not in tags or i == 0 or parts[i - 1] in tags]
        where = ".".join(where) or "top level"
        if err["type"] == "extra_forbidden":
            lines.append(f"  unknown key {parts[-1]!r} at {where}: check its spelling (docs/sources.md lists every key)")
        elif err["type"] == "missing":
            lines.append(f"  missing key {parts[-1]!r} at {where}")
        else:
            loc = ".".join(p for p in parts if p not in tags) or "top level"
            lines.append(f"  {loc}: {err['msg']}")
    return "\n".join(lines)
