"""Each construct selects exactly the profiles worked out by hand, on DuckDB and on PySpark."""

from __future__ import annotations

import pytest

from jingzhun.segment import Catalog, audience, context_from_warehouse

from tests.segment.world import AS_OF, EXPECTED, load_world


@pytest.fixture
def world(warehouse):
    load_world(warehouse)
    return warehouse


def _members(wh, text, ctx) -> set[str]:
    return set(wh.execute(audience(text, ctx)).profile_id)


def test_every_construct_selects_the_expected_profiles(world):
    ctx = context_from_warehouse(world, as_of=AS_OF, catalog=Catalog.from_warehouse(world))
    wrong = {}
    for text, expected in EXPECTED.items():
        got = _members(world, text, ctx)
        if got != expected:
            wrong[text] = (sorted(got), sorted(expected))
    assert not wrong, wrong


def test_base_takes_the_latest_customer_record_and_age_at_as_of(world):
    ctx = context_from_warehouse(world, as_of=AS_OF)
    base = world.execute(ctx.base).set_index("profile_id")
    assert base.loc["p5", "city"] == "Hangzhou"
    assert base.loc["p1", "age"] == 28 and base.loc["p3", "age"] == 25
    assert sorted(base.index) == ["p1", "p2", "p3", "p4", "p5", "p6"]


def test_catalog_from_the_warehouse(world):
    cat = Catalog.from_warehouse(world)
    assert cat.fields["age"] == "number" and cat.fields["gender"] == "string"
    assert cat.tags == {"vip", "dormant"} and cat.scores == {"clv_12m", "p_alive"}
    assert {"Product Viewed", "Order Completed", "Signed Up"} <= cat.events
    assert cat.categories == {"skincare", "makeup", "food"} and cat.stores == {"S001", "S002"}
