"""What a quarantined row looks like: the row as JSON text, with personal values masked.

``raw`` is a JSON object built with Ibis string functions, so it is the same text on DuckDB and
Spark: keys in the staged table's column order, every value a JSON *string* (numbers and timestamps
included, so that no engine's number formatting has to be JSON), null as ``null``. Timestamps are
written ``YYYY-MM-DD HH:MM:SS`` (UTC), dates ``YYYY-MM-DD``, booleans ``true``/``false``. Control
characters become spaces; backslashes and quotes are escaped. Floats are the engine's text of the
number, which agree for ordinary values (``12.5``) and may differ in exponent notation for huge ones.

Masking keeps enough to recognise a value without revealing it:

* e-mail ``li.wei@qq.com`` → ``l***@qq.com``
* phone ``+8613800138000`` → ``+86138****8000`` (the first 6 and last 4 characters)
* name ``王小明`` → ``王**``; address → its first 3 characters and ``***``
* other personal identifiers (user, device, CRM ids, ...) → first 2 and last 2 characters
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from jingzhun.schema import TABLES

__all__ = ["mask_expr", "masked_columns", "raw_json_expr", "value_text"]

_MASK = "***"


def _mask_email(v: ir.StringValue) -> ir.StringValue:
    first = v.substr(0, 1)
    domain = v.re_extract(r"@([^@]*)$", 1)
    return ibis.ifelse(v.re_search("@"), first.concat(_MASK, "@", domain), first.concat(_MASK))


def _mask_phone(v: ir.StringValue) -> ir.StringValue:
    n = v.length()
    return ibis.cases(
        (n >= 10, v.substr(0, 6).concat("****", v.right(4))),
        (n >= 4, ibis.literal("****").concat(v.right(2))),
        else_=ibis.literal("****"),
    )


def _mask_name(v: ir.StringValue) -> ir.StringValue:
    return v.substr(0, 1).concat("**")


def _mask_address(v: ir.StringValue) -> ir.StringValue:
    return v.substr(0, 3).concat(_MASK)


def _mask_id(v: ir.StringValue) -> ir.StringValue:
    return ibis.ifelse(v.length() > 6, v.substr(0, 2).concat(_MASK, v.right(2)), ibis.literal(_MASK))


_MASKS = {"email": _mask_email, "phone": _mask_phone, "name": _mask_name, "address": _mask_address}


def masked_columns(table_name: str) -> tuple[str, ...]:
    """Columns of ``table_name``'s staged rows whose values are masked: identifiers and the personal extras.

    ``name`` and ``address`` are personal when they are extras; a canonical ``name`` (a product's or a
    store's) is shown as it is.
    """
    spec = TABLES[table_name]
    extras = tuple(c for c in ("name", "address") if c not in spec.column_names)
    return tuple(c.name for c in spec.columns if c.pii) + extras


def mask_expr(column: str, value: ir.StringValue) -> ir.StringValue:
    """``value`` masked the way column ``column`` is (null stays null)."""
    mask = _MASKS.get(column, _mask_id)
    return ibis.ifelse(value.isnull(), ibis.null("string"), mask(value))


def value_text(value: ir.Value) -> ir.StringValue:
    """A value as text that is the same on every engine (see the module docstring)."""
    typ = value.type()
    if typ.is_string():
        return value
    if typ.is_timestamp():
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if typ.is_date():
        return value.strftime("%Y-%m-%d")
    if typ.is_boolean():
        return ibis.ifelse(value, "true", "false")
    if isinstance(typ, (dt.Integer, dt.Floating, dt.Decimal)):
        return value.cast("string")
    return value.cast("string")


def _json_string(text: ir.StringValue) -> ir.StringValue:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').re_replace(r"[\x00-\x1f]", " ")
    return ibis.literal('"').concat(escaped, '"')


def raw_json_expr(table: ir.Table, columns: list[str] | tuple[str, ...], masked: tuple[str, ...] = ()) -> ir.StringValue:
    """One JSON object per row of ``table`` with ``columns``; those in ``masked`` are masked first.

    Spark's ``concat`` would turn the whole text null on one null part, so every part is made
    non-null before joining.
    """
    parts: list[ir.StringValue] = []
    for i, col in enumerate(columns):
        text = value_text(table[col])
        if col in masked:
            text = mask_expr(col, text.cast("string"))
        rendered = ibis.ifelse(text.isnull(), ibis.literal("null"), _json_string(text))
        key = ("{" if i == 0 else ",") + '"' + col.replace("\\", "\\\\").replace('"', '\\"') + '":'
        parts.append(ibis.literal(key).concat(rendered))
    if not parts:
        return ibis.literal("{}")
    out = parts[0]
    for part in parts[1:]:
        out = out.concat(part)
    return out.concat("}")
