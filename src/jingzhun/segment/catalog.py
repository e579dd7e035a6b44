"""The catalogue: which names an audience may use, and the check that binds an expression to it.

Profile fields carry a type (string, number, boolean, date, timestamp); tags, scores, events,
categories, products, brands and stores are sets of names. A set left as ``None`` is not checked (any
name is accepted and simply matches nobody when absent). :meth:`Catalog.check` resolves bare score names
(``p_alive < 0.3``) and raises :class:`UnknownNameError` with close matches, or
:class:`AudienceTypeError` when a value does not fit what it is compared with.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import ibis.expr.datatypes as dtypes

from jingzhun.segment.errors import AudienceTypeError, UnknownNameError
from jingzhun.segment.language.nodes import (
    And, Between, Bought, Compare, Contains, Did, Field, InList, IsNull, Literal, Node, Not, Or, Prop, ScoreRef,
    StartsWith, Tag, Within,
)

__all__ = ["Catalog", "field_kind", "FIELD_KINDS"]

log = logging.getLogger(__name__)

FIELD_KINDS = ("string", "number", "boolean", "date", "timestamp")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?")


def field_kind(dtype: dtypes.DataType) -> str | None:
    """The audience type of an Ibis column type (None: not usable in an audience, e.g. arrays)."""
    if dtype.is_string():
        return "string"
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if dtype.is_timestamp():
        return "timestamp"
    if dtype.is_date():
        return "date"
    return None


def _names(values: Iterable | None) -> frozenset[str] | None:
    if values is None:
        return None
    return frozenset(str(v) for v in values if v is not None and v == v)


def suggest(word: str, known: Iterable[str], n: int = 3) -> tuple[str, ...]:
    """Names close to ``word``: a case-insensitive equal first, then difflib's close matches."""
    known = sorted(known)
    same = [k for k in known if k.lower() == word.lower() and k != word]
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=0.6)
    out = same + [by_lower[c] for c in close if by_lower[c] not in same]
    return tuple(out[:n])


@dataclass(frozen=True)
class Catalog:
    """What names exist. Build it with :meth:`from_context` / :meth:`from_warehouse`, or directly."""

    fields: Mapping[str, str] = field(default_factory=dict)
    tags: frozenset[str] | None = None
    scores: frozenset[str] | None = None
    events: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    products: frozenset[str] | None = None
    brands: frozenset[str] | None = None
    stores: frozenset[str] | None = None
    properties: frozenset[str] | None = None

    def __post_init__(self) -> None:
        fields = dict(self.fields)
        for name, kind in fields.items():
            if kind not in FIELD_KINDS:
                raise ValueError(f"field {name!r} has type {kind!r}; types are {', '.join(FIELD_KINDS)}")
        object.__setattr__(self, "fields", fields)
        for f in dataclasses.fields(self):
            if f.name != "fields":
                object.__setattr__(self, f.name, _names(getattr(self, f.name)))

    # -- building --------------------------------------------------------------------------------------
    @classmethod
    def from_schema(cls, schema, **names) -> "Catalog":
        """Fields from an Ibis schema (the base table's), other names as given (unchecked when absent)."""
        fields = {name: kind for name, dtype in schema.items()
                  if name != "profile_id" and (kind := field_kind(dtype)) is not None}
        return cls(fields=fields, **names)

    @classmethod
    def from_context(cls, context) -> "Catalog":
        """Fields from ``context.base``; names from distinct values of the context's tables (one query each)."""
        def distinct(table, column):
            if table is None or column not in table.columns:
                return None
            return table.select(column).distinct().to_pyarrow()[column].to_pylist()

        purchases = context.purchases
        return cls.from_schema(
            context.base.schema(),
            tags=distinct(context.tags, "tag"),
            scores=distinct(context.scores, "score"),
            events=distinct(context.events, "event"),
            categories=distinct(purchases, "category"),
            products=distinct(purchases, "product_id"),
            brands=distinct(purchases, "brand"),
            stores=distinct(context.stores, "store_id"),
        )

    @classmethod
    def from_warehouse(cls, warehouse) -> "Catalog":
        """The catalogue of a warehouse's canonical tables (categories, products and brands from the
        product catalogue rather than from purchases, so a new product can be targeted at once)."""
        from jingzhun.segment.context import context_from_warehouse

        ctx = context_from_warehouse(warehouse, as_of=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
        products = warehouse.table("products")

        def distinct(table, column):
            return table.select(column).distinct().to_pyarrow()[column].to_pylist()

        return cls.from_schema(
            ctx.base.schema(),
            tags=distinct(ctx.tags, "tag"),
            scores=distinct(ctx.scores, "score"),
            events=distinct(warehouse.table("events"), "event"),
            categories=distinct(products, "category"),
            products=distinct(products, "product_id"),
            brands=distinct(products, "brand"),
            stores=distinct(ctx.stores, "store_id"),
        )

    # -- checking --------------------------------------------------------------------------------------
    def check(self, node: Node, text: str | None = None) -> Node:
        """``node`` with names resolved (bare score names become ``score('...')``); errors located in ``text``."""
        try:
            return self._visit(node)
        except (UnknownNameError, AudienceTypeError) as exc:
            if text is not None and exc.text is None:
                raise exc.with_text(text) from None
            raise

    def _visit(self, node: Node) -> Node:
        if isinstance(node, (And, Or)):
            return type(node)(tuple(self._visit(i) for i in node.items), pos=node.pos)
        if isinstance(node, Not):
            return Not(self._visit(node.item), pos=node.pos)
        if isinstance(node, (Compare, Between, InList, Contains, StartsWith, IsNull)):
            return self._condition(node)
        if isinstance(node, Tag):
            self._known(node.name, self.tags, "tag", node.pos)
            return node
        if isinstance(node, Did):
            self._known(node.event, self.events, "event", node.pos)
            where = tuple(self._condition(c) for c in node.where)
            return dataclasses.replace(node, where=where)
        if isinstance(node, Bought):
            for item in (node.item, node.but_not):
                if item is not None:
                    known = {"category": self.categories, "product": self.products, "brand": self.brands}[item.kind]
                    self._known(item.value, known, item.kind, item.pos)
            return node
        if isinstance(node, Within):
            missing = [c for c in ("latitude", "longitude") if self.fields.get(c) != "number"]
            if missing:
                raise UnknownNameError("'within' needs the home coordinates of each profile, and the profile table "
                                       f"has no numeric {' or '.join(missing)}", position=node.pos)
            if node.store is not None:
                self._known(node.store, self.stores, "store", node.pos)
            return node
        raise TypeError(f"not an audience node: {node!r}")

    def _known(self, name: str, known: frozenset[str] | None, what: str, pos: int | None) -> None:
        if known is not None and name not in known:
            hint = "" if known else f" (no {what} is known yet)"
            raise UnknownNameError(f"unknown {what} {name!r}{hint}", position=pos, suggestions=suggest(name, known))

    def _operand(self, left) -> tuple[object, str | None]:
        """The resolved operand and its type (None for event properties: typed by their value)."""
        if isinstance(left, Field):
            if left.name in self.fields:
                return left, self.fields[left.name]
            if self.scores is not None and left.name in self.scores:
                return ScoreRef(left.name, pos=left.pos), "number"
            known = set(self.fields) | set(self.scores or ())
            raise UnknownNameError(f"unknown field {left.name!r}", position=left.pos, suggestions=suggest(left.name, known))
        if isinstance(left, ScoreRef):
            self._known(left.name, self.scores, "score", left.pos)
            return left, "number"
        if isinstance(left, Prop):
            self._known(left.name, self.properties, "event property", left.pos)
            return left, None
        raise TypeError(f"not an operand: {left!r}")

    def _condition(self, node: Node) -> Node:
        left, kind = self._operand(node.left)
        name = node.left.to_text()
        if isinstance(node, IsNull):
            pass
        elif isinstance(node, Compare):
            if node.right.kind == "null":
                word = "is null" if node.op == "=" else "is not null"
                raise AudienceTypeError(f"compare with null using 'is null' or 'is not null', not {node.op!r}",
                                        position=node.right.pos, suggestions=(f"{name} {word}",))
            self._value(name, kind, node.right)
            if node.op not in ("=", "!=") and (kind == "boolean" or node.right.kind == "boolean"):
                raise AudienceTypeError(f"{name} is true or false: compare it with = or !=", position=node.pos)
        elif isinstance(node, Between):
            for v in (node.low, node.high):
                self._value(name, kind, v)
            if kind == "boolean" or node.low.kind != node.high.kind or node.low.kind == "boolean":
                raise AudienceTypeError(f"between needs two numbers, dates or texts for {name}", position=node.pos)
        elif isinstance(node, InList):
            kinds = {v.kind for v in node.values}
            if len(kinds) > 1:
                raise AudienceTypeError(f"the values in the list for {name} mix types ({', '.join(sorted(kinds))})",
                                        position=node.values[0].pos)
            for v in node.values:
                self._value(name, kind, v)
        else:  # Contains, StartsWith
            if kind not in ("string", None) or node.value.kind != "string":
                word = "contains" if isinstance(node, Contains) else "starts with"
                raise AudienceTypeError(f"'{word}' works on text and a 'text' value; {name} is {kind or 'a property'}",
                                        position=node.pos)
        return dataclasses.replace(node, left=left)

    @staticmethod
    def _value(name: str, kind: str | None, value: Literal) -> None:
        if value.kind == "null":
            raise AudienceTypeError(f"null is not a value to compare {name} with; use 'is null'",
                                    position=value.pos, suggestions=(f"{name} is null",))
        ok = {
            None: True,
            "string": value.kind == "string",
            "number": value.kind == "number",
            "boolean": value.kind == "boolean",
            "date": value.kind == "string" and _is_date(value.value),
            "timestamp": value.kind == "string" and (_is_date(value.value) or _is_timestamp(value.value)),
        }[kind]
        if not ok:
            expected = {"string": "text in quotes, e.g. 'F'", "number": "a number, e.g. 30",
                        "boolean": "true or false", "date": "a date 'YYYY-MM-DD'",
                        "timestamp": "a date 'YYYY-MM-DD' or a time 'YYYY-MM-DD HH:MM:SS'"}[kind]
            sugg = (f"'{value.value}'",) if kind == "string" and value.kind == "number" else ()
            raise AudienceTypeError(f"{name} is {kind}: compare it with {expected}, not {value.to_text()}",
                                    position=value.pos, suggestions=sugg)


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_timestamp(text: str) -> bool:
    if not _TIMESTAMP.fullmatch(text):
        return False
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True
