"""The compiler: checked audience nodes to one Ibis boolean over ``context.base``, node by node.

Each node kind has one ``visit_<Node>`` method. Values become Ibis literals and names are column or
catalogue names, so the text of an audience never reaches SQL. Conditions are two-valued: a comparison
on a missing value is false (as ``!=`` and ``not in`` are in SQL), and ``not`` is its exact complement.
Event, purchase, tag and score conditions are semi-joins, ``base.profile_id IN (subquery)``, so that an
audience of any shape stays one expression that DuckDB and Spark plan as they like.

Event properties are JSON text. Both engines read them with the same regular expressions (a
top-level-looking ``"key": value`` pair; the first one wins if a nested object repeats the key): a
text value is compared in its JSON-escaped form with the JSON-escaped literal, a number as float64.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import ibis
import ibis.expr.types as ir

from jingzhun.profile.geo import EARTH_RADIUS_KM, haversine_km
from jingzhun.segment.catalog import Catalog
from jingzhun.segment.errors import AudienceError
from jingzhun.segment.language import (
    And, Between, Bought, Compare, Contains, Count, Did, Field, InList, IsNull, Literal, Node, Not, Or, Prop,
    ScoreRef, StartsWith, Tag, Window, Within, parse,
)

__all__ = ["compile_audience", "compile_conditions", "leaf_conditions", "audience", "bind", "haversine_km",
           "EARTH_RADIUS_KM"]

log = logging.getLogger(__name__)

_NUMBER = r"(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"


def bind(expression: Node | str, context) -> Node:
    """Parse (when text) and check an expression against the context's catalogue."""
    catalog = context.catalog if context.catalog is not None else Catalog.from_schema(context.base.schema())
    if isinstance(expression, str):
        return catalog.check(parse(expression), expression)
    if not isinstance(expression, Node):
        raise AudienceError(f"an audience is text or a node, not {type(expression).__name__}")
    return catalog.check(expression)


def compile_audience(expression: Node | str, context) -> ir.BooleanValue:
    """The audience as a boolean column over ``context.base`` (true for members, never null)."""
    node = bind(expression, context)
    return _Compiler(context).visit(node)


def audience(expression: Node | str, context) -> ir.Table:
    """The members of the audience: a table of ``profile_id``."""
    return context.base.filter(compile_audience(expression, context)).select("profile_id")


def _members(base: ir.Table, sub: ir.Table) -> ir.BooleanValue:
    ids = sub.filter(sub.profile_id.notnull()).profile_id
    return base.profile_id.isin(ids).fill_null(False)


def _day(text: str, plus_days: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(text) + dt.timedelta(days=plus_days), dt.time(),
                               tzinfo=dt.timezone.utc)


def _ts(value: dt.datetime) -> ir.TimestampScalar:
    return ibis.literal(value, type="timestamp('UTC')")


class _Compiler:
    def __init__(self, context) -> None:
        self.ctx = context
        self.base = context.base

    def visit(self, node: Node) -> ir.BooleanValue:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise AudienceError(f"cannot compile a {type(node).__name__} on its own", position=node.pos)
        return method(node)

    def _need(self, name: str) -> ir.Table:
        table = getattr(self.ctx, name)
        if table is None:
            raise AudienceError(f"this audience needs {name}, and the audience context has none")
        return table

    # -- logic -----------------------------------------------------------------------------------------
    def visit_And(self, node: And) -> ir.BooleanValue:
        out = self.visit(node.items[0])
        for item in node.items[1:]:
            out = out & self.visit(item)
        return out

    def visit_Or(self, node: Or) -> ir.BooleanValue:
        out = self.visit(node.items[0])
        for item in node.items[1:]:
            out = out | self.visit(item)
        return out

    def visit_Not(self, node: Not) -> ir.BooleanValue:
        return ~self.visit(node.item)

    # -- conditions on one value -----------------------------------------------------------------------
    def _condition(self, node: Node, column: ir.Column) -> ir.BooleanValue:
        """``node``'s predicate on ``column`` (a base column or a score value), false where null."""
        kind = column.type()
        value = lambda lit: self._literal(lit, kind)  # noqa: E731
        if isinstance(node, Compare):
            right = value(node.right)
            expr = {"=": column == right, "!=": column != right, "<": column < right, "<=": column <= right,
                    ">": column > right, ">=": column >= right}[node.op]
        elif isinstance(node, Between):
            expr = column.between(value(node.low), value(node.high))
        elif isinstance(node, InList):
            values = [value(v) for v in node.values]
            expr = column.notin(values) if node.negated else column.isin(values)
        elif isinstance(node, Contains):
            expr = column.contains(value(node.value))
        elif isinstance(node, StartsWith):
            expr = column.startswith(value(node.value))
        elif isinstance(node, IsNull):
            return column.notnull() if node.negated else column.isnull()
        else:  # pragma: no cover - the checker lets no other node through
            raise AudienceError(f"not a condition: {node.to_text()}")
        return expr.fill_null(False)

    @staticmethod
    def _literal(lit: Literal, dtype) -> ir.Scalar:
        if dtype.is_timestamp():
            text = lit.value
            when = _day(text) if len(text) == 10 else dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)
            return _ts(when) if dtype.timezone else ibis.literal(when.replace(tzinfo=None), type="timestamp")
        if dtype.is_date():
            return ibis.literal(dt.date.fromisoformat(lit.value), type="date")
        if dtype.is_numeric():
            return ibis.literal(float(lit.value) if dtype.is_floating() or isinstance(lit.value, float)
                                else lit.value, type="float64" if isinstance(lit.value, float) else None)
        return ibis.literal(lit.value)

    def _predicate(self, node) -> ir.BooleanValue:
        left = node.left
        if isinstance(left, Field):
            return self._condition(node, self.base[left.name])
        if isinstance(left, ScoreRef):
            scores = self._need("scores")
            mine = scores.filter(scores.score == left.name, scores.value.notnull())
            if isinstance(node, IsNull):
                has = _members(self.base, mine)
                return has if node.negated else ~has
            return _members(self.base, mine.filter(self._condition(node, mine.value)))
        raise AudienceError(f"{left.to_text()} is an event property: use it after did ... where", position=node.pos)

    visit_Compare = visit_Between = visit_InList = visit_Contains = visit_StartsWith = visit_IsNull = _predicate

    # -- tags ------------------------------------------------------------------------------------------
    def visit_Tag(self, node: Tag) -> ir.BooleanValue:
        tags = self._need("tags")
        return _members(self.base, tags.filter(tags.tag == node.name))

    # -- time ------------------------------------------------------------------------------------------
    def _window(self, ts: ir.TimestampValue, window: Window | None) -> list[ir.BooleanValue]:
        as_of = self.ctx.as_of
        conds = [ts <= _ts(as_of)]
        if window is None:
            return conds
        if window.kind == "last":
            delta = dt.timedelta(days=window.n) if window.unit == "days" else dt.timedelta(hours=window.n)
            conds.append(ts > _ts(as_of - delta))
        elif window.kind == "between":
            conds += [ts >= _ts(_day(window.start)), ts < _ts(_day(window.end, 1))]
        elif window.kind == "before":
            conds.append(ts < _ts(_day(window.end)))
        else:
            conds.append(ts >= _ts(_day(window.start, 1)))
        return conds

    def _counted(self, rows: ir.Table, count: Count | None, n: ir.IntegerValue) -> ir.BooleanValue:
        """Members by how many ``n`` (per profile) of ``rows`` they have, as ``count`` says."""
        if count is None or (count.op == "at least" and count.n <= 1):
            return _members(self.base, rows) if count is None or count.n == 1 else ibis.literal(True)
        per = rows.group_by("profile_id").aggregate(n=n)
        if count.op == "at least":
            return _members(self.base, per.filter(per.n >= count.n))
        if count.op == "at most":
            return ~_members(self.base, per.filter(per.n > count.n))
        if count.n == 0:
            return ~_members(self.base, rows)
        return _members(self.base, per.filter(per.n == count.n))

    # -- events ----------------------------------------------------------------------------------------
    def _matching_events(self, node: Did) -> ir.Table:
        events = self._need("events")
        return events.filter(events.event == node.event, *[self._property(events, c) for c in node.where])

    def visit_Did(self, node: Did) -> ir.BooleanValue:
        ev = self._matching_events(node)
        if node.which != "any":
            ev = ev.filter(ev.timestamp <= _ts(self.ctx.as_of))
            agg = ev.timestamp.min() if node.which == "first" else ev.timestamp.max()
            per = ev.group_by("profile_id").aggregate(t=agg)
            return _members(self.base, per.filter(*self._window(per.t, node.window)))
        ev = ev.filter(*self._window(ev.timestamp, node.window))
        out = self._counted(ev, node.count, ev.count())
        return ~out if node.negated else out

    def _property(self, events: ir.Table, node: Node) -> ir.BooleanValue:
        text = _top_level(events.properties)
        key = json.dumps(node.left.name)  # a name is [A-Za-z_][A-Za-z0-9_]*: nothing to escape in a pattern
        prefix = r'[{,]\s*' + key + r'\s*:\s*'
        if isinstance(node, IsNull):
            present = text.re_search(prefix + r'["0-9tf\[{-]').fill_null(False)
            return present if node.negated else ~present
        values = [v for v in (getattr(node, a, None) for a in ("right", "low", "high", "value")) if v is not None]
        values += list(getattr(node, "values", ()))
        kind = values[0].kind
        if kind == "number":
            pattern = prefix + '"?' + _NUMBER
            raw = text.re_extract(pattern, 1)
            column = ibis.ifelse(text.re_search(pattern).fill_null(False), raw, ibis.null("string")).cast("float64")
            return self._condition(node, column)
        if kind == "boolean":
            pattern = prefix + "(true|false)"
            found = text.re_search(pattern).fill_null(False)
            column = ibis.ifelse(found, text.re_extract(pattern, 1) == "true", ibis.null("boolean"))
            return self._condition(node, column)
        pattern = prefix + r'"((?:[^"\\]|\\.)*)"'
        found = text.re_search(pattern).fill_null(False)
        column = ibis.ifelse(found, text.re_extract(pattern, 1), ibis.null("string"))
        return self._condition(_escaped(node), column)

    # -- purchases -------------------------------------------------------------------------------------
    def _bought_rows(self, item, window: Window | None) -> ir.Table:
        p = self._need("purchases")
        conds = self._window(p.ordered_at, window)
        if "is_return" in p.columns:
            conds.append(~p.is_return.fill_null(False))
        if item is not None:
            column = {"category": p.category, "product": p.product_id, "brand": p.brand}[item.kind]
            conds.append(column == item.value)
        return p.filter(*conds)

    def visit_Bought(self, node: Bought) -> ir.BooleanValue:
        rows = self._bought_rows(node.item, node.window)
        out = self._counted(rows, node.count, rows.order_id.nunique())
        if node.but_not is not None:
            out = out & ~_members(self.base, self._bought_rows(node.but_not, node.window))
        return ~out if node.negated else out

    # -- geography -------------------------------------------------------------------------------------
    def visit_Within(self, node: Within) -> ir.BooleanValue:
        base = self.base
        if node.store is None:
            d = haversine_km(base.latitude, base.longitude, node.latitude, node.longitude)
            return (d <= float(node.km)).fill_null(False)
        stores = self._need("stores")
        store = stores.filter(stores.store_id == node.store).select(_s_lat="latitude", _s_lon="longitude")
        homes = base.select("profile_id", "latitude", "longitude")
        pairs = homes.cross_join(store)
        near = pairs.filter(haversine_km(pairs.latitude, pairs.longitude, pairs._s_lat, pairs._s_lon) <= float(node.km))
        return _members(base, near)


    # -- evidence: what one condition looked at, for previews ------------------------------------------
    def evidence(self, node: Node) -> ir.Table | None:
        """profile_id and ``value`` for the profiles of the base: the value ``node`` tested (a field or
        score value, a number of events or orders, a first or last time, a distance in km); None for a
        tag, which has no value beyond being there."""
        method = getattr(self, f"evidence_{type(node).__name__}", None)
        return None if method is None else method(node)

    def _mine(self, rows: ir.Table) -> ir.Table:
        return rows.filter(rows.profile_id.isin(self.base.profile_id))

    def _evidence_predicate(self, node) -> ir.Table:
        left = node.left
        if isinstance(left, Field):
            return self.base.select("profile_id", value=self.base[left.name])
        scores = self._mine(self._need("scores"))
        mine = scores.filter(scores.score == left.name)
        return mine.group_by("profile_id").aggregate(value=mine.value.max())

    evidence_Compare = evidence_Between = evidence_InList = evidence_Contains = evidence_StartsWith = \
        evidence_IsNull = _evidence_predicate

    def evidence_Did(self, node: Did) -> ir.Table:
        ev = self._mine(self._matching_events(node))
        if node.which != "any":
            ev = ev.filter(ev.timestamp <= _ts(self.ctx.as_of))
            return ev.group_by("profile_id").aggregate(
                value=ev.timestamp.min() if node.which == "first" else ev.timestamp.max())
        ev = ev.filter(*self._window(ev.timestamp, node.window))
        return ev.group_by("profile_id").aggregate(value=ev.count())

    def evidence_Bought(self, node: Bought) -> ir.Table:
        rows = self._mine(self._bought_rows(node.item, node.window))
        return rows.group_by("profile_id").aggregate(value=rows.order_id.nunique())

    def evidence_Within(self, node: Within) -> ir.Table:
        base = self.base
        if node.store is None:
            return base.select("profile_id", value=haversine_km(base.latitude, base.longitude, node.latitude,
                                                                node.longitude))
        stores = self._need("stores")
        store = stores.filter(stores.store_id == node.store).select(_s_lat="latitude", _s_lon="longitude")
        pairs = base.select("profile_id", "latitude", "longitude").cross_join(store)
        return pairs.select("profile_id", value=haversine_km(pairs.latitude, pairs.longitude, pairs._s_lat,
                                                             pairs._s_lon))


def leaf_conditions(node: Node, negated: bool = False):
    """The conditions under the and/or/not of a checked expression, each with whether an odd number of
    ``not`` stands above it: ``(leaf, negated)`` pairs, left to right."""
    if isinstance(node, (And, Or)):
        for item in node.items:
            yield from leaf_conditions(item, negated)
    elif isinstance(node, Not):
        yield from leaf_conditions(node.item, not negated)
    else:
        yield node, negated


def compile_conditions(expression: Node | str, context) -> list[tuple[Node, bool, ir.BooleanValue, ir.Table | None]]:
    """Each condition of an expression compiled on its own: ``(leaf, negated, held, evidence)``, where
    ``held`` is the leaf's boolean over ``context.base`` (before any ``not`` above it) and ``evidence``
    the table of what it tested (see ``_Compiler.evidence``). Previews use it to say why a profile matched."""
    compiler = _Compiler(context)
    node = bind(expression, context)
    return [(leaf, neg, compiler.visit(leaf), compiler.evidence(leaf)) for leaf, neg in leaf_conditions(node)]


def _top_level(text: ir.StringValue) -> ir.StringValue:
    """JSON text with arrays and nested objects (two levels deep) replaced by 0, so that only top-level
    keys are left to match. A regex of both engines, without back-references (their syntax differs)."""
    text = text.re_replace(r"\[[^\[\]]*\]", "0")
    for _ in range(2):
        text = text.re_replace(r":\s*\{[^{}]*\}", ":0")
    return text


def _escaped(node: Node) -> Node:
    """``node`` with its text values in JSON-escaped form (what the JSON text of the property holds)."""
    import dataclasses

    def esc(lit: Literal) -> Literal:
        if lit.kind != "string":
            return lit
        return Literal(json.dumps(lit.value, ensure_ascii=False)[1:-1], "string", lit.pos)

    changes = {}
    for attr in ("right", "low", "high", "value"):
        if isinstance(getattr(node, attr, None), Literal):
            changes[attr] = esc(getattr(node, attr))
    if isinstance(node, InList):
        changes["values"] = tuple(esc(v) for v in node.values)
    return dataclasses.replace(node, **changes)
