"""Tag memberships, bands, scores, reasons and history on the hand-built world of tags_world.py.

Every expected row below is worked out by hand from tags_world.py; the tests run on DuckDB and, in the
spark lane, on PySpark, so the two engines must give the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jingzhun.errors import JingzhunError
from jingzhun.profile.tags import build_tags, catalogue, last_tag_build, load_library, tag_changes, tag_history, tags_of
from jingzhun.segment import Catalog
from tests.profile.tags_world import AS_OF, FEATURES, LATER, feature_rows, load_world

LIBRARY = """
tags:
  - name: buyer
    family: consumption
    label: {zh: 买家, en: Buyer}
    description: {zh: 买过, en: Has bought}
    rule: "frequency >= 1"
    reason: {zh: "共 {frequency} 单", en: "{frequency} orders, spent {monetary_total:.2f}"}
  - name: big_spender
    family: consumption
    label: {zh: 大户, en: Big spender}
    description: {zh: 大户, en: Big spender}
    rule: "monetary_total >= 2000"
  - name: loyal_big_night
    family: interests
    label: {zh: 夜猫大户, en: Night big}
    description: {zh: 三层依赖, en: Three levels of dependencies}
    rule: "tag('loyal_big') and peak_hour >= 22"
  - name: loyal_big
    family: consumption
    label: {zh: 忠诚大户, en: Loyal big}
    description: {zh: 两层依赖, en: Uses two tags}
    rule: "tag('big_spender') 且 tag('buyer') and frequency >= 5"
  - name: beauty_not_apparel
    family: consumption
    label: {zh: 美妆不服饰, en: Beauty not apparel}
    description: {zh: 交叉, en: Cross-sell}
    rule: "bought category '美妆' but not category '服饰'"
  - name: spend_band
    family: consumption
    label: {zh: 消费档, en: Spend band}
    description: {zh: 固定, en: Fixed cuts}
    bands: {feature: monetary_total, cuts: [100, 1000, 2000], labels: [small, medium, large, huge]}
  - name: spend_quartile
    family: consumption
    label: {zh: 消费四分位, en: Spend quartile}
    description: {zh: 分位, en: Quantiles}
    bands: {feature: monetary_total, quantiles: [0.25, 0.5, 0.75], labels: [q1, q2, q3, q4], where: "frequency >= 1"}
  - name: churn
    family: predictions
    label: {zh: 流失, en: Churn}
    description: {zh: 分数, en: Score levels}
    score: {name: churn_risk, cuts: [0.3, 0.7], labels: [low, medium, high]}
  - name: hot_churn
    family: predictions
    label: {zh: 高流失, en: Hot churn}
    description: {zh: 只标最高档, en: Top level only}
    score: {name: churn_risk, cuts: [0.7], labels: [null, "yes"]}
    reason: "risk {score:.0%}; {score_reason}"
  - name: likely_buyer
    family: predictions
    label: {zh: 可能购买, en: Likely buyer}
    description: {zh: 还没有这个分数, en: Score not there yet}
    score: {name: p_buy_90d, quantiles: [0.5], labels: [low, high]}
  - name: rescue
    family: predictions
    label: {zh: 挽回, en: Rescue}
    description: {zh: 分数和标签, en: A bare score name and a tag}
    rule: "tag('big_spender') and churn_risk >= 0.8"
  - name: due_soon
    family: consumption
    label: {zh: 补货, en: Due}
    description: {zh: 格式, en: Formats}
    rule: "repurchase_due_days between -7 and 7"
    reason: "due in {repurchase_due_days:.1f} days; {price_sensitivity:.0%} sensitive; age {age}; city {city}"
"""

EXPECTED = {  # tag -> {profile: (value, reason)}
    "buyer": {"p1": (None, "5 orders, spent 2500.00"), "p2": (None, "3 orders, spent 2000.00"),
              "p3": (None, "1 orders, spent 99.99"), "p5": (None, "2 orders, spent 1000.00"),
              "p6": (None, "8 orders, spent 100.00")},
    "big_spender": {"p1": (None, "monetary_total >= 2000"), "p2": (None, "monetary_total >= 2000")},
    "loyal_big": {"p1": (None, "tag('big_spender') and tag('buyer') and frequency >= 5")},
    "loyal_big_night": {"p1": (None, "tag('loyal_big') and peak_hour >= 22")},
    "beauty_not_apparel": {  # p1 bought apparel too; p6's apparel was returned
        "p3": (None, "bought category '美妆' but not category '服饰'"),
        "p6": (None, "bought category '美妆' but not category '服饰'")},
    "spend_band": {  # closed below, open above: 2000 is huge, 1000 large, 100 medium
        "p1": ("huge", "monetary_total = 2500.00: band huge"), "p2": ("huge", "monetary_total = 2000.00: band huge"),
        "p3": ("small", "monetary_total = 99.99: band small"), "p4": ("small", "monetary_total = 0.00: band small"),
        "p5": ("large", "monetary_total = 1000.00: band large"),
        "p6": ("medium", "monetary_total = 100.00: band medium")},
    "spend_quartile": {  # buyers' spend sorted 99.99, 100, 1000, 2000, 2500: cuts at positions 1, 2, 3
        "p3": ("q1", "monetary_total = 99.99: band q1"), "p6": ("q2", "monetary_total = 100.00: band q2"),
        "p5": ("q3", "monetary_total = 1000.00: band q3"), "p2": ("q4", "monetary_total = 2000.00: band q4"),
        "p1": ("q4", "monetary_total = 2500.00: band q4")},
    "churn": {"p1": ("high", "churn_risk = 0.90: level high"), "p2": ("high", "churn_risk = 0.70: level high"),
              "p3": ("medium", "churn_risk = 0.30: level medium"), "p5": ("low", "churn_risk = 0.10: level low")},
    "hot_churn": {"p1": ("yes", "risk 90%; no purchase for 120 days (typical: 30)"), "p2": ("yes", "risk 70%; ")},
    "rescue": {"p1": (None, "tag('big_spender') and churn_risk >= 0.8")},
    "due_soon": {"p1": (None, "due in -3.5 days; 80% sensitive; age 34; city 上海"),
                 "p3": (None, "due in 7.0 days; 100% sensitive; age -; city 成都")},
}


@pytest.fixture
def world(warehouse):
    load_world(warehouse)
    return warehouse


@pytest.fixture
def library(world, tmp_path):
    path = tmp_path / "tags" / "test.yaml"
    path.parent.mkdir()
    path.write_text(LIBRARY, encoding="utf-8")
    return load_library(project_dir=tmp_path, builtin=False, catalog=Catalog.from_warehouse(world))


def _tags(wh) -> dict[str, dict[str, tuple]]:
    df = wh.execute(wh.table("tags"))
    out: dict[str, dict[str, tuple]] = {}
    for r in df.itertuples(index=False):
        value = None if pd.isna(r.value) else r.value
        out.setdefault(r.tag, {})[r.profile_id] = (value, r.reason)
    return out


def _history(wh) -> set[tuple]:
    df = wh.execute(wh.table("tag_history"))
    return {(r.profile_id, r.tag, r.change, None if pd.isna(r.value_before) else r.value_before,
             None if pd.isna(r.value_after) else r.value_after) for r in df.itertuples(index=False)}


def test_dependency_levels(library):
    levels = [set(level) for level in library.levels]
    assert levels[1:] == [{"loyal_big", "rescue"}, {"loyal_big_night"}]
    assert library.dependencies["loyal_big"] == ("big_spender", "buyer")


def test_memberships_values_and_reasons(world, library):
    result = build_tags(world, as_of=AS_OF, library=library)
    assert _tags(world) == EXPECTED
    assert result.rows == sum(len(v) for v in EXPECTED.values())
    assert result.profiles_tagged == 6
    assert result.gained == result.rows and result.lost == result.changed == 0 and result.previous_as_of is None
    # cut-offs: numpy's "lower" quantiles of the buyers' spend, and the fixed ones as written
    buyers = [v["monetary_total"] for v in FEATURES.values() if v["frequency"] >= 1]
    assert result.cuts["spend_quartile"] == list(np.quantile(buyers, [0.25, 0.5, 0.75], method="lower"))
    assert result.cuts["spend_band"] == [100.0, 1000.0, 2000.0]
    assert "likely_buyer" not in result.cuts  # no p_buy_90d scores yet: nobody carries it
    assert {_naive(t) for t in world.execute(world.table("tags")).as_of} == {_naive(AS_OF)}
    detail = last_tag_build(world)
    assert detail["as_of"] == AS_OF.isoformat() and detail["cuts"]["spend_quartile"] == [100.0, 1000.0, 2000.0]
    runs = world.execute(world.table("runs"))
    assert list(runs.step) == ["tags"] and list(runs.status) == ["ok"]


def test_reasons_in_chinese(world, library):
    build_tags(world, as_of=AS_OF, library=library, language="zh")
    got = _tags(world)
    assert got["buyer"]["p1"] == (None, "共 5 单")
    assert got["spend_band"]["p6"] == ("medium", "monetary_total = 100.00，medium 档")


def test_catalogue_and_tags_of(world, library):
    build_tags(world, as_of=AS_OF, library=library)
    infos = {i.name: i for i in catalogue(world, library)}
    assert infos["spend_band"].values == {"small": 2, "medium": 1, "large": 1, "huge": 2}
    assert infos["spend_band"].profiles == 6 and infos["spend_band"].share == 1.0
    assert infos["hot_churn"].values == {"yes": 2}
    assert infos["beauty_not_apparel"].profiles == 2 and infos["beauty_not_apparel"].share == pytest.approx(1 / 3)
    assert infos["likely_buyer"].profiles == 0 and infos["likely_buyer"].cuts is None
    assert infos["spend_quartile"].cuts == [100.0, 1000.0, 2000.0]
    assert [i.name for i in catalogue(world, library, family="predictions")] == [
        "churn", "hot_churn", "likely_buyer", "rescue"]
    mine = tags_of(world, "p3", library)
    assert [(t["tag"], t["value"]) for t in mine] == [
        ("beauty_not_apparel", None), ("buyer", None), ("due_soon", None), ("spend_band", "small"),
        ("spend_quartile", "q1"), ("churn", "medium")]
    assert mine[0]["label"] == "Beauty not apparel" and mine[-1]["family"] == "predictions"
    assert tags_of(world, "nobody", library) == []


def test_features_at_another_moment_are_refused(world, library):
    with pytest.raises(JingzhunError, match="profile_features describe 2024-06-30"):
        build_tags(world, as_of=LATER, library=library)
    assert world.count("tags") == 0 and world.count("runs") == 0


RECENT = """
  - name: recent
    family: consumption
    label: {zh: 近期, en: Recent}
    description: {zh: 30 天内买过, en: Bought in the last 30 days}
    rule: "recency_days < 30"
"""


def _naive(ts) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_convert(None) if ts.tzinfo is not None else ts


def test_history_across_builds(world, tmp_path):
    """Between the two builds p4 buys for the first time, p3 makes a big purchase, p1 and p6 stop buying."""
    path = tmp_path / "with_recent.yaml"
    path.write_text(LIBRARY + RECENT, encoding="utf-8")
    library = load_library(files=[path], builtin=False, catalog=Catalog.from_warehouse(world))
    build_tags(world, as_of=AS_OF, library=library)
    first = _history(world)
    assert {c for _, _, c, _, _ in first} == {"gained"}
    assert {p for p, t, *_ in first if t == "recent"} == {"p1", "p6"}

    later = {pid: dict(values) for pid, values in FEATURES.items()}
    later["p4"].update(frequency=1, monetary_total=150.0, recency_days=5)
    later["p3"].update(frequency=2, monetary_total=2100.0, recency_days=2)
    later["p1"].update(recency_days=41)
    later["p6"].update(recency_days=31)
    world.replace("profile_features", feature_rows(later, LATER))
    result = build_tags(world, as_of=LATER, library=library)
    # quartile cuts move to 150, 1000, 2000 (buyers 100, 150, 1000, 2000, 2100, 2500): p5 and p2 keep theirs
    assert result.cuts["spend_quartile"] == [150.0, 1000.0, 2000.0]
    assert _history(world) - first == {
        ("p4", "buyer", "gained", None, None),
        ("p3", "big_spender", "gained", None, None),
        ("p4", "spend_band", "changed", "small", "medium"),
        ("p3", "spend_band", "changed", "small", "huge"),
        ("p4", "spend_quartile", "gained", None, "q2"),
        ("p6", "spend_quartile", "changed", "q2", "q1"),
        ("p3", "spend_quartile", "changed", "q1", "q4"),
        ("p3", "recent", "gained", None, None), ("p4", "recent", "gained", None, None),
        ("p1", "recent", "lost", None, None), ("p6", "recent", "lost", None, None),
    }
    assert (result.gained, result.lost, result.changed) == (5, 2, 4)
    assert result.previous_as_of == AS_OF.isoformat()

    h = tag_history(world, profile_id="p3")
    latest = h[h.as_of.map(_naive) == _naive(LATER)]
    assert set(latest.tag) == {"spend_band", "big_spender", "spend_quartile", "recent"}
    assert set(latest.previous_as_of.map(_naive)) == {_naive(AS_OF)}
    assert latest.reason[latest.tag == "big_spender"].iloc[0] == "monetary_total >= 2000"
    lost = tag_history(world, tag="recent")
    assert lost[lost.change == "lost"].reason.isna().all()
    per_build = tag_changes(world, "recent")
    assert [(int(r.gained), int(r.lost), int(r.changed)) for r in per_build.itertuples()] == [(2, 2, 0), (2, 0, 0)]

    # the same build again changes nothing
    before = world.count("tag_history")
    again = build_tags(world, as_of=LATER, library=library)
    assert (again.gained, again.lost, again.changed) == (0, 0, 0) and world.count("tag_history") == before

    # a tag taken out of the library leaves `tags` without history rows
    plain = tmp_path / "plain.yaml"
    plain.write_text(LIBRARY, encoding="utf-8")
    without = load_library(files=[plain], builtin=False, catalog=Catalog.from_warehouse(world))
    third = build_tags(world, as_of=LATER, library=without)
    assert third.dropped == ["recent"] and (third.gained, third.lost, third.changed) == (0, 0, 0)
    assert "recent" not in _tags(world) and world.count("tag_history") == before
