"""Reasons: a sentence per profile saying why it carries a tag, rendered in Ibis from a template.

A template is text with fields in braces, as in Python: ``spent ¥{monetary_total:.0f} over {frequency}
orders``. A field is a profile field (any field an audience may use, except timestamps), or ``value``
(the band or level of a banded or score tag) or ``score`` (the score of a score tag). Numbers take an
optional format: ``.2f`` (fixed decimals, 0 to 6) or ``.0%`` (a share as a percentage); a number
without a format prints as a whole number when its column is whole, else with two decimals. A missing
value prints as ``-``. ``{{`` and ``}}`` are literal braces.

Numbers are formatted with integer arithmetic (round, then whole part and zero-padded decimals), not by
the engine's float-to-text cast, so DuckDB and Spark write exactly the same characters.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

__all__ = ["template_fields", "check_template", "render", "MISSING"]

MISSING = "-"
_SPEC = re.compile(r"^\.([0-6])([f%])$")


def template_fields(template: str) -> list[tuple[str, str]]:
    """The ``(field, format)`` pairs of ``template``, in order; ValueError when it is not a template."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"not a reason template ({exc}); write fields as {{name}} and braces as {{{{ }}}}") from None
    out = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if conversion:
            raise ValueError(f"{{{name}!{conversion}}}: conversions are not supported; write {{{name}}}")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name or ""):
            raise ValueError(f"{{{name}}} is not a field name; write a profile field such as {{frequency}}")
        out.append((name, spec or ""))
    return out


def check_template(template: str, kinds: Mapping[str, str]) -> list[tuple[str, str]]:
    """Check every field of ``template`` against ``kinds`` (field name -> audience type).

    Raises ``KeyError(name)`` for an unknown field (the caller suggests close names) and ValueError for
    a format that does not fit the field.
    """
    fields = template_fields(template)
    for name, spec in fields:
        if name not in kinds:
            raise KeyError(name)
        kind = kinds[name]
        if kind == "timestamp":
            raise ValueError(f"{{{name}}} is a moment in time; reasons show days, e.g. recency_days or tenure_days")
        if spec and (kind != "number" or not _SPEC.match(spec)):
            allowed = "'.2f' (decimals) or '.0%' (percentage)" if kind == "number" else "no format"
            raise ValueError(f"{{{name}:{spec}}}: {name} is {kind} and takes {allowed}")
    return fields


def _fixed(x: ir.NumericValue, decimals: int) -> ir.StringValue:
    """``x`` rounded to ``decimals`` places, as text, the same on every engine."""
    scale = 10 ** decimals
    r = (x.cast("float64") * scale).round().cast("int64")
    a = r.abs()
    sign = ibis.ifelse(r < 0, "-", "")
    if decimals == 0:
        return sign + a.cast("string")
    return sign + (a // scale).cast("string") + "." + (a % scale).cast("string").lpad(decimals, "0")


def _text(column: ir.Value, spec: str) -> ir.StringValue:
    dtype = column.type()
    if dtype.is_numeric() and not dtype.is_boolean():
        m = _SPEC.match(spec)
        if m:
            decimals, how = int(m.group(1)), m.group(2)
            return _fixed(column * 100, decimals) + "%" if how == "%" else _fixed(column, decimals)
        return column.cast("string") if dtype.is_integer() else _fixed(column, 2)
    return column.cast("string")


def render(template: str, columns: Mapping[str, ir.Value]) -> ir.StringValue:
    """The template as one text column; ``columns`` maps every field of the template to its column."""
    out: ir.StringValue | None = None
    for literal, name, spec, _ in string.Formatter().parse(template):
        pieces = []
        if literal:
            pieces.append(ibis.literal(literal))
        if name is not None:
            column = columns[name]
            pieces.append(ibis.ifelse(column.isnull(), MISSING, _text(column, spec or "")))
        for piece in pieces:
            out = piece if out is None else out + piece
    return out if out is not None else ibis.literal("")
