"""Every feature on the hand-built shop (conftest.py), worked out by hand, on DuckDB and PySpark."""

from __future__ import annotations

import math
import uuid

import pandas as pd
import pytest

from jingzhun.errors import ConfigError
from jingzhun.profile import build_features
from jingzhun.warehouse import Warehouse
from tests.profile.conftest import AS_OF, load_shop, read_features


def _haversine(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


EXPECTED = {
    "pA": {
        "n_identifiers": 3, "n_records": 2,
        "first_purchase_at": pd.Timestamp("2024-01-01 10:00"), "last_purchase_at": pd.Timestamp("2024-01-31 15:00"),
        "recency_days": 29, "frequency": 3, "purchase_days": 3, "monetary_total": 240.0, "monetary_mean": 80.0,
        "avg_order_value": 80.0, "customer_since": pd.Timestamp("2023-12-01"), "tenure_days": 91,
        "interpurchase_mean_days": 15.0, "interpurchase_sd_days": math.sqrt(50.0),
        "returns": 1, "return_rate": 1 / 3, "returned_amount": 50.0,
        "discount_share": 1 / 3, "coupon_share": 1 / 3, "mean_discount_rate": 0.1 / 3,
        "mean_lines": 4 / 3, "mean_units": 7 / 3,
        "repurchase_cycle_days": 10.0, "next_repurchase_at": pd.Timestamp("2024-01-21 10:30"),
        "repurchase_due_days": -(39 + 13.5 / 24),
        "top_category": "美妆", "top_category_share": 0.625, "n_categories": 2, "category_shares": "服饰:0.375;美妆:0.625",
        "top_brand": "X", "top_brand_share": 0.625, "n_brands": 2,
        "share_web": 1 / 3, "share_app": 1 / 3, "share_store": 1 / 3, "share_wechat": 0.0, "share_marketplace": 0.0,
        "hour_10": 4, "hour_15": 1, "hour_21": 0, "hour_03": 0, "hour_04": 0, "peak_hour": 10,
        "weekday_0": 1, "weekday_2": 1, "weekday_3": 1, "weekday_5": 1, "weekday_6": 1, "peak_weekday": 0,
        "n_events": 2, "events_90d": 2, "email_opened_90d": 1, "email_clicked_90d": 0, "push_opened_90d": 1,
        "sms_clicked_90d": 0,
        "home_latitude": 31.22, "home_longitude": 121.46, "nearest_store_id": "S1",
        "nearest_store_km": _haversine(31.22, 121.46, 31.23, 121.47), "top_store_id": "S1",
        "top_store_km": _haversine(31.22, 121.46, 31.23, 121.47),
        "gender": "F", "age": 33, "age_band": "25-34", "city": "上海", "region": "上海市", "constellation": "aries",
        "education": "本科", "occupation": None, "marital_status": None,
    },
    "pB": {
        "n_identifiers": 2, "n_records": 1, "recency_days": 9, "frequency": 1, "purchase_days": 1,
        "monetary_total": 200.0, "avg_order_value": 200.0, "customer_since": pd.Timestamp("2024-02-20 08:00"),
        "tenure_days": 9, "interpurchase_mean_days": None, "interpurchase_sd_days": None,
        "returns": 0, "return_rate": 0.0, "discount_share": 1.0, "coupon_share": 0.0, "mean_discount_rate": 0.2,
        "mean_units": 4.0, "repurchase_cycle_days": None, "next_repurchase_at": pd.Timestamp("2024-03-01 09:00"),
        "repurchase_due_days": 0.375, "top_category": "食品", "category_shares": "食品:1.000", "share_wechat": 1.0,
        "hour_09": 2, "peak_hour": 9, "weekday_1": 1, "weekday_6": 1, "peak_weekday": 1,
        "n_events": 1, "events_90d": 1, "email_clicked_90d": 1,
        "home_latitude": None, "nearest_store_id": None, "top_store_id": None,
        "gender": "M", "age": 17, "age_band": "<18", "constellation": "taurus",
    },
    "pC": {
        "n_identifiers": 1, "n_records": 0, "first_purchase_at": None, "recency_days": None, "frequency": 0,
        "purchase_days": 0, "monetary_total": 0.0, "avg_order_value": None, "tenure_days": None, "returns": 0,
        "return_rate": None, "top_category": None, "n_categories": 0, "hour_22": 1, "peak_hour": 22,
        "weekday_2": 1, "peak_weekday": 2, "n_events": 1, "events_90d": 1, "email_opened_90d": 1, "gender": None, "age": None,
    },
}


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def check_expected(df: pd.DataFrame) -> None:
    assert list(df.profile_id) == ["pA", "pB", "pC"]  # the shared device is nobody's profile
    rows = df.set_index("profile_id")
    for pid, expected in EXPECTED.items():
        for col, want in expected.items():
            got = rows.loc[pid, col]
            if want is None:
                assert _missing(got), f"{pid}.{col}: expected null, got {got!r}"
            elif isinstance(want, float):
                assert got == pytest.approx(want, rel=1e-9, abs=1e-12), f"{pid}.{col}"
            else:
                assert got == want, f"{pid}.{col}: expected {want!r}, got {got!r}"
    assert (df.as_of == pd.Timestamp("2024-03-01")).all()
    assert rows.loc["pA", "birth_date"].isoformat() == "1990-03-25"


def test_every_feature_by_hand(shop):
    result = build_features(shop, as_of=AS_OF)
    assert result.mode == "full" and result.profiles == 3
    check_expected(read_features(shop))


def test_local_time_zone_moves_hours_and_days(shop):
    build_features(shop, as_of=AS_OF, timezone="Asia/Shanghai")  # UTC+8
    rows = read_features(shop).set_index("profile_id")
    assert rows.loc["pA", "hour_18"] == 4 and rows.loc["pA", "peak_hour"] == 18
    assert rows.loc["pC", "hour_06"] == 1 and rows.loc["pC", "weekday_3"] == 1  # Thursday morning in Shanghai


def test_as_of_is_required_and_checked(shop):
    with pytest.raises(ConfigError):
        build_features(shop, as_of=None)
    with pytest.raises(ConfigError):
        build_features(shop, as_of="yesterday")
    with pytest.raises(ConfigError):
        build_features(shop, as_of=AS_OF, timezone="Mars/Olympus")


def test_an_earlier_as_of_sees_less(shop):
    build_features(shop, as_of="2024-01-20T00:00:00Z")
    rows = read_features(shop).set_index("profile_id")
    assert rows.loc["pA", "frequency"] == 2 and rows.loc["pA", "recency_days"] == 8
    assert rows.loc["pB", "frequency"] == 0 and _missing(rows.loc["pB", "customer_since"])
    assert rows.loc["pA", "age"] == 33 and rows.loc["pA", "events_90d"] == 0


@pytest.mark.spark
def test_identical_on_duckdb_and_pyspark(spark_session, tmp_path):
    frames = []
    for wh in (Warehouse.duckdb(tmp_path / "w.duckdb"),
               Warehouse.spark(spark_session, database=f"t_{uuid.uuid4().hex[:10]}")):
        try:
            wh.ensure_schema()
            load_shop(wh)
            build_features(wh, as_of=AS_OF, timezone="Asia/Shanghai")
            frames.append(read_features(wh))
        finally:
            wh.close()
    duck, spark = frames
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False, check_exact=False, rtol=1e-12)
