"""The canonical data model: tables, columns, types, the schema version and its migrations."""

from jingzhun.schema.migrations import (
    MIGRATIONS,
    SCHEMA_VERSION,
    VERSION_TABLE,
    AddColumn,
    CreateTable,
    Migration,
)
from jingzhun.schema.model import Column, Table
from jingzhun.schema.tables import (
    CUSTOMER_IDENTIFIERS,
    IDENTIFIER_KINDS,
    SOURCE_TABLES,
    TABLES,
    table,
)

__all__ = [
    "Column", "Table", "TABLES", "SOURCE_TABLES", "IDENTIFIER_KINDS", "CUSTOMER_IDENTIFIERS", "table",
    "SCHEMA_VERSION", "MIGRATIONS", "VERSION_TABLE", "Migration", "CreateTable", "AddColumn",
]
