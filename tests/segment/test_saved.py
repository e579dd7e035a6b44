"""Saved segments on the six-person world of tests/segment/world.py: saving, fingerprints, previews with
reasons, overlap and export, every figure worked out by hand."""

from __future__ import annotations

import datetime as dt
import hashlib
import math

import pytest

from jingzhun.errors import JingzhunError
from jingzhun.segment import (
    SegmentNotFoundError, UnknownNameError, delete_segment, export_csv, get_segment, list_segments, overlap, parse,
    preview, save_segment, size, take_snapshot,
)
from tests.segment.world import AS_OF, load_world


@pytest.fixture
def world(warehouse):
    load_world(warehouse)
    return warehouse


T0 = dt.datetime(2024, 7, 1, 9, 0, tzinfo=dt.timezone.utc)
T1 = T0 + dt.timedelta(hours=1)


def test_save_update_and_fingerprint(world):
    seg, status = save_segment(world, "women over 20", "gender='F'  AND age>20", now=T0)
    assert status == "created" and seg.definition == "gender = 'F' and age > 20"
    assert seg.fingerprint == parse("gender = 'F' and age > 20").fingerprint
    assert seg.segment_id == "seg_" + hashlib.sha256(b"women over 20").hexdigest()[:16]
    again, status = save_segment(world, "women over 20", "gender = 'F'  and  age > 20", now=T1)
    assert status == "unchanged" and again == seg
    changed, status = save_segment(world, "women over 20", "gender = 'F' and age > 25", now=T1)
    assert status == "updated" and changed.segment_id == seg.segment_id
    stored = get_segment(world, "women over 20")
    assert (stored.created_at, stored.updated_at) == (T0, T1)
    assert stored.fingerprint != seg.fingerprint and len(list_segments(world)) == 1
    assert size(world, "women over 20", AS_OF) == 2  # p1 (28) and p5 (30); p3 turns 25 on as_of's date


def test_bare_score_names_are_stored_resolved(world):
    seg, _ = save_segment(world, "unlikely", "p_alive < 0.3")
    assert seg.definition == "score('p_alive') < 0.3"
    assert save_segment(world, "unlikely", "score('p_alive') < 0.3")[1] == "unchanged"


def test_checked_before_anything_is_written(world):
    with pytest.raises(UnknownNameError, match="did you mean 'gender'"):
        save_segment(world, "typo", "gendr = 'F'")
    with pytest.raises(JingzhunError, match="name"):
        save_segment(world, "  ", "gender = 'F'")
    assert list_segments(world) == []
    save_segment(world, "women", "gender = 'F'")
    with pytest.raises(JingzhunError, match="already exists with kind audience"):
        save_segment(world, "women", {"stage": "new"}, kind="lifecycle")


def test_get_list_delete(world):
    save_segment(world, "vip", "tag('vip')")
    save_segment(world, "women", "gender = 'F'")
    assert [s.name for s in list_segments(world)] == ["vip", "women"]
    with pytest.raises(SegmentNotFoundError, match="did you mean 'women'"):
        get_segment(world, "wommen")
    take_snapshot(world, "vip", as_of=AS_OF)
    gone = delete_segment(world, "vip")
    assert gone.name == "vip" and [s.name for s in list_segments(world)] == ["women"]
    for table in ("segment_members", "segment_snapshots"):
        t = world.table(table)
        assert world.execute(t.filter(t.segment_id == gone.segment_id).count()) == 0


def _km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


EXPR = "gender = 'F' and (did 'Product Viewed' in last 30 days or not tag('vip')) and within 10 km of store 'S001'"


def test_preview_gives_the_reasons(world):
    result = preview(world, EXPR, as_of=AS_OF, n=10)
    # p1: F, two views in 30 days, vip, 1.5 km from S001; p3: F, one view, not vip, 6.9 km;
    # p5 is F and vip but viewed only after as_of, and lives in Hangzhou
    assert result.size == 2 and [m["profile_id"] for m in result.sample] == ["p1", "p3"]
    p1, p3 = ({r["condition"]: r for r in m["reasons"]} for m in result.sample)
    assert p1["gender = 'F'"]["text"] == "gender = 'F' (F)"
    assert p1["did 'Product Viewed' in last 30 days"]["value"] == 2
    assert p1["did 'Product Viewed' in last 30 days"]["text"].endswith("(2 times)")
    assert p1["not tag('vip')"]["held"] is False and p3["not tag('vip')"]["held"] is True
    assert p3["did 'Product Viewed' in last 30 days"]["text"].endswith("(1 time)")
    assert p1["within 10 km of store 'S001'"]["value"] == pytest.approx(_km(31.23, 121.47, 31.24, 121.48), rel=1e-9)
    assert p3["within 10 km of store 'S001'"]["value"] == pytest.approx(_km(31.30, 121.50, 31.24, 121.48), rel=1e-9)


def test_preview_sample_is_seeded(world):
    women = {"p1", "p3", "p5"}
    for seed in (0, 1, 2):
        want = sorted(women, key=lambda p: hashlib.sha256(f"{p}#{seed}".encode()).hexdigest())[:1]
        got = preview(world, "gender = 'F'", as_of=AS_OF, n=1, seed=seed)
        assert [m["profile_id"] for m in got.sample] == want and got.size == 3


def test_overlap_by_hand(world):
    save_segment(world, "women", "gender = 'F'")
    result = overlap(world, ["women", "tag('vip')", "bought at least 1 time"], as_of=AS_OF)
    # women p1 p3 p5; vip p1 p5; buyers p1 p2 p5 (p3 only returned)
    assert result.sizes == [3, 2, 3]
    assert [(p["both"], round(p["jaccard"], 6)) for p in result.pairs] == [(2, round(2 / 3, 6)), (2, 0.5),
                                                                           (2, round(2 / 3, 6))]
    assert result.pairs[0]["a"] == "women" and result.pairs[0]["b"] == "tag('vip')"


def test_export_writes_the_file_whole(world, tmp_path):
    out = tmp_path / "out" / "women.csv"
    assert export_csv(world, "gender = 'F'", out, as_of=AS_OF, fields=("city", "age")) == 3
    assert out.read_text(encoding="utf-8").splitlines() == [
        "profile_id,city,age", "p1,Shanghai,28", "p3,Shanghai,25", "p5,Hangzhou,30"]
    with pytest.raises(JingzhunError, match="not profile fields"):
        export_csv(world, "tag('vip')", out, as_of=AS_OF, fields=("shoe_size",))
    assert out.read_text(encoding="utf-8").startswith("profile_id,city,age\np1")  # the earlier file stands
    assert export_csv(world, "tag('vip')", out, as_of=AS_OF) == 2
    assert out.read_text(encoding="utf-8").splitlines() == ["profile_id", "p1", "p5"]
    assert [p.name for p in out.parent.iterdir()] == ["women.csv"]  # no temporary file left behind
