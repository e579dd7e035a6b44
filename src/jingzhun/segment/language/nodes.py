"""The nodes of the audience language: frozen, hashable, one dataclass per construct.

Every node prints itself as canonical text with :meth:`Node.to_text`; parsing that text gives back an
equal node, so the text is the definition's storage form and its SHA-256 (:attr:`Node.fingerprint`)
identifies its meaning. ``pos`` (the offset in the text the node was parsed from) takes no part in
equality, hashing or the canonical text: it only places the caret in error messages.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Union

__all__ = [
    "Node", "Literal", "Field", "ScoreRef", "Prop", "Compare", "Between", "InList", "Contains", "StartsWith",
    "IsNull", "Tag", "Count", "Window", "Did", "Item", "Bought", "Within", "And", "Or", "Not",
    "Condition", "Operand", "quote", "lit", "COMPARE_OPS", "ITEM_KINDS",
]

COMPARE_OPS = ("=", "!=", "<", "<=", ">", ">=")
COUNT_OPS = ("at least", "at most", "exactly")
WINDOW_KINDS = ("last", "between", "before", "after")
WINDOW_UNITS = ("days", "hours")
ITEM_KINDS = ("category", "product", "brand")
EVENT_WHICH = ("any", "first", "last")

_POS = dict(default=None, compare=False, hash=False, repr=False)


def quote(text: str) -> str:
    """A single-quoted string literal, quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


def _number_text(value: int | float) -> str:
    return str(value) if isinstance(value, int) else repr(value)


class Node:
    """Base of every node."""

    pos: int | None

    def to_text(self) -> str:  # pragma: no cover - every node overrides it
        raise NotImplementedError

    def __str__(self) -> str:
        return self.to_text()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical text: equal meaning as written, equal fingerprint."""
        return hashlib.sha256(self.to_text().encode("utf-8")).hexdigest()

    def children(self) -> tuple["Node", ...]:
        return ()

    def walk(self):
        """This node and every node under it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()


# -- values and operands -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Literal(Node):
    """A constant: ``kind`` is string, number, boolean or null (so that ``1`` and ``true`` differ)."""

    value: str | int | float | bool | None
    kind: str
    pos: int | None = field(**_POS)

    def __post_init__(self) -> None:
        if self.kind == "number":
            v = self.value
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
                raise ValueError(f"not a finite number: {v!r}")
            if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
                object.__setattr__(self, "value", int(v))
        elif self.kind == "string" and not isinstance(self.value, str):
            raise ValueError(f"not a string: {self.value!r}")
        elif self.kind == "boolean" and not isinstance(self.value, bool):
            raise ValueError(f"not a boolean: {self.value!r}")
        elif self.kind == "null" and self.value is not None:
            raise ValueError("a null literal has no value")
        elif self.kind not in ("number", "string", "boolean", "null"):
            raise ValueError(f"unknown literal kind {self.kind!r}")

    def to_text(self) -> str:
        if self.kind == "string":
            return quote(self.value)
        if self.kind == "number":
            return _number_text(self.value)
        if self.kind == "boolean":
            return "true" if self.value else "false"
        return "null"


def lit(value, pos: int | None = None) -> Literal:
    """A :class:`Literal` of a Python value (str, int, float, bool or None)."""
    if value is None:
        return Literal(None, "null", pos)
    if isinstance(value, bool):
        return Literal(value, "boolean", pos)
    if isinstance(value, (int, float)):
        return Literal(value, "number", pos)
    if isinstance(value, str):
        return Literal(value, "string", pos)
    raise TypeError(f"no literal for {type(value).__name__}")


@dataclass(frozen=True)
class Field(Node):
    """A profile field (a column of the base table), or a bare score name the catalogue resolves."""

    name: str
    pos: int | None = field(**_POS)

    def to_text(self) -> str:
        return self.name


@dataclass(frozen=True)
class ScoreRef(Node):
    """``score('clv_12m')``: a model score of the profile."""

    name: str
    pos: int | None = field(**_POS)

    def to_text(self) -> str:
        return f"score({quote(self.name)})"


@dataclass(frozen=True)
class Prop(Node):
    """An event property (a top-level key of the event's JSON properties) inside ``did ... where``."""

    name: str
    pos: int | None = field(**_POS)

    def to_text(self) -> str:
        return self.name


Operand = Union[Field, ScoreRef, Prop]


# -- predicates on one operand --------------------------------------------------------------------------
@dataclass(frozen=True)
class Compare(Node):
    left: Operand
    op: str
    right: Literal
    pos: int | None = field(**_POS)

    def __post_init__(self) -> None:
        if self.op == "<>":
            object.__setattr__(self, "op", "!=")
        if self.op not in COMPARE_OPS:
            raise ValueError(f"unknown comparison {self.op!r}")

    def children(self):
        return (self.left, self.right)

    def to_text(self) -> str:
        return f"{self.left.to_text()} {self.op} {self.right.to_text()}"


@dataclass(frozen=True)
class Between(Node):
    """``x between low and high``, both ends included."""

    left: Operand
    low: Literal
    high: Literal
    pos: int | None = field(**_POS)

    def children(self):
        return (self.left, self.low, self.high)

    def to_text(self) -> str:
        return f"{self.left.to_text()} between {self.low.to_text()} and {self.high.to_text()}"


@dataclass(frozen=True)
class InList(Node):
    """``x in (a, b)`` or, with ``negated``, ``x not in (a, b)`` (false where x is null, as in SQL)."""

    left: Operand
    values: tuple[Literal, ...]
    negated: bool = False
    pos: int | None = field(**_POS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))
        if not self.values:
            raise ValueError("an in-list needs at least one value")

    def children(self):
        return (self.left, *self.values)

    def to_text(self) -> str:
        word = "not in" if self.negated else "in"
        return f"{self.left.to_text()} {word} ({', '.join(v.to_text() for v in self.values)})"


@dataclass(frozen=True)
class Contains(Node):
    left: Operand
    value: Literal
    pos: int | None = field(**_POS)

    def children(self):
        return (self.left, self.value)

    def to_text(self) -> str:
        return f"{self.left.to_text()} contains {self.value.to_text()}"


@dataclass(frozen=True)
class StartsWith(Node):
    left: Operand
    value: Literal
    pos: int | None = field(**_POS)

    def children(self):
        return (self.left, self.value)

    def to_text(self) -> str:
        return f"{self.left.to_text()} starts with {self.value.to_text()}"


@dataclass(frozen=True)
class IsNull(Node):
    left: Operand
    negated: bool = False
    pos: int | None = field(**_POS)

    def children(self):
        return (self.left,)

    def to_text(self) -> str:
        return f"{self.left.to_text()} is {'not ' if self.negated else ''}null"


Condition = Union[Compare, Between, InList, Contains, StartsWith, IsNull]


# -- tags, events, purchases, geography ------------------------------------------------------------------
@dataclass(frozen=True)
class Tag(Node):
    """``tag('vip')`` (also written ``has tag 'vip'``)."""

    name: str
    pos: int | None = field(**_POS)

    def to_text(self) -> str:
        return f"tag({quote(self.name)})"


@dataclass(frozen=True)
class Count(Node):
    """``at least 2 times``, ``at most 1 time``, ``exactly 3 times``."""

    op: str
    n: int
    pos: int | None = field(**_POS)

    def __post_init__(self) -> None:
        if self.op not in COUNT_OPS:
            raise ValueError(f"unknown count {self.op!r}")
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 0:
            raise ValueError(f"a count is a whole number >= 0, not {self.n!r}")

    def to_text(self) -> str:
        return f"{self.op} {self.n} {'time' if self.n == 1 else 'times'}"


@dataclass(frozen=True)
class Window(Node):
    """When: ``in last N days|hours``, ``between 'date' and 'date'`` (both days included),
    ``before 'date'`` (before that day began), ``after 'date'`` (after that day ended)."""

    kind: str
    n: int | None = None
    unit: str | None = None
    start: str | None = None
    end: str | None = None
    pos: int | None = field(**_POS)

    def __post_init__(self) -> None:
        if self.kind not in WINDOW_KINDS:
            raise ValueError(f"unknown window {self.kind!r}")
        if self.kind == "last" and (self.unit not in WINDOW_UNITS or not isinstance(self.n, int) or self.n < 1):
            raise ValueError("'in last' needs a whole number >= 1 of days or hours")

    def to_text(self) -> str:
        if self.kind == "last":
            return f"in last {self.n} {self.unit}"
        if self.kind == "between":
            return f"between {quote(self.start)} and {quote(self.end)}"
        return f"{self.kind} {quote(self.start if self.kind == 'after' else self.end)}"


@dataclass(frozen=True)
class Did(Node):
    """An event condition: ``[first|last] did [not] 'Event' [where ...] [count] [window]``.

    ``which`` is any, first or last (the first or last such event falls in the window);
    ``negated`` is ``did not`` (nobody with such events).
    """

    event: str
    where: tuple[Condition, ...] = ()
    count: Count | None = None
    window: Window | None = None
    negated: bool = False
    which: str = "any"
    pos: int | None = field(**_POS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "where", tuple(self.where))
        if self.which not in EVENT_WHICH:
            raise ValueError(f"unknown event selector {self.which!r}")
        if self.which != "any" and (self.window is None or self.count is not None or self.negated):
            raise ValueError("first/last did take a time condition, and no count or 'not'")

    def children(self):
        return tuple(self.where) + tuple(x for x in (self.count, self.window) if x is not None)

    @property
    def ends_with_where(self) -> bool:
        return bool(self.where) and self.count is None and self.window is None

    def to_text(self) -> str:
        parts = [] if self.which == "any" else [self.which]
        parts += ["did", "not"] if self.negated else ["did"]
        parts.append(quote(self.event))
        if self.where:
            parts.append("where " + " and ".join(c.to_text() for c in self.where))
        parts += [x.to_text() for x in (self.count, self.window) if x is not None]
        return " ".join(parts)


@dataclass(frozen=True)
class Item(Node):
    """What was bought: ``category 'skincare'``, ``product 'SKU1'``, ``brand 'B'``."""

    kind: str
    value: str
    pos: int | None = field(**_POS)

    def __post_init__(self) -> None:
        if self.kind not in ITEM_KINDS:
            raise ValueError(f"unknown item kind {self.kind!r}")

    def to_text(self) -> str:
        return f"{self.kind} {quote(self.value)}"


@dataclass(frozen=True)
class Bought(Node):
    """A purchase condition: ``[never] bought [item] [but not item] [count] [window]``.

    Counts are distinct orders; returns never count. ``but_not`` excludes people who bought that item
    in the same window.
    """

    item: Item | None = None
    count: Count | None = None
    window: Window | None = None
    negated: bool = False
    but_not: Item | None = None
    pos: int | None = field(**_POS)

    def __post_init__(self) -> None:
        if self.but_not is not None and self.item is None:
            raise ValueError("'but not' needs an item before it")

    def children(self):
        return tuple(x for x in (self.item, self.but_not, self.count, self.window) if x is not None)

    def to_text(self) -> str:
        parts = ["never bought" if self.negated else "bought"]
        if self.item is not None:
            parts.append(self.item.to_text())
        if self.but_not is not None:
            parts.append("but not " + self.but_not.to_text())
        parts += [x.to_text() for x in (self.count, self.window) if x is not None]
        return " ".join(parts)


@dataclass(frozen=True)
class Within(Node):
    """``within 5 km of store 'S001'`` or ``within 3 km of point(31.23, 121.47)`` (home coordinates)."""

    km: int | float
    store: str | None = None
    latitude: int | float | None = None
    longitude: int | float | None = None
    pos: int | None = field(**_POS)

    def __post_init__(self) -> None:
        for name in ("km", "latitude", "longitude"):
            v = getattr(self, name)
            if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
                object.__setattr__(self, name, int(v))
        if (self.store is None) == (self.latitude is None or self.longitude is None):
            raise ValueError("within needs a store or a point")

    def to_text(self) -> str:
        if self.store is not None:
            target = f"store {quote(self.store)}"
        else:
            target = f"point({_number_text(self.latitude)}, {_number_text(self.longitude)})"
        return f"within {_number_text(self.km)} km of {target}"


# -- logic ---------------------------------------------------------------------------------------------
def _flatten(cls, items) -> tuple:
    out = []
    for item in items:
        out.extend(item.items if isinstance(item, cls) else (item,))
    return tuple(out)


def _ends_with_where(node: Node) -> bool:
    """Would a following ``and x = 1`` be read as one more event property of this node's text?"""
    if isinstance(node, Did):
        return node.ends_with_where
    if isinstance(node, Not):
        return _ends_with_where(node.item)
    return False


@dataclass(frozen=True)
class And(Node):
    items: tuple[Node, ...]
    pos: int | None = field(**_POS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", _flatten(And, self.items))
        if len(self.items) < 2:
            raise ValueError("'and' joins two conditions or more")

    def children(self):
        return self.items

    def to_text(self) -> str:
        parts = []
        for item in self.items:
            text = item.to_text()
            if isinstance(item, Or) or _ends_with_where(item):
                text = f"({text})"
            parts.append(text)
        return " and ".join(parts)


@dataclass(frozen=True)
class Or(Node):
    items: tuple[Node, ...]
    pos: int | None = field(**_POS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", _flatten(Or, self.items))
        if len(self.items) < 2:
            raise ValueError("'or' joins two conditions or more")

    def children(self):
        return self.items

    def to_text(self) -> str:
        return " or ".join(item.to_text() for item in self.items)


@dataclass(frozen=True)
class Not(Node):
    item: Node
    pos: int | None = field(**_POS)

    def children(self):
        return (self.item,)

    def to_text(self) -> str:
        text = self.item.to_text()
        if isinstance(self.item, (And, Or)):
            text = f"({text})"
        return f"not {text}"
