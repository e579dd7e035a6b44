"""Schema versions and the steps that take a warehouse from one to the next.

Migrations are data here (which table to create, which column to add); :mod:`jingzhun.warehouse`
applies them in place, in one transaction per version, and records each in ``schema_version``. A new
version appends one entry to :data:`MIGRATIONS` and changes the table definitions in
:mod:`jingzhun.schema.tables` to match the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from jingzhun.schema.model import Column
from jingzhun.schema.tables import TABLES

__all__ = ["SCHEMA_VERSION", "Migration", "CreateTable", "AddColumn", "MIGRATIONS", "VERSION_TABLE"]

VERSION_TABLE = "schema_version"


@dataclass(frozen=True)
class CreateTable:
    table: str


@dataclass(frozen=True)
class AddColumn:
    """Add a nullable column to an existing table; existing rows get ``default`` (or null)."""

    table: str
    column: Column
    default: object = None


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    steps: tuple


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "the canonical data model: source, system and derived tables",
        tuple(CreateTable(name) for name, t in TABLES.items() if t.since == 1),
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1].version
