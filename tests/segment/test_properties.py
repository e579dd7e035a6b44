"""Property-based: random well-formed trees round-trip through their text; random text either compiles
or raises AudienceError, never anything else."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jingzhun.segment import AudienceContext, AudienceError, Catalog, compile_audience, parse
from jingzhun.segment.language import nodes as n

from tests.segment.test_grammar import CATALOG, OK, SYNTAX

names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s not in {"and", "or", "not", "between", "in", "is", "null", "true", "false", "contains", "starts",
                        "where", "did", "first", "last", "bought", "never", "tag", "has", "score", "within",
                        "nearest"})
# control characters are refused in strings (they break some engines' SQL literals)
texts = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)
numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
literals = st.one_of(texts.map(n.lit), numbers.map(n.lit), st.booleans().map(n.lit))
dates = st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)


def _conditions(operand):
    return st.one_of(
        st.builds(n.Compare, operand, st.sampled_from(n.COMPARE_OPS), literals),
        st.builds(n.Between, operand, literals, literals),
        st.builds(n.InList, operand, st.lists(literals, min_size=1, max_size=3).map(tuple), st.booleans()),
        st.builds(n.Contains, operand, texts.map(n.lit)),
        st.builds(n.StartsWith, operand, texts.map(n.lit)),
        st.builds(n.IsNull, operand, st.booleans()),
    )


counts = st.builds(n.Count, st.sampled_from(("at least", "at most", "exactly")), st.integers(0, 50))
windows = st.one_of(
    st.builds(n.Window, st.just("last"), st.integers(1, 400), st.sampled_from(("days", "hours"))),
    st.builds(lambda a, b: n.Window("between", start=min(a, b), end=max(a, b)), dates, dates),
    st.builds(lambda d: n.Window("before", end=d), dates),
    st.builds(lambda d: n.Window("after", start=d), dates),
)
items = st.builds(n.Item, st.sampled_from(n.ITEM_KINDS), texts)
leaves = st.one_of(
    _conditions(st.builds(n.Field, names)),
    _conditions(st.builds(n.ScoreRef, texts)),
    st.builds(n.Tag, texts),
    st.builds(n.Did, texts, st.lists(_conditions(st.builds(n.Prop, names)), max_size=2).map(tuple),
              st.none() | counts, st.none() | windows, st.booleans()),
    st.builds(lambda e, w, which: n.Did(e, window=w, which=which), texts, windows, st.sampled_from(("first", "last"))),
    st.builds(n.Bought, st.none() | items, st.none() | counts, st.none() | windows, st.booleans()),
    st.builds(lambda a, b, w: n.Bought(a, window=w, but_not=b), items, items, st.none() | windows),
    st.builds(n.Within, st.floats(0.1, 100, allow_nan=False), texts),
    st.builds(lambda km, la, lo: n.Within(km, latitude=la, longitude=lo), st.integers(1, 50),
              st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False)),
)
trees = st.recursive(leaves, lambda kids: st.one_of(
    st.builds(n.And, st.lists(kids, min_size=2, max_size=3).map(tuple)),
    st.builds(n.Or, st.lists(kids, min_size=2, max_size=3).map(tuple)),
    st.builds(n.Not, kids)), max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(trees)
def test_canonical_text_parses_back_to_an_equal_node(tree):
    text = tree.to_text()
    again = parse(text)
    assert again == tree
    assert again.to_text() == text and again.fingerprint == tree.fingerprint


def _context() -> AudienceContext:
    con = ibis.duckdb.connect()
    base = ibis.memtable(pd.DataFrame({
        "profile_id": ["p1"], "gender": ["F"], "age": [30], "city": ["x"], "is_member": [True],
        "birth_date": [dt.date(1990, 1, 1)], "signed_up_at": [pd.Timestamp("2020-01-01", tz="UTC")],
        "latitude": [31.0], "longitude": [121.0], "nearest_store": ["S001"], "recency_days": [3.0]}))
    return AudienceContext(base=con.create_table("base", base), as_of="2024-06-30", catalog=CATALOG,
                           events=con.create_table("events", ibis.memtable(pd.DataFrame(
                               {"profile_id": ["p1"], "event": ["Signed Up"],
                                "timestamp": [pd.Timestamp("2024-01-01", tz="UTC")], "properties": ['{"a":1}']}))),
                           tags=con.create_table("tags", ibis.memtable(pd.DataFrame({"profile_id": ["p1"], "tag": ["vip"]}))),
                           scores=con.create_table("scores", ibis.memtable(pd.DataFrame(
                               {"profile_id": ["p1"], "score": ["p_alive"], "value": [0.5]}))),
                           purchases=con.create_table("purchases", ibis.memtable(pd.DataFrame(
                               {"profile_id": ["p1"], "order_id": ["o1"], "ordered_at": [pd.Timestamp("2024-01-01", tz="UTC")],
                                "product_id": ["SKU1"], "category": ["skincare"], "brand": ["Acme"], "is_return": [False]}))),
                           stores=con.create_table("stores", ibis.memtable(pd.DataFrame(
                               {"store_id": ["S001"], "latitude": [31.0], "longitude": [121.1]}))))


CONTEXT = _context()
WORDS = ["gender", "age", "city", "is_member", "p_alive", "tag", "(", ")", "'vip'", "'F'", "=", "!=", "<", ">=",
         "and", "or", "not", "且", "或", "between", "in", ",", "3", "1.5", "true", "null", "is", "did",
         "'Signed Up'", "where", "a", "at", "least", "times", "in", "last", "days", "bought", "category",
         "'skincare'", "never", "but", "within", "km", "of", "store", "'S001'", "point", "score", "first",
         "before", "'2024-01-01'", "contains", "starts", "with", ";", "--", "'", "＇", "exactly", "has"]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join))
def test_token_soup_compiles_or_raises_audience_error(text):
    try:
        expr = compile_audience(text, CONTEXT)
    except AudienceError:
        return
    assert expr.type().is_boolean()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_compiles_or_raises_audience_error(text):
    try:
        compile_audience(text, CONTEXT)
    except AudienceError:
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(OK)))
def test_every_grammar_example_runs(text):
    if "nearest" in text or "'it''s'" in text:
        return
    assert CONTEXT.base.filter(compile_audience(text, CONTEXT)).count().execute() in (0, 1)


def test_syntax_examples_do_not_compile():
    for text in SYNTAX:
        try:
            compile_audience(text, CONTEXT)
        except AudienceError:
            continue
        raise AssertionError(f"{text!r} compiled")


def test_catalogue_is_optional():
    ctx = AudienceContext(base=CONTEXT.base, as_of="2024-06-30", tags=CONTEXT.tags)
    assert ctx.base.filter(compile_audience("tag('anything') or age > 3", ctx)).count().execute() == 1
    assert Catalog.from_schema(ctx.base.schema()).fields["age"] == "number"
