"""Snapshots and diffs across two moments on the order history of tests/segment/buyers.py, and the same
members on DuckDB and PySpark for every kind of segment."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from jingzhun.errors import JingzhunError
from jingzhun.profile import build_features
from jingzhun.segment import diff, list_snapshots, members, save_segment, take_snapshot
from jingzhun.segment.clusters import ClusterModel, save_cluster_segments
from jingzhun.segment.lifecycle import LifecycleRules, save_lifecycle_segments
from jingzhun.segment.rfm import save_rfm_segments
from jingzhun.warehouse import Warehouse
from tests.segment.buyers import AS_OF, LATER, load_buyers

RULES = LifecycleRules(new_days=30, active_days=60, lapse_days=120)
T0 = dt.datetime(2024, 9, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def shop(warehouse):
    load_buyers(warehouse)
    return warehouse


def _ids(wh, table) -> set[str]:
    return set(wh.execute(table).profile_id)


def test_snapshots_record_who_entered_and_left(shop):
    save_segment(shop, "recent buyers", "bought in last 60 days")
    save_lifecycle_segments(shop, RULES)
    # as of AS_OF: pNew (10 days), pActive (20), pWon (10) bought within 60 days; 45 days later the window
    # starts 15 days before AS_OF: pNew and pWon are still in it, pActive has left
    first = take_snapshot(shop, "recent buyers", as_of=AS_OF, now=T0)
    assert (first.size, first.entered, first.exited) == (3, None, None)
    second = take_snapshot(shop, "recent buyers", as_of=LATER, now=T0)  # same clock: moved on by 1 microsecond
    assert (second.size, second.entered, second.exited) == (2, 0, 1)
    assert second.snapshot_at == T0 + dt.timedelta(microseconds=1)
    snaps = list_snapshots(shop, "recent buyers")
    assert [(s.as_of, s.size, s.entered, s.exited) for s in snaps] == [(AS_OF, 3, None, None), (LATER, 2, 0, 1)]
    m = shop.table("segment_members")
    assert _ids(shop, m.filter(m.snapshot_at == snaps[0].snapshot_at)) == {"pNew", "pActive", "pWon"}

    d = diff(shop, "recent buyers", before=1, after=2)
    assert (d.before_size, d.after_size, d.entered, d.exited) == (3, 2, 0, 1)
    assert d.exited_ids == ["pActive"] and d.entered_ids == []
    live = diff(shop, "recent buyers", before="last", after=AS_OF)  # the latest snapshot against a live moment
    assert (live.entered, live.exited, live.entered_ids) == (1, 0, ["pActive"])

    # lifecycle: active as of AS_OF is pActive; 45 days later pActive is at risk and pNew active
    take_snapshot(shop, "Lifecycle: active", as_of=AS_OF)
    later = take_snapshot(shop, "Lifecycle: active", as_of=LATER)
    assert (later.size, later.entered, later.exited) == (1, 1, 1)
    d = diff(shop, "Lifecycle: active", before=-2, after=-1)
    assert (d.entered_ids, d.exited_ids) == (["pNew"], ["pActive"])


def test_diff_of_an_expression_between_two_moments(shop):
    d = diff(shop, "bought in last 60 days", before=AS_OF, after=LATER)
    assert (d.entered, d.exited, d.exited_ids) == (0, 1, ["pActive"])
    with pytest.raises(JingzhunError, match="only saved segments have snapshots"):
        diff(shop, "bought in last 60 days", before="last", after=AS_OF)
    save_segment(shop, "recent", "bought in last 60 days")
    with pytest.raises(JingzhunError, match="no snapshot yet"):
        diff(shop, "recent")
    take_snapshot(shop, "recent", as_of=AS_OF)
    with pytest.raises(JingzhunError, match="snapshot 3 does not exist"):
        diff(shop, "recent", before=3, after=AS_OF)


def test_feature_fields_at_another_moment_are_computed_then(shop):
    build_features(shop, as_of=AS_OF, full=True)
    save_segment(shop, "recent by features", "recency_days <= 45")
    assert _ids(shop, members(shop, "recent by features")) == {"pNew", "pActive", "pWon"}  # default: the build's
    # 45 days later, without a new build: recency is computed as of then (pNew's last purchase is 40 days old)
    assert _ids(shop, members(shop, "recent by features", LATER)) == {"pNew"}


def _all_kinds(wh) -> dict[str, set[str]]:
    load_buyers(wh)
    build_features(wh, as_of=AS_OF, full=True)
    save_segment(wh, "repeat", "bought in last 60 days and frequency >= 2")
    save_rfm_segments(wh)
    save_lifecycle_segments(wh, RULES)
    frame = wh.execute(wh.table("profile_features"))
    model = ClusterModel(features=("recency_days", "frequency", "monetary_total"), k_min=2, k_max=2, seed=0)
    save_cluster_segments(wh, model.fit(frame[frame.frequency > 0]))
    names = ["repeat", "RFM: Loyal", "RFM: Lost", "Lifecycle: won back", "Lifecycle: at risk", "Cluster 1", "Cluster 2"]
    return {n: _ids(wh, members(wh, n, AS_OF)) for n in names}


@pytest.mark.spark
def test_members_equal_on_duckdb_and_pyspark(spark_session, tmp_path):
    duck = Warehouse.duckdb(tmp_path / "w.duckdb")
    spark = Warehouse.spark(spark_session, database=f"t_{uuid.uuid4().hex[:10]}")
    try:
        for wh in (duck, spark):
            wh.ensure_schema()
        on_duck, on_spark = _all_kinds(duck), _all_kinds(spark)
    finally:
        duck.close()
        spark.close()
    assert on_duck == on_spark
    assert on_duck["repeat"] == {"pActive", "pWon"} and on_duck["RFM: Loyal"] == {"pActive"}
    assert sum(len(on_duck[c]) for c in ("Cluster 1", "Cluster 2")) == 5
