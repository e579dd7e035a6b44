"""Render the canonical data model as the user-facing page docs/data-model.md.

    python -m jingzhun.schema.docs > docs/data-model.md

A test keeps the page equal to this output, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from jingzhun.schema.migrations import MIGRATIONS, SCHEMA_VERSION
from jingzhun.schema.tables import IDENTIFIER_KINDS, TABLES

__all__ = ["render_markdown"]

_KINDS = {
    "source": "Source tables (loaded from your data)",
    "system": "System tables (bookkeeping)",
    "derived": "Derived tables (computed by `jingzhun build` and later steps)",
}


def render_markdown() -> str:
    out = [
        "# The canonical data model",
        "",
        f"Schema version {SCHEMA_VERSION}. Every warehouse, DuckDB or Spark, has these tables; "
        "`jingzhun init` creates them and upgrades an older warehouse in place "
        "(each version's steps are in `src/jingzhun/schema/migrations.py`).",
        "",
        "Timestamps are UTC. Columns marked *key* hold a pseudonymous key (a keyed hash of the normalised "
        "value, see `docs/privacy.md`), never the raw e-mail, phone or id; the raw values live only in "
        "`pii_vault`. The natural key of a table is what makes loads idempotent: a load never adds a "
        "second row with the same natural key.",
        "",
        "Identifier kinds: " + ", ".join(f"`{k}`" for k in IDENTIFIER_KINDS) + ".",
        "",
        "Schema history:",
        "",
    ]
    out += [f"- version {m.version}: {m.description}" for m in MIGRATIONS]
    for kind, title in _KINDS.items():
        out += ["", f"## {title}"]
        for t in (t for t in TABLES.values() if t.kind == kind):
            out += ["", f"### `{t.name}`", "", t.doc, ""]
            if t.key:
                out += ["Natural key: " + ", ".join(f"`{k}`" for k in t.key) + ".", ""]
            out += ["| column | type | null | meaning |", "|---|---|---|---|"]
            for c in t.columns:
                typ = c.dtype.replace("timestamp('UTC')", "timestamp (UTC)")
                note = " *key*" if c.pii else ""
                out.append(f"| `{c.name}` | {typ} | {'yes' if c.nullable else 'no'} | {c.doc}{note} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown(), end="")
