"""The shortcuts the feature build takes for speed give the answers of the plain way.

* the nearest store, searched among each home cell's candidate stores, is the nearest of all stores
  (checked against a brute-force search in plain Python);
* a leaf's typical repurchase cycle comes from the catalogue, and new catalogue rows refresh every buyer
  of the leaf, so an incremental build still equals a full one.
"""

from __future__ import annotations

import math
import random

import pandas as pd

from jingzhun.profile import build_features
from jingzhun.profile.geo import CELL_DEGREES, store_features
from tests.profile.conftest import AS_OF, frame, line, order, read_features


def _km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def test_nearest_store_equals_brute_force(warehouse):
    rng = random.Random(7)
    # stores in two clusters and a few far away; homes around them, many on cell borders
    stores = [{"source": "s", "store_id": f"S{i:03d}", "latitude": c[0] + rng.uniform(-0.3, 0.3),
               "longitude": c[1] + rng.uniform(-0.3, 0.3), "load_id": "l1", "quality_flags": ""}
              for i, c in enumerate([(31.2, 121.5)] * 30 + [(39.9, 116.4)] * 30 + [(23.1, 113.3), (-33.9, 151.2)])]
    homes = []
    for i in range(1500):
        lat, lon = rng.choice([(31.2, 121.5), (39.9, 116.4), (30.0, 120.0)])
        lat, lon = lat + rng.uniform(-0.6, 0.6), lon + rng.uniform(-0.6, 0.6)
        if i % 3 == 0:  # on a cell border
            lat = round(lat / CELL_DEGREES) * CELL_DEGREES
        homes.append({"profile_id": f"p{i}", "home_latitude": lat, "home_longitude": lon})
    warehouse.append("stores", pd.DataFrame(stores))
    h = warehouse.stage(pd.DataFrame(homes))
    buys = warehouse.stage(pd.DataFrame({"profile_id": ["p0"], "store_id": ["S000"]}))
    got = warehouse.execute(store_features(h, buys, warehouse.table("stores"))).set_index("profile_id")
    assert len(got) == len(homes)
    for home in homes:
        dist = {s["store_id"]: _km(home["home_latitude"], home["home_longitude"], s["latitude"], s["longitude"])
                for s in stores}
        best = min(dist, key=dist.get)
        row = got.loc[home["profile_id"]]
        assert row.nearest_store_id == best, home
        assert math.isclose(row.nearest_store_km, dist[best], rel_tol=1e-9)


def test_new_catalogue_rows_refresh_every_buyer_of_the_leaf(shop):
    # pB buys the face cream P1 once: no cycle of their own, so the leaf's typical cycle decides
    shop.append("orders", frame([order("o10", "2024-01-10 10:00", amount=30.0, n_lines=1, user_id="u2")]))
    shop.append("order_lines", frame([line("o10", 1, "P1", 1, 30.0)]))
    build_features(shop, as_of=AS_OF)
    rows = read_features(shop).set_index("profile_id")
    assert rows.loc["pB", "next_repurchase_at"] == pd.Timestamp("2024-02-09 10:00")  # P1's 30 days

    # a second face cream arrives in the catalogue (nobody bought it): the leaf's typical cycle is now 40 days
    shop.append("products", frame([{"source": "shop", "product_id": "P4", "category": "美妆",
                                    "category_path": "美妆 > 护肤 > 面霜", "brand": "Z", "is_consumable": True,
                                    "repurchase_days": 50.0}], load_id="l2", quality_flags=""))
    result = build_features(shop, as_of=AS_OF)
    assert result.mode == "incremental" and result.recomputed >= 1
    incremental = read_features(shop)
    assert incremental.set_index("profile_id").loc["pB", "next_repurchase_at"] == pd.Timestamp("2024-02-19 10:00")
    build_features(shop, as_of=AS_OF, full=True)
    pd.testing.assert_frame_equal(incremental, read_features(shop), check_dtype=False, check_exact=False,
                                  rtol=1e-12)
