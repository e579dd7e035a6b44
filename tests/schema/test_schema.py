from pathlib import Path

from jingzhun.schema import IDENTIFIER_KINDS, SCHEMA_VERSION, TABLES, table
from jingzhun.schema.docs import render_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"


def test_docs_page_matches_the_schema():
    assert DOCS.read_text(encoding="utf-8") == render_markdown(), (
        "docs/data-model.md is out of date: run `python -m jingzhun.schema.docs > docs/data-model.md`"
    )


def test_every_table_has_documented_columns_and_a_known_kind():
    for t in TABLES.values():
        assert t.kind in {"source", "system", "derived"}
        assert t.doc
        for c in t.columns:
            assert c.doc, f"{t.name}.{c.name} has no description"
            c.ibis_type  # parses
        assert set(t.key) <= set(t.column_names), t.name


def test_identifier_columns_are_marked_personal():
    for t in TABLES.values():
        for c in t.columns:
            if c.name in IDENTIFIER_KINDS:
                assert c.pii, f"{t.name}.{c.name} must be marked pii"


def test_source_tables_carry_load_bookkeeping():
    for name in ("events", "customers", "orders", "order_lines", "products", "stores", "consents"):
        cols = table(name).column_names
        assert {"source", "load_id", "quality_flags"} <= set(cols)
    assert SCHEMA_VERSION >= 1
