"""Campaign KPIs on the hand-built campaign of tests/measure/campaigns.py, every figure worked out by hand."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from jingzhun.errors import JingzhunError
from jingzhun.measure.kpis import campaign_kpis, conversion_curve
from jingzhun.measure.responses import link_responses
from jingzhun.warehouse import Warehouse
from tests.activation.conftest import pid
from tests.measure.campaigns import build_c1, day

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def c1_file(tmp_path_factory) -> Path:
    """Campaign c1 delivered and linked once, in a DuckDB file each DuckDB test works on a copy of."""
    root = tmp_path_factory.mktemp("c1")
    with Warehouse.duckdb(root / "c1.duckdb") as wh:
        wh.ensure_schema()
        build_c1(wh, root)
        link_responses(wh, "c1", at=day(30))
    return root / "c1.duckdb"


@pytest.fixture
def c1(engine, request, tmp_path):
    if engine == "duckdb":
        shutil.copy(request.getfixturevalue("c1_file"), tmp_path / "c1.duckdb")
        with Warehouse.duckdb(tmp_path / "c1.duckdb") as wh:
            yield wh
        return
    wh = request.getfixturevalue("warehouse")
    build_c1(wh, tmp_path)
    link_responses(wh, "c1", at=day(30))
    yield wh


def test_kpis_by_arm_equal_the_hand_worked_figures(c1):
    k = campaign_kpis(c1, "c1")
    t = k.table.set_index("arm")
    hand = {"A": (8, 7, 2, 1, 3, 1, 1, 240.0, 2.07, 0.375), "B": (8, 8, 0, 1, 2, 0, 0, 220.0, 2.4, 0.25),
            "control": (4, 0, 0, 0, 1, 1, 0, 50.0, 2.0, 0.25)}
    for arm in hand:
        row = t.loc[arm]
        got = (row.reach, row.delivered, row.opens, row.clicks, row.conversions, row.redemptions, row.visits,
               row.revenue, row.cost, row.conversion_rate)
        assert got == pytest.approx(hand[arm]), arm
    assert t.loc["A", "roi"] == pytest.approx((240 - 2.07) / 2.07)
    assert t.loc["A", "incremental_conversions"] == pytest.approx(1.0)
    assert t.loc["B", "incremental_conversions"] == pytest.approx(0.0)
    assert t.loc["A", "incremental_revenue"] == pytest.approx(140.0)
    assert t.loc["B", "incremental_revenue"] == pytest.approx(120.0)
    assert t.loc["A", "incremental_roi"] == pytest.approx((140 - 2.07) / 2.07)
    assert np.isnan(t.loc["control", "incremental_conversions"])


def test_intervals_and_p_values_are_those_of_the_tests_on_one_row_per_person(c1):
    k = campaign_kpis(c1, "c1")
    t = k.table.set_index("arm")
    # A: 3 of 8 against control's 1 of 4; small cells, so Fisher's exact test
    p = stats.fisher_exact([[3, 5], [1, 3]]).pvalue
    conv = [c for c in k.comparisons if c["arm"] == "A" and c["outcome"] == "conversion"][0]
    assert conv["p_value"] == pytest.approx(p) and conv["test"].startswith("Fisher")
    assert t.loc["A", "incremental_conversions_low"] == pytest.approx(conv["ci_low"] * 8)
    # revenue per person: Welch's t test on the people's revenues
    a = [100, 60, 80, 0, 0, 0, 0, 0]
    ctrl = [50, 0, 0, 0]
    welch = stats.ttest_ind(a, ctrl, equal_var=False)
    rev = [c for c in k.comparisons if c["arm"] == "A" and c["outcome"] == "revenue per person"][0]
    assert rev["p_value"] == pytest.approx(welch.pvalue)
    assert rev["diff"] == pytest.approx(np.mean(a) - np.mean(ctrl))
    # Holm across the four comparisons of the group
    ps = sorted(c["p_value"] for c in k.comparisons)
    assert min(c["p_adjusted"] for c in k.comparisons) == pytest.approx(min(1.0, 4 * ps[0]))
    assert all(" on conversion:" in d or " on revenue per person:" in d for d in k.decisions())
    assert k.sample_ratio["observed"] == {"A": 8, "B": 8, "control": 4}
    assert k.sample_ratio["p_value"] == pytest.approx(1.0)       # exactly the planned 40/40/20


def test_kpis_by_channel_and_offer_compare_with_the_groups_control_else_everyones(c1):
    by_channel = campaign_kpis(c1, "c1", ("channel",)).table.set_index(["channel", "arm"])
    assert by_channel.loc[("email", "A"), "control_scope"] == "group"
    assert by_channel.loc[("sms", "B"), "control_scope"] == "all"      # no control was planned on SMS
    assert by_channel.loc[("sms", "B"), "incremental_revenue"] == pytest.approx(120.0)
    assert by_channel.loc[("email", "control"), "reach"] == 4
    by_offer = campaign_kpis(c1, "c1", ("offer",)).table.set_index(["offer", "arm"])
    assert by_offer.loc[("coupon10", "A"), "redemptions"] == 1
    assert by_offer.loc[("points", "B"), "cost"] == pytest.approx(2.4)


def test_kpis_by_a_tag_group_people_by_its_value(c1):
    now = day(0)
    c1.append("tags", pd.DataFrame({"profile_id": [pid(i) for i in (0, 1, 4, 5, 6, 12)], "tag": "vip",
                                    "value": None, "as_of": now, "computed_at": now}))
    t = campaign_kpis(c1, "c1", ("segment", "vip")).table.set_index(["segment:vip", "arm"])
    # vip: control 0, 1 (1 conversion), A 4, 5, 6 (2 conversions: 160), B 12 (1 conversion, 20)
    assert t.loc[("yes", "A"), "reach"] == 3 and t.loc[("yes", "A"), "conversions"] == 2
    assert t.loc[("yes", "A"), "incremental_revenue"] == pytest.approx((160 / 3 - 25) * 3)
    assert t.loc[("without", "control"), "reach"] == 2 and t.loc[("without", "control"), "conversions"] == 0


def test_the_conversion_curve_counts_people_by_days_since_their_message(c1):
    curve = conversion_curve(c1, "c1").set_index(["arm", "day"])
    # A converts on days 1 (p4), 4 (p11), 5 (p5); B on 6 and 13; control on 2
    assert [curve.loc[("A", d), "conversions"] for d in (0, 1, 3, 4, 5, 14)] == [0, 1, 1, 2, 3, 3]
    assert [curve.loc[("B", d), "conversions"] for d in (5, 6, 12, 13)] == [0, 1, 1, 2]
    assert curve.loc[("control", 14), "rate"] == pytest.approx(0.25)


def test_an_unknown_campaign_or_dimension_is_an_error_that_says_what_exists(c1):
    with pytest.raises(JingzhunError, match="known: c1"):
        campaign_kpis(c1, "nope")
    with pytest.raises(JingzhunError, match="arm, channel, offer, segment"):
        campaign_kpis(c1, "c1", ("weather",))


def test_kpis_by_a_saved_segment_use_its_latest_snapshot(c1):
    from jingzhun.segment.saved import segment_id_of

    sid = segment_id_of("buyers")
    c1.append("segments", pd.DataFrame([{"segment_id": sid, "name": "buyers", "definition": "true", "kind": "audience",
                                         "fingerprint": "f", "created_at": day(-9)}]))
    old = [pid(i) for i in range(20)]                      # an earlier snapshot with everyone: not used
    new = [pid(i) for i in (0, 1, 2, 4, 5, 12, 13)]
    c1.append("segment_members", pd.DataFrame({"segment_id": sid, "profile_id": old + new,
                                               "snapshot_at": [day(-9)] * 20 + [day(-1)] * 7}))
    t = campaign_kpis(c1, "c1", ("segment", "buyers")).table.set_index(["segment:buyers", "arm"])
    assert t.loc[("in", "control"), "reach"] == 3 and t.loc[("in", "A"), "conversions"] == 2
    assert t.loc[("in", "B"), "revenue"] == pytest.approx(220.0)
    assert t.loc[("out", "A"), "reach"] == 6 and t.loc[("out", "A"), "conversions"] == 1   # p11
    with pytest.raises(JingzhunError, match="no saved segment"):
        campaign_kpis(c1, "c1", ("segment", "nobody"))
