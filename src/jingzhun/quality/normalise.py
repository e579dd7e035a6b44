"""Normalisation of identifiers and names, each twice: an Ibis expression and a pure-Python twin.

The Ibis form cleans whole columns on any engine; the Python form cleans one value (the CLI uses it to
look a person up by the e-mail or phone they give). A property test holds the twins equal, so a
person's key computed from one value in Python is the key their rows carry in the warehouse.

Every function answers a value and a *problem*: ``None`` when the value is fine (or absent),
``"invalid"`` when it has the wrong shape, ``"placeholder"`` when it is a stand-in such as
none@none.com or 00000000000. A value with a problem becomes null; the row stays.

Portability: the regular expressions use only syntax that RE2 (DuckDB), Java (Spark) and Python
agree on: character classes, anchors, alternation, ``+ * {m,n}``; no lookaround, no back-references,
no named groups, no ``\\s`` (whose members differ). Values are trimmed of every line terminator
first, because Java's and Python's ``$`` match before a final line terminator while RE2's does not.
Case is changed only on strings already known to be ASCII, where every engine agrees.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import ibis
import ibis.expr.types as ir

from jingzhun.config import QualitySettings
from jingzhun.schema import IDENTIFIER_KINDS, TABLES

__all__ = [
    "Normalised", "INVALID", "PLACEHOLDER", "KINDS", "IDENTIFIER_NORMALISERS",
    "normalise_email", "normalise_phone", "normalise_name", "normalise_id", "normalise_value",
    "normalise_column", "normalise_identifiers", "identifier_columns", "problem_column",
]

INVALID = "invalid"
PLACEHOLDER = "placeholder"


class Normalised(NamedTuple):
    """One normalised value (None when absent or rejected) and its problem (None, invalid, placeholder)."""

    value: str | None
    problem: str | None


# -- shared pieces ----------------------------------------------------------------------------------

# Full-width ASCII (U+FF01..U+FF5E) to ASCII; ideographic and no-break spaces to a space; the
# ideographic full stop to a dot; the Unicode hyphens and dashes to '-'. translate() maps character
# by character on DuckDB, Spark and Python alike.
_FROM = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000\u00a0\u3002" + "\u2010\u2011\u2012\u2013\u2014\u2015"
_TO = "".join(chr(c) for c in range(0x21, 0x7F)) + "  ." + "------"
_TRANSLATION = str.maketrans(_FROM, _TO)

# Whitespace and every line terminator any of the three regex engines knows, as regex text: control
# characters are written as escapes (a raw one would pass through SQL string literals, where Spark
# reads '\v' as 'v'); Java's \v is a class of vertical space that adds nothing this set lacks.
_WS = r" \t\r\n\f\v" + "\u0085\u2028\u2029\u00a0\u3000"
_TRIM = f"^[{_WS}]+|[{_WS}]+$"
_RUNS = f"[{_WS}]+"

# Words people type where a value is unknown (matched after trimming and lower-casing ASCII).
_NULL_WORDS = ("none", "null", "nil", "na", "n/a", "unknown", "-", "--", "无", "暂无", "空")

_EMAIL_SHAPE = (
    r"^[A-Za-z0-9_%+'-]+(\.[A-Za-z0-9_%+'-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$"
)
_EMAIL_MAX = 254
_PLACEHOLDER_LOCAL = (
    r"^(no[-_.]?e?[-_.]?mail|none|null|nil|na|unknown|test|dummy|fake|example|x+|asdf|no[-_.]?reply)[0-9]*$"
)
_PLACEHOLDER_DOMAINS = (
    "example.com", "example.org", "example.net", "example.cn", "test.com", "test.cn", "none.com",
    "noemail.com", "nomail.com", "domain.com", "xxx.com", "localhost", "invalid",
)

_PHONE_SEPARATORS = r"[-. \t\r\n\f/()]"
_PHONE_SHAPE = r"^\+?[0-9]+$"
_CN_WITH_CODE = r"^861[3-9][0-9]{9}$"
_CN_MOBILE = r"^1[3-9][0-9]{9}$"
_CN_BEIJING = r"^10[0-9]{8}$"
_CN_LANDLINE = r"^[2-9][0-9]{8,10}$"
_REPEATED = "|".join(f"{d}+" for d in "0123456789")
_REPEATED_AFTER_CODE = f"^[0-9]{{1,3}}({_REPEATED})$"
_CN_MOBILE_PLACEHOLDER = "^1[3-9][0-9](" + "|".join(d * 8 for d in "0123456789") + ")$"
_E164_MIN, _E164_MAX = 8, 15

_LATIN_NAME = r"^[A-Za-z][A-Za-z .'-]*$"


def _search(pattern: str, value: str) -> bool:
    return re.search(pattern, value) is not None


def _trim(value: str) -> str:
    return re.sub(_TRIM, "", value)


def _trim_expr(col: ir.StringValue) -> ir.StringValue:
    return col.re_replace(_TRIM, "")


def _blank_to_null(col: ir.StringValue) -> ir.StringValue:
    return ibis.ifelse(col == "", ibis.null("string"), col)


def _is_null_word(lowered_ascii: str) -> bool:
    return lowered_ascii in _NULL_WORDS


def _null_word_expr(col: ir.StringValue) -> ir.BooleanValue:
    # lower() only where the value is ASCII, so engines cannot disagree on exotic case mappings
    return ibis.ifelse(col.re_search(r"^[ -~]*$"), col.lower(), col).isin(_NULL_WORDS)


def _ascii_lower(value: str) -> str:
    return value.lower() if _search(r"^[ -~]*$", value) else value


# -- e-mail -----------------------------------------------------------------------------------------

def normalise_email(raw: str | None) -> Normalised:
    """Trim, strip trailing dots, check the shape, lower-case; placeholders such as none@none.com → None."""
    if raw is None:
        return Normalised(None, None)
    value = _trim(raw.translate(_TRANSLATION))
    if value == "":
        return Normalised(None, None)
    if _is_null_word(_ascii_lower(value)):
        return Normalised(None, PLACEHOLDER)
    value = _trim(re.sub(r"\.+$", "", value))
    if len(value) > _EMAIL_MAX or not _search(_EMAIL_SHAPE, value):
        return Normalised(None, INVALID)
    value = value.lower()
    local, _, domain = value.rpartition("@")
    if _search(_PLACEHOLDER_LOCAL, local) or domain in _PLACEHOLDER_DOMAINS or local == domain.split(".")[0]:
        return Normalised(None, PLACEHOLDER)
    return Normalised(value, None)


def _email_steps(t: ir.Table, col: str, tmp) -> tuple[ir.Table, str, str]:
    t = t.mutate(**{tmp("t"): _trim_expr(t[col].cast("string").translate(_FROM, _TO))})
    trimmed = t[tmp("t")]
    t = t.mutate(**{tmp("d"): _trim_expr(trimmed.re_replace(r"\.+$", ""))})
    dotless = t[tmp("d")]
    t = t.mutate(**{tmp("l"): dotless.lower()})
    lowered = t[tmp("l")]
    local = lowered.re_extract(r"^([^@]+)@", 1)
    domain = lowered.re_extract(r"@([^@]+)$", 1)
    label = lowered.re_extract(r"@([^.@]+)", 1)
    valid = dotless.re_search(_EMAIL_SHAPE) & (dotless.length() <= _EMAIL_MAX)
    placeholder_shape = local.re_search(_PLACEHOLDER_LOCAL) | domain.isin(_PLACEHOLDER_DOMAINS) | (local == label)
    t = t.mutate(**{tmp("p"): ibis.cases(
        (trimmed.isnull() | (trimmed == ""), ibis.null("string")),
        (_null_word_expr(trimmed), ibis.literal(PLACEHOLDER)),
        (~valid, ibis.literal(INVALID)),
        (placeholder_shape, ibis.literal(PLACEHOLDER)),
        else_=ibis.null("string"),
    )})
    problem = t[tmp("p")]
    present = trimmed.notnull() & (trimmed != "")
    return t.mutate(**{tmp("v"): ibis.ifelse(problem.isnull() & present, lowered, ibis.null("string"))}), \
        tmp("v"), tmp("p")


# -- phone ------------------------------------------------------------------------------------------

def normalise_phone(raw: str | None, default_country_code: str = "86") -> Normalised:
    """E.164 (``+8613800138000``) from the common ways people write a number; garbage and placeholders → None.

    Separators (spaces, dashes, dots, slashes, parentheses) go; ``+CC`` or ``00CC`` give the country
    code; ``86`` followed by a Chinese mobile is read as the code; otherwise a leading trunk ``0`` is
    dropped and ``default_country_code`` prefixed. Chinese numbers are checked against the mobile,
    Beijing and other landline lengths; other countries only against E.164's 8 to 15 digits.
    """
    if raw is None:
        return Normalised(None, None)
    text = _trim(raw.translate(_TRANSLATION))
    if _is_null_word(_ascii_lower(text)):
        return Normalised(None, PLACEHOLDER)
    compact = re.sub(_PHONE_SEPARATORS, "", text)
    if compact == "":
        return Normalised(None, None)
    if not _search(_PHONE_SHAPE, compact):
        return Normalised(None, INVALID)
    digits = compact.lstrip("+") if compact.startswith("+") else compact
    if compact.startswith("+"):
        e164 = digits
    elif digits.startswith("00"):
        e164 = digits[2:]
    elif _search(_CN_WITH_CODE, digits):
        e164 = digits
    elif digits.startswith("0"):
        e164 = default_country_code + digits[1:]
    else:
        e164 = default_country_code + digits
    if e164.startswith("860"):  # +86 0xx ...: a trunk zero written after the country code
        e164 = "86" + e164[3:]
    return Normalised(*_judge_e164(e164))


def _judge_e164(e164: str) -> tuple[str | None, str | None]:
    national = e164[2:] if e164.startswith("86") else None
    if _search(_REPEATED_AFTER_CODE, e164) or (national is not None and _search(_CN_MOBILE_PLACEHOLDER, national)):
        return None, PLACEHOLDER
    if not _E164_MIN <= len(e164) <= _E164_MAX:
        return None, INVALID
    if national is not None:
        if national.startswith("10"):
            ok = _search(_CN_BEIJING, national)
        elif national.startswith("1"):
            ok = _search(_CN_MOBILE, national)
        else:
            ok = _search(_CN_LANDLINE, national)
        if not ok:
            return None, INVALID
    return "+" + e164, None


def _phone_steps(t: ir.Table, col: str, tmp, default_country_code: str) -> tuple[ir.Table, str, str]:
    t = t.mutate(**{tmp("t"): _trim_expr(t[col].cast("string").translate(_FROM, _TO))})
    text = t[tmp("t")]
    t = t.mutate(**{tmp("c"): text.re_replace(_PHONE_SEPARATORS, "")})
    compact = t[tmp("c")]
    t = t.mutate(**{tmp("d"): compact.re_replace(r"^\++", "")})
    digits = t[tmp("d")]
    cc = ibis.literal(default_country_code)
    t = t.mutate(**{tmp("e0"): ibis.cases(
        (compact.startswith("+"), digits),
        (digits.startswith("00"), digits.substr(2)),
        (digits.re_search(_CN_WITH_CODE), digits),
        (digits.startswith("0"), cc.concat(digits.substr(1))),
        else_=cc.concat(digits),
    )})
    e0 = t[tmp("e0")]
    t = t.mutate(**{tmp("e"): ibis.ifelse(e0.startswith("860"), ibis.literal("86").concat(e0.substr(3)), e0)})
    e164 = t[tmp("e")]
    t = t.mutate(**{tmp("n"): e164.substr(2)})
    national = t[tmp("n")]
    is_cn = e164.startswith("86")
    cn_ok = ibis.cases(
        (national.startswith("10"), national.re_search(_CN_BEIJING)),
        (national.startswith("1"), national.re_search(_CN_MOBILE)),
        else_=national.re_search(_CN_LANDLINE),
    )
    n = e164.length()
    t = t.mutate(**{tmp("p"): ibis.cases(
        (text.isnull(), ibis.null("string")),
        (_null_word_expr(text), ibis.literal(PLACEHOLDER)),
        (compact == "", ibis.null("string")),
        (~compact.re_search(_PHONE_SHAPE), ibis.literal(INVALID)),
        (e164.re_search(_REPEATED_AFTER_CODE) | (is_cn & national.re_search(_CN_MOBILE_PLACEHOLDER)),
         ibis.literal(PLACEHOLDER)),
        ((n < _E164_MIN) | (n > _E164_MAX), ibis.literal(INVALID)),
        (is_cn & ~cn_ok, ibis.literal(INVALID)),
        else_=ibis.null("string"),
    )})
    problem = t[tmp("p")]
    present = text.notnull() & (compact != "")
    value = ibis.ifelse(problem.isnull() & present, ibis.literal("+").concat(e164), ibis.null("string"))
    return t.mutate(**{tmp("v"): value}), tmp("v"), tmp("p")


# -- names and ids ----------------------------------------------------------------------------------

def normalise_name(raw: str | None) -> Normalised:
    """Full-width → half-width, trim, collapse inner whitespace; all-upper or all-lower Latin names title-cased.

    A Latin name already in mixed case (``McDonald``, ``van Dijk``) is kept as written; Chinese names are
    left as they are.
    """
    if raw is None:
        return Normalised(None, None)
    value = _trim(re.sub(_RUNS, " ", raw.translate(_TRANSLATION)))
    if value == "":
        return Normalised(None, None)
    if _search(_LATIN_NAME, value) and (value == value.upper() or value == value.lower()):
        value = " ".join(w[:1].upper() + w[1:].lower() for w in value.split(" "))
    return Normalised(value, None)


def _name_steps(t: ir.Table, col: str, tmp) -> tuple[ir.Table, str, None]:
    t = t.mutate(**{tmp("t"): _trim_expr(t[col].cast("string").translate(_FROM, _TO).re_replace(_RUNS, " "))})
    value = t[tmp("t")]
    latin = value.re_search(_LATIN_NAME) & ((value == value.upper()) | (value == value.lower()))
    titled = value.split(" ").map(lambda w: w.capitalize()).join(" ")
    return t.mutate(**{tmp("v"): _blank_to_null(ibis.ifelse(latin, titled, value))}), tmp("v"), None


def normalise_id(raw: str | None) -> Normalised:
    """An account, device or record id: trimmed; empty → None. Case and width are the source's."""
    if raw is None:
        return Normalised(None, None)
    value = _trim(raw)
    return Normalised(value or None, None)


def _id_steps(t: ir.Table, col: str, tmp) -> tuple[ir.Table, str, None]:
    return t.mutate(**{tmp("v"): _blank_to_null(_trim_expr(t[col].cast("string")))}), tmp("v"), None


KINDS = ("email", "phone", "name", "id")


def normalise_value(kind: str, raw: str | None, *, default_country_code: str = "86") -> Normalised:
    """The Python twin of :func:`normalise_column`: one value of identifier kind ``kind``."""
    if kind == "email":
        return normalise_email(raw)
    if kind == "phone":
        return normalise_phone(raw, default_country_code)
    if kind == "name":
        return normalise_name(raw)
    if kind == "id" or kind in IDENTIFIER_KINDS or kind == "record_id":
        return normalise_id(raw)  # account numbers, cookies, devices, openids, cards: trimmed ids
    raise ValueError(f"unknown identifier kind {kind!r}; known: {', '.join(KINDS)} and {', '.join(IDENTIFIER_KINDS)}")


def normalise_column(table: ir.Table, column: str, kind: str, *, default_country_code: str = "86",
                     problem: str | None = None) -> ir.Table:
    """The Ibis twin of ``normalise_<kind>``: ``table`` with ``column`` normalised in place.

    ``kind`` is email, phone, name or id. With ``problem`` set, a string column of that name is added
    holding each value's problem (null, ``"invalid"`` or ``"placeholder"``; always null for names and
    ids). The work is done in a few successive projections rather than one nested expression: the
    phone rules refer to intermediate values many times, and a single expression would repeat them
    into SQL of megabytes.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown identifier kind {kind!r}; known: {', '.join(KINDS)}")
    prefix = f"__norm_{column}_"
    before = list(table.columns)

    def tmp(step: str) -> str:
        return prefix + step

    if kind == "email":
        t, value, prob = _email_steps(table, column, tmp)
    elif kind == "phone":
        t, value, prob = _phone_steps(table, column, tmp, default_country_code)
    elif kind == "name":
        t, value, prob = _name_steps(table, column, tmp)
    else:
        t, value, prob = _id_steps(table, column, tmp)
    out = {c: (t[value] if c == column else t[c]) for c in before}
    if problem is not None:
        out[problem] = t[prob] if prob is not None else ibis.null("string")
    return t.select(**out)


# -- whole tables -----------------------------------------------------------------------------------

# Which normaliser each identifier column gets; any other pii column is a generic id.
IDENTIFIER_NORMALISERS = {"email": "email", "phone": "phone", "name": "name"}


def identifier_columns(table_name: str) -> tuple[str, ...]:
    """The columns :func:`normalise_identifiers` cleans in ``table_name``: its identifiers and ``name``.

    ``name`` is a person's name only where it is a personal extra; in products and stores it is a
    canonical column (the product's or store's name) and is left alone.
    """
    spec = TABLES[table_name]
    cols = [c.name for c in spec.columns if c.pii and c.name != "name_key"]
    return tuple(cols) + (() if "name" in spec.column_names else ("name",))


def problem_column(col: str) -> str:
    """Name of the column :func:`normalise_identifiers` adds with ``col``'s problems (with ``problems=True``)."""
    return f"_problem_{col}"


def normalise_identifiers(table_name: str, staged: ir.Table, *, settings: QualitySettings = QualitySettings(),
                          problems: bool = False) -> ir.Table:
    """``staged`` with every identifier column of canonical table ``table_name`` (and ``name``) normalised.

    Columns absent from ``staged`` are skipped. With ``problems=True`` a string column
    ``_problem_<col>`` (see :func:`problem_column`) is added beside each e-mail and phone column:
    null, ``"invalid"`` or ``"placeholder"``.
    """
    if table_name not in TABLES:
        raise KeyError(f"no canonical table {table_name!r}")
    out = staged
    for col in identifier_columns(table_name):
        if col not in staged.columns:
            continue
        kind = IDENTIFIER_NORMALISERS.get(col, "id")
        problem = problem_column(col) if problems and kind in ("email", "phone") else None
        out = normalise_column(out, col, kind, default_country_code=settings.default_country_code, problem=problem)
    return out
