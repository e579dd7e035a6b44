"""Types for describing the canonical data model: a table is a list of typed, documented columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.datatypes as dt

__all__ = ["Column", "Table"]


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # an Ibis type string: "string", "int64", "float64", "boolean", "date", "timestamp('UTC')"
    doc: str
    nullable: bool = True
    pii: bool = False  # holds a pseudonymous key of a personal identifier (never the raw value)

    @property
    def ibis_type(self) -> dt.DataType:
        return dt.dtype(self.dtype).copy(nullable=self.nullable)


@dataclass(frozen=True)
class Table:
    name: str
    kind: str  # "source" (loaded from data), "derived" (computed by a build step) or "system" (bookkeeping)
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # the natural key: loads never insert a second row with the same key
    since: int = 1  # the schema version that introduced the table
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def ibis_schema(self) -> ibis.Schema:
        return ibis.schema({c.name: c.ibis_type for c in self.columns})
