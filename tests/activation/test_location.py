"""Location selections against a direct computation: numpy haversine over every home and every store.

The world is simulated (20,000 customers in ten cities) and built by the pipeline (load, identity,
features), so homes are what the feature build makes of messy customer records. The reference reads the
same homes and stores and measures every pair in numpy, with no pruning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from jingzhun.activation.location import (LocationError, homes, in_area, near_point, near_store, nearest_store,
                                          store_catchment)
from jingzhun.config import Settings
from jingzhun.pipeline import load_source
from jingzhun.pipeline.build import build
from jingzhun.pipeline.demo import write_simulation
from jingzhun.warehouse import Warehouse

R = 6371.0088
STORE_SETS = [["S0001"], ["S0001", "S0005"], ["S0002", "S0003", "S0004", "S0010"]]
RADII = [0.5, 3.0, 10.0, 40.0]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A DuckDB warehouse with 20,000 simulated customers and their stores, identities and features."""
    root = tmp_path_factory.mktemp("geo_world")
    mapping = write_simulation(root / "world", customers=20_000, seed=3)
    spec = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    spec["files"] = [f for f in spec["files"] if f["table"] in ("customers", "stores")]
    mapping.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    wh = Warehouse.duckdb(root / "w.duckdb")
    wh.ensure_schema()
    settings = Settings()
    load_source(wh, mapping, secret="ab" * 32, settings=settings)
    build(wh, settings, steps=["identity", "features"], as_of="2025-01-01T00:00:00Z")
    yield wh
    wh.close()


@pytest.fixture(scope="module")
def reference(world):
    """(homes, stores, km): every home against every store, in numpy."""
    pf = world.execute(world.table("profile_features").select("profile_id", "home_latitude", "home_longitude"))
    h = pf.dropna().sort_values("profile_id").reset_index(drop=True)
    s = world.execute(world.table("stores").select("store_id", "latitude", "longitude"))
    s = s.dropna().groupby("store_id", as_index=False).mean().sort_values("store_id").reset_index(drop=True)
    km = _haversine(h.home_latitude.to_numpy()[:, None], h.home_longitude.to_numpy()[:, None],
                    s.latitude.to_numpy()[None, :], s.longitude.to_numpy()[None, :])
    return h, s, km


def _haversine(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin(np.radians(lat2 - lat1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * R * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _expected_nearest(reference, store_ids=None, km=None) -> pd.DataFrame:
    h, s, dist = reference
    cols = np.arange(len(s)) if store_ids is None else np.flatnonzero(s.store_id.isin(store_ids))
    d = dist[:, cols]
    best = d.argmin(axis=1)  # stores are sorted by id: the first minimum is the smallest id
    out = pd.DataFrame({"profile_id": h.profile_id, "store_id": s.store_id.to_numpy()[cols][best],
                        "distance_km": d[np.arange(len(h)), best]})
    if km is not None:
        out = out[out.distance_km <= km]
    return out.sort_values("profile_id").reset_index(drop=True)


def _got(wh, expr) -> pd.DataFrame:
    return wh.execute(expr).sort_values("profile_id").reset_index(drop=True)


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.profile_id) == list(expected.profile_id)
    if "store_id" in expected:
        assert list(got.store_id) == list(expected.store_id)
    np.testing.assert_allclose(got.distance_km.to_numpy(), expected.distance_km.to_numpy(), rtol=0, atol=1e-9)


def test_the_world_has_homes_and_stores(reference):
    h, s, _ = reference
    assert len(h) > 10_000 and len(s) == 10  # 12,254 of 20,014 profiles have a home


@pytest.mark.parametrize("store_ids", STORE_SETS)
def test_near_store_equals_a_direct_haversine(world, reference, store_ids):
    sizes = []
    for km in RADII:
        expected = _expected_nearest(reference, store_ids, km)
        _same(_got(world, near_store(world, store_ids, km)), expected)
        sizes.append(len(expected))
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1] and sizes[-1] > 500  # the radii do select


def test_nearest_store_and_catchments_equal_a_direct_haversine(world, reference):
    expected = _expected_nearest(reference)
    _same(_got(world, nearest_store(world)), expected)
    pieces = []
    for store_id in reference[1].store_id:
        got = _got(world, store_catchment(world, store_id))
        _same(got, expected[expected.store_id == store_id].reset_index(drop=True))
        pieces.append(got)
    assert sum(len(p) for p in pieces) == len(expected)  # every home in exactly one catchment
    # the feature build's nearest store is the same store at the same distance
    pf = _got(world, world.table("profile_features").filter(lambda t: t.nearest_store_id.notnull())
              .select("profile_id", store_id="nearest_store_id", distance_km="nearest_store_km"))
    _same(pf, expected)


@pytest.mark.parametrize("point", [(31.2304, 121.4737), (39.9042, 116.4074), (30.0, 120.0)])
def test_near_point_equals_a_direct_haversine(world, reference, point):
    h, _, _ = reference
    d = _haversine(h.home_latitude.to_numpy(), h.home_longitude.to_numpy(), *point)
    for km in RADII:
        keep = d <= km
        expected = pd.DataFrame({"profile_id": h.profile_id[keep], "distance_km": d[keep]}).reset_index(drop=True)
        _same(_got(world, near_point(world, *point, km)), expected)


def _winding_inside(lat, lon, corners) -> np.ndarray:
    """Inside by the winding number (an independent rule from the engine's even-odd crossings)."""
    total = np.zeros(len(lat))
    for (y1, x1), (y2, x2) in zip(corners, corners[1:] + corners[:1]):
        a1 = np.arctan2(y1 - lat, x1 - lon)
        a2 = np.arctan2(y2 - lat, x2 - lon)
        total += (a2 - a1 + np.pi) % (2 * np.pi) - np.pi
    return np.abs(total) > np.pi


def test_a_concave_polygon_over_shanghai_equals_the_winding_number(world, reference):
    h, _, _ = reference
    # a "C" open to the east over central Shanghai: concave, eight corners
    corners = [(31.10, 121.30), (31.10, 121.60), (31.16, 121.60), (31.16, 121.40), (31.30, 121.40),
               (31.30, 121.60), (31.36, 121.60), (31.36, 121.30)]
    inside = _winding_inside(h.home_latitude.to_numpy(), h.home_longitude.to_numpy(), corners)
    got = _got(world, in_area(world, corners))
    assert list(got.profile_id) == list(h.profile_id[inside])
    assert 50 < inside.sum() < len(h) / 2
    mouth = (h.home_latitude.between(31.17, 31.29) & h.home_longitude.between(121.41, 121.59)).sum()
    assert mouth > 0 and not set(h.profile_id[h.home_latitude.between(31.17, 31.29)
                                              & h.home_longitude.between(121.41, 121.59)]) & set(got.profile_id)


def test_city_and_region_areas(world):
    pf = world.execute(world.table("profile_features").select("profile_id", "city", "region"))
    got = _got(world, in_area(world, city="上海"))
    assert list(got.profile_id) == sorted(pf.profile_id[pf.city == "上海"])
    got = _got(world, in_area(world, region=["广东省", "浙江省"]))
    assert list(got.profile_id) == sorted(pf.profile_id[pf.region.isin(["广东省", "浙江省"])])
    assert len(got) > 0


def _hand_world(wh, points: dict[str, tuple[float, float]]) -> None:
    wh.append("profile_features", pd.DataFrame({
        "profile_id": list(points), "as_of": pd.Timestamp("2024-01-01", tz="UTC"), "n_identifiers": 1, "n_records": 1,
        "frequency": 0, "purchase_days": 0, "monetary_total": 0.0, "returns": 0, "returned_amount": 0.0,
        "n_categories": 0, "n_brands": 0, **{f"hour_{h:02d}": 0 for h in range(24)},
        **{f"weekday_{d}": 0 for d in range(7)}, "n_events": 0, "events_90d": 0, "email_opened_90d": 0,
        "email_clicked_90d": 0, "push_opened_90d": 0, "sms_clicked_90d": 0,
        "home_latitude": [p[0] for p in points.values()], "home_longitude": [p[1] for p in points.values()]}))


def test_polygon_by_hand_with_points_on_edges_and_corners(warehouse):
    # an L: the unit square [0, 2] x [0, 2] without its top-right quarter (lat 1..2, lon 1..2)
    L = [(0, 0), (0, 2), (1, 2), (1, 1), (2, 1), (2, 0)]
    points = {
        "in_foot": (0.5, 1.5), "in_stem": (1.5, 0.5), "in_corner": (0.5, 0.5),
        "out_notch": (1.5, 1.5),          # the missing quarter: inside the bounding box, outside the L
        "out_far": (3.0, 3.0), "out_west": (0.5, -0.1),
        "on_edge": (0.0, 1.0),            # on the bottom edge
        "on_notch_edge": (1.5, 1.0),      # on the inner vertical edge of the notch
        "on_corner": (1.0, 1.0),          # the concave corner
        "on_outer_corner": (2.0, 0.0),
        "just_out": (1.5, 1.0 + 1e-6),    # 0.1 m into the notch
        "level_with_corner": (1.0, 0.5),  # the ray passes exactly through the corner (1, 1)
    }
    _hand_world(warehouse, points)
    got = set(warehouse.execute(in_area(warehouse, L)).profile_id)
    assert got == {"in_foot", "in_stem", "in_corner", "on_edge", "on_notch_edge", "on_corner", "on_outer_corner",
                   "level_with_corner"}
    # the same polygon the other way round and closed gives the same people
    assert set(warehouse.execute(in_area(warehouse, L[::-1] + [L[-1]])).profile_id) == got


@pytest.mark.spark
def test_pyspark_equals_duckdb(world, spark_session):
    spark = Warehouse.spark(spark_session, database="geo_parity")
    spark.ensure_schema()
    spark.append("profile_features", world.execute(world.table("profile_features")))
    spark.append("stores", world.execute(world.table("stores")))
    corners = [(31.10, 121.30), (31.10, 121.60), (31.16, 121.60), (31.16, 121.40), (31.30, 121.40),
               (31.30, 121.60), (31.36, 121.60), (31.36, 121.30)]
    cases = [lambda wh: near_store(wh, ["S0001", "S0005"], 10.0), lambda wh: nearest_store(wh),
             lambda wh: store_catchment(wh, "S0003"), lambda wh: near_point(wh, 31.2304, 121.4737, 5.0),
             lambda wh: in_area(wh, corners), lambda wh: in_area(wh, city="上海")]
    for case in cases:
        duck, sp = _got(world, case(world)), _got(spark, case(spark))
        assert len(duck) > 0
        pd.testing.assert_frame_equal(duck, sp, check_dtype=False, rtol=0, atol=1e-9)


def test_errors_say_what_is_wrong(world):
    with pytest.raises(LocationError, match="no store 'S9999'"):
        near_store(world, ["S0001", "S9999"], 5)
    with pytest.raises(LocationError, match="no store 'S9999'"):
        store_catchment(world, "S9999")
    with pytest.raises(LocationError, match="radius"):
        near_store(world, ["S0001"], -1)
    with pytest.raises(LocationError, match="latitude -90..90"):
        near_point(world, 121.47, 31.23, 5)
    with pytest.raises(LocationError, match="exactly one area"):
        in_area(world, [(0, 0), (0, 1), (1, 1)], city="上海")
    with pytest.raises(LocationError, match="at least 3 different corners"):
        in_area(world, [(0, 0), (0, 1), (0, 0)])
    with pytest.raises(LocationError, match="corner 1"):
        in_area(world, [(0, 0), (0, 200), (1, 1)])
    assert world.execute(homes(world).count()) > 0
