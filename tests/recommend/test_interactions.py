"""Interactions from the warehouse against the hand-worked shop (tests/recommend/shop.py), both engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jingzhun.errors import InputError
from jingzhun.recommend import attach_groups, interaction_table, load_interactions, time_split
from tests.recommend.shop import AS_OF


def _pairs(wh) -> pd.DataFrame:
    df = wh.execute(interaction_table(wh, end=AS_OF).drop("first_at", "last_at"))
    return df.sort_values(["profile_id", "product_id"]).set_index(["profile_id", "product_id"])


def test_pairs_weights_and_purchase_state(shop):
    got = _pairs(shop)
    assert list(got.index) == [("pA", "P1"), ("pA", "P2"), ("pB", "P2"), ("pB", "P4"), ("pB", "P5"),
                               ("pC", "P1"), ("pC", "P2"), ("pC", "P6"), ("pD", "P4"), ("pD", "P7")]
    assert got.loc[("pA", "P1"), "orders"] == 2  # two orders, one unit each
    assert got.loc[("pA", "P2"), "orders"] == 1  # two units in one order count once
    # days since the last purchase, to as_of 2024-03-01 00:00 UTC
    assert got.loc[("pA", "P2"), "days_since"] == pytest.approx(40 + 14 / 24)
    assert got.loc[("pB", "P2"), "days_since"] == pytest.approx(9 + 14 / 24)
    due = got["due"].astype(bool)
    assert set(due[due].index) == {("pA", "P2")}  # 40.6 days on a 30-day cycle; pB too early, pC too late
    durable = got["durable"].astype(bool)
    assert set(durable[~durable].index) == {("pA", "P2"), ("pB", "P2"), ("pC", "P2"), ("pD", "P7")}


def test_matrix_lines_up_with_the_pairs(shop):
    inter = load_interactions(shop, end=AS_OF)
    assert list(inter.users) == ["pA", "pB", "pC", "pD"]
    assert list(inter.items) == ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]  # the whole catalogue
    dense = inter.matrix.toarray()
    assert dense[0].tolist() == [2, 1, 0, 0, 0, 0, 0]
    assert dense[2].tolist() == [1, 1, 0, 0, 0, 1, 0]
    assert inter.due.tolist() == [False, True, False, False, False, False, False, False, False, False]
    assert inter.catalogue.loc["P6", "in_stock"] == False  # noqa: E712
    assert inter.user_index(["pC", "nobody"]).tolist() == [2, -1]
    # price bands are quintiles within the category: 眼镜 has P2 (40) < P1 (300)
    assert inter.catalogue.loc["P2", "price_band"] < inter.catalogue.loc["P1", "price_band"]


def test_time_split_windows_do_not_overlap(shop):
    split = time_split(shop, "2024-02-15T00:00:00Z", AS_OF)
    assert list(split.train.users) == ["pA", "pC", "pD"]
    assert split.test.matrix.sum() == 0  # pB bought only after the cut-off, and is not in training
    later = time_split(shop, "2024-01-15T00:00:00Z", "2024-03-10T00:00:00Z")
    train, test = later.train.matrix.toarray(), later.test.matrix.toarray()
    assert list(later.train.users) == ["pA", "pC"]
    assert train[0].tolist() == [1, 0, 0, 0, 0, 0, 0] and test[0].tolist() == [1, 1, 0, 0, 0, 0, 0]
    assert np.array_equal(later.train.items, later.test.items)


def test_interactions_need_an_end_or_as_of(shop):
    with pytest.raises(InputError, match="as_of"):
        interaction_table(shop)


def test_groups_from_features_and_segments(shop):
    now = pd.Timestamp("2024-03-01", tz="UTC")
    shop.append("profile_features", pd.DataFrame({
        "profile_id": ["pA", "pB", "pC"], "as_of": now, "n_identifiers": 1, "n_records": 1, "frequency": 1,
        "purchase_days": 1, "monetary_total": 1.0, "returns": 0, "returned_amount": 0.0, "n_categories": 1,
        "n_brands": 1, "n_events": 0, "events_90d": 0, "email_opened_90d": 0, "email_clicked_90d": 0,
        "push_opened_90d": 0, "sms_clicked_90d": 0, **{f"hour_{h:02d}": 0 for h in range(24)},
        **{f"weekday_{d}": 0 for d in range(7)}, "city": ["上海", "北京", "上海"]}))
    shop.append("segments", pd.DataFrame({
        "segment_id": ["s1", "s2"], "name": ["champions", "at_risk"], "definition": "x", "kind": ["rfm", "rfm"],
        "fingerprint": "f", "created_at": now}))
    shop.append("segment_members", pd.DataFrame({
        "segment_id": ["s1", "s2", "s2", "s1"], "profile_id": ["pA", "pB", "pA", "pD"],
        "snapshot_at": [now - pd.Timedelta(days=30), now, now, now]}))
    inter = load_interactions(shop, end=AS_OF)
    attach_groups(shop, inter, "city")
    attach_groups(shop, inter, "segment")
    assert list(inter.groups["city"]) == ["上海", "北京", "上海", None]
    # pA left champions (an older snapshot) for at_risk
    assert list(inter.groups["segment"]) == ["at_risk", "at_risk", None, "champions"]
    with pytest.raises(InputError, match="profile_features"):
        attach_groups(shop, inter, "shoe_size")
