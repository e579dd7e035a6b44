"""The PII vault: the only table holding raw personal values, each beside its pseudonymous key.

A load hands its staged rows to :func:`pseudonymise`, which returns the rows with every personal
column replaced by its key, and the vault rows to add. Nothing else writes raw personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from jingzhun.privacy.pseudonym import key_expr
from jingzhun.schema import TABLES

__all__ = ["COLUMN_KINDS", "PERSONAL_EXTRAS", "Pseudonymised", "pseudonymise", "personal_columns"]

# Raw personal fields a staged table may carry besides its identifier columns. They never reach an
# analytic table: `name` becomes `name_key` (customers), `address` goes to the vault only.
PERSONAL_EXTRAS = {"name": "name_key", "address": None}

# Identifier columns whose kind is not their own name.
COLUMN_KINDS = {
    "previous_id": "anonymous_id",
    "referrer_user_id": "user_id",
    "referred_user_id": "user_id",
    "record_id": "record_id",
}


@dataclass(frozen=True)
class Pseudonymised:
    rows: ir.Table   # the staged rows with keys in place of personal values
    vault: ir.Table  # columns key, kind, value (distinct): what the vault must hold for these rows


def personal_columns(table_name: str) -> tuple[str, ...]:
    """Identifier columns of a canonical table (``pii=True``) other than derived keys like name_key."""
    spec = TABLES[table_name]
    return tuple(c.name for c in spec.columns if c.pii and c.name != "name_key")


def pseudonymise(table_name: str, staged: ir.Table, secret: str, *, kinds: dict[str, str] | None = None) -> Pseudonymised:
    """Replace personal values in ``staged`` by keys; collect the vault rows.

    ``kinds`` maps a column to the identifier kind its key is computed with; by default a column's
    kind is its name, with the exceptions in :data:`COLUMN_KINDS` (an alias message's previous_id is
    keyed as an anonymous id, Segment's usual case; referral columns are user ids).
    Values must already be normalised (quality does that), so that one person's e-mail written two
    ways gives one key.
    """
    kinds = {**COLUMN_KINDS, **(kinds or {})}
    cols = [c for c in personal_columns(table_name) if c in staged.columns]
    # a canonical `name` column (a product's or a store's name) is not a person's name
    extras = [c for c in PERSONAL_EXTRAS if c in staged.columns and c not in TABLES[table_name].column_names]
    replace: dict[str, ir.Value] = {}
    vault_parts: list[ir.Table] = []
    for col in cols:
        kind = kinds.get(col, col)
        value = staged[col].cast("string")
        replace[col] = key_expr(kind, value, secret)
        if kind != "record_id":  # a record id is the source's row id, not a personal identifier
            vault_parts.append(
                staged.select(key=key_expr(kind, value, secret), kind=ibis.literal(kind), value=value)
            )
    for col in extras:
        value = staged[col].cast("string")
        vault_parts.append(staged.select(key=key_expr(col, value, secret), kind=ibis.literal(col), value=value))
        target = PERSONAL_EXTRAS[col]
        if target and target in TABLES[table_name].column_names:
            replace[target] = key_expr(col, value, secret)
    rows = staged.mutate(**replace) if replace else staged
    if extras:
        rows = rows.drop(*extras)
    if vault_parts:
        vault = ibis.union(*vault_parts, distinct=False).filter(lambda t: t.key.notnull()).distinct()
    else:
        vault = ibis.memtable({"key": [], "kind": [], "value": []}, schema={"key": "string", "kind": "string", "value": "string"})
    return Pseudonymised(rows=rows, vault=vault)
