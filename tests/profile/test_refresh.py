"""Incremental refresh gives the table a full build gives, on DuckDB and PySpark."""

from __future__ import annotations

import pandas as pd

from jingzhun.profile import build_features, last_state
from tests.profile.conftest import AS_OF, IDENTITY, event, frame, identity_frame, line, order, read_features


def _full_equals_incremental(wh, *, as_of) -> pd.DataFrame:
    inc = read_features(wh)
    result = build_features(wh, as_of=as_of, full=True)
    assert result.mode == "full"
    full = read_features(wh)
    pd.testing.assert_frame_equal(inc, full, check_dtype=False, check_exact=False, rtol=1e-12)
    return full


def test_incremental_equals_full_after_new_data_and_identity_changes(shop):
    first = build_features(shop, as_of=AS_OF)
    assert first.mode == "full" and first.reason == "no previous feature build"
    assert last_state(shop)["loads"]["orders"] == ["l1"]

    nothing = build_features(shop, as_of=AS_OF)
    assert (nothing.mode, nothing.recomputed, nothing.removed) == ("incremental", 0, 0)

    # a new load: pB buys again and opens an e-mail; a new person pD appears with an order
    shop.append("orders", frame([
        order("o8", "2024-02-27 20:00", amount=30.0, n_lines=1, user_id="u2", load_id="l2"),
        order("o9", "2024-02-26 11:00", amount=15.0, n_lines=1, phone="ph4", load_id="l2"),
    ]))
    shop.append("order_lines", frame([line("o8", 1, "P3", 1, 30.0, load_id="l2"),
                                      line("o9", 1, "P2", 1, 15.0, load_id="l2")]))
    shop.append("events", frame([event("2024-02-27 21:00", name="Email Opened", email="e2", load_id="l2")]))
    # identity: pC disappears (its anonymous id joins pA), pD appears
    identity = [r for r in IDENTITY if r[2] != "pC"] + [("anonymous_id", "a3", "pA", False),
                                                       ("phone", "ph4", "pD", False)]
    shop.replace("identity_map", identity_frame(identity))

    result = build_features(shop, as_of=AS_OF)
    assert result.mode == "incremental"
    assert result.recomputed == 3  # pA (one more identifier), pB (new rows), pD (new)
    assert result.removed == 1  # pC
    full = _full_equals_incremental(shop, as_of=AS_OF)
    rows = full.set_index("profile_id")
    assert list(rows.index) == ["pA", "pB", "pD"]
    assert rows.loc["pB", "frequency"] == 2 and rows.loc["pB", "repurchase_cycle_days"] == 7.0
    assert rows.loc["pA", "hour_22"] == 1  # pC's page view now belongs to pA


def test_incremental_at_a_later_as_of_equals_full(shop):
    build_features(shop, as_of="2024-02-15T00:00:00Z")
    # o4 (2024-03-01 08:00) was loaded already but lay after the first as_of: moving as_of brings it in
    result = build_features(shop, as_of="2024-03-02T00:00:00Z")
    assert result.mode == "incremental"
    full = _full_equals_incremental(shop, as_of="2024-03-02T00:00:00Z")
    rows = full.set_index("profile_id")
    assert rows.loc["pA", "frequency"] == 4 and rows.loc["pA", "recency_days"] == 0
    assert rows.loc["pB", "recency_days"] == 10  # recomputed by moving as_of (pB touched by its new rows too)


def test_new_store_data_forces_a_full_build(shop):
    build_features(shop, as_of=AS_OF)
    shop.append("stores", frame([{"source": "shop", "store_id": "S3", "latitude": 31.2201, "longitude": 121.4601}],
                                load_id="l3", quality_flags=""))
    result = build_features(shop, as_of=AS_OF)
    assert result.mode == "full" and "store" in result.reason
    assert read_features(shop).set_index("profile_id").loc["pA", "nearest_store_id"] == "S3"
