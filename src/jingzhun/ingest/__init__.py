"""Ingest: reading files and mapping their columns onto the canonical model (no writes).

A source is described by a YAML mapping (:class:`SourceSpec`, documented key by key in
docs/sources.md); :func:`read_file` turns a file into strings with row numbers, :func:`map_file`
turns those strings into the staged rows of canonical tables. :func:`jingzhun.pipeline.load_source`
runs a whole load. Shipped mappings for the real data sets live in ``ingest/mappings/``.
"""

from jingzhun.ingest.mapping import MappedTable, map_file, staged_schema
from jingzhun.ingest.readers import BadRow, RawTable, detect_format, file_digest, read_file
from jingzhun.ingest.source import (
    Concat,
    Constant,
    FileSpec,
    FromColumn,
    JsonObject,
    Lookup,
    OrdersSpec,
    ReturnsSpec,
    SourceSpec,
    load_source_spec,
    mapping_path,
)

__all__ = [
    "SourceSpec", "FileSpec", "FromColumn", "Constant", "Concat", "Lookup", "JsonObject", "OrdersSpec",
    "ReturnsSpec", "load_source_spec", "mapping_path", "read_file", "file_digest", "detect_format", "RawTable",
    "BadRow", "map_file", "MappedTable", "staged_schema",
]
