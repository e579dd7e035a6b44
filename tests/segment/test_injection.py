"""Injection attempts are rejected by the lexer, or are plain literals that match exactly themselves;
the warehouse's tables are all still there after compiling and running them."""

from __future__ import annotations

import ibis
import pytest

from jingzhun.schema import TABLES
from jingzhun.segment import AudienceError, audience, compile_audience, context_from_warehouse

from tests.segment.world import AS_OF, load_world

REJECTED = [
    "gender = 'F'; DROP TABLE profiles; --",
    "gender = 'F' -- and age > 3",
    "gender = 'F' /* */ or 1 = 1",
    "gender = ＇F＇ or ＇1＇ = ＇1＇",
    "gender = \"F\" or \"1\" = \"1\"",
    "gеnder = 'F'",  # Cyrillic е
    "gender = 'F' \\",
    "profile_id = 'x' or 1 = 1",
    "tag('x') union select * from pii_vault",
    "did 'X' where \"a\" = 1",
    "gender = 'F\u0000'",
]
LITERALS = [
    "'; DROP TABLE profiles; --",
    "F' OR '1'='1",
    "x\\' or 1=1 --",
    "/* comment */",
    "＇F＇",
    "' || (SELECT value FROM pii_vault LIMIT 1) || '",
]


@pytest.fixture
def world(warehouse):
    load_world(warehouse)
    return warehouse


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def test_injection_attempts_are_rejected_or_literal(world):
    ctx = context_from_warehouse(world, as_of=AS_OF)
    for text in REJECTED:
        with pytest.raises(AudienceError):
            compile_audience(text, ctx)
    for value in LITERALS:
        for text in (f"gender = {_quote(value)}", f"city in ({_quote(value)}, 'x')", f"city contains {_quote(value)}",
                     f"tag({_quote(value)})", f"did 'Product Viewed' where category = {_quote(value)}",
                     f"bought category {_quote(value)}", f"within 5 km of store {_quote(value)}"):
            sql = ibis.to_sql(audience(text, ctx), dialect=world.engine)
            assert "DROP TABLE" not in sql.upper().replace("'; DROP TABLE", "")
            assert len(world.execute(audience(text, ctx))) == 0, text
    assert all(world.has_table(name) for name in TABLES)
    assert world.count("profiles") == 6


def test_a_literal_matches_exactly_itself(world):
    ctx = context_from_warehouse(world, as_of=AS_OF)
    weird = "O'Brien; DROP TABLE profiles; --"
    world.append("tags", ibis.memtable({"profile_id": ["p4"], "tag": [weird], "as_of": [AS_OF], "computed_at": [AS_OF]}))
    assert set(world.execute(audience(f"tag({_quote(weird)})", ctx)).profile_id) == {"p4"}
    assert set(world.execute(audience("tag('O''Brien')", ctx)).profile_id) == set()
    assert all(world.has_table(name) for name in TABLES)
