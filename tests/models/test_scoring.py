"""Scores as of a date: the BTYD summary against the pandas reference, scores in the audience language,
and the same scores on DuckDB and Spark."""

from __future__ import annotations

import uuid
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from jingzhun.models.btyd.data import summary_from_transactions
from jingzhun.models.frames import moment
from jingzhun.models.scoring import ScoreSettings, btyd_summary, score_all, score_btyd
from jingzhun.segment import Catalog, audience, context_from_warehouse
from jingzhun.warehouse import Warehouse

from tests.models.conftest import SIM_END, build_sim_shop

AS_OF = "2024-03-01T00:00:00Z"


def _order(order_id, at, user, amount, *, status="completed", is_return=False):
    return {"source": "shop", "order_id": order_id, "load_id": "l1", "quality_flags": "", "status": status,
            "ordered_at": pd.Timestamp(at, tz="UTC"), "is_return": is_return, "currency": "CNY", "amount": amount,
            "n_lines": 1, "user_id": user}


ORDERS = [
    _order("a1", "2024-01-01 10:00", "ua", 100.0), _order("a2", "2024-01-01 18:00", "ua", 20.0),  # one day
    _order("a3", "2024-01-15 09:00", "ua", 60.0), _order("a4", "2024-02-20 23:59", "ua", 30.0),
    _order("a5", "2024-01-20 09:00", "ua", -60.0, is_return=True),                  # a return: not a purchase
    _order("a6", "2024-03-01 00:00", "ua", 999.0),                                   # at as_of: not before it
    _order("b1", "2024-02-01 12:00", "ub", 80.0), _order("b2", "2024-02-10 12:00", "ub", 15.0, status="cancelled"),
    _order("c1", "2024-02-29 23:00", "uc", 0.0),                                      # free: not a purchase
    _order("c2", "2023-12-31 08:00", "uc", 42.0), _order("c3", "2024-02-29 22:00", "uc", 58.0),
]


def test_btyd_summary_matches_the_pandas_reference(warehouse):
    warehouse.append("orders", pd.DataFrame(ORDERS))
    warehouse.append("identity_map", pd.DataFrame({"kind": "user_id", "key": ["ua", "ub", "uc"],
                                                   "profile_id": ["pA", "pB", "pC"], "is_shared": False}))
    got = warehouse.execute(btyd_summary(warehouse, AS_OF)).set_index("profile_id").sort_index()
    orders = pd.DataFrame(ORDERS)
    purchases = orders[~orders.is_return & (orders.status != "cancelled") & (orders.amount > 0)
                       & (orders.ordered_at < pd.Timestamp(AS_OF))]
    purchases = purchases.assign(profile_id=purchases.user_id.map({"ua": "pA", "ub": "pB", "uc": "pC"}))
    want = summary_from_transactions(purchases, "profile_id", "ordered_at", monetary_col="amount",
                                     observation_end=moment(AS_OF) - timedelta(seconds=1))
    pd.testing.assert_frame_equal(got[want.columns], want.astype(float), check_names=False, rtol=1e-12)
    # by hand: pA bought on 01-01 (120), 01-15 (60), 02-20 (30): 2 repeat days, mean 45; T from 01-01 to 02-29
    assert got.loc["pA"].to_dict() == {"frequency": 2.0, "recency": 50 / 7, "T": 59 / 7, "monetary_value": 45.0}


@pytest.fixture
def scored_shop(shop, tmp_path):
    score_btyd(shop, SIM_END, directory=tmp_path / "models", settings=ScoreSettings(timezone="Asia/Shanghai"))
    return shop


@pytest.mark.parametrize("expression, score, test", [
    ("p_alive < 0.3", "p_alive", lambda v: v < 0.3),
    ("score('clv_12m') > 500", "clv_12m", lambda v: v > 500),
    ("p_alive >= 0.3 and score('expected_purchases_90d') > 0.5", None, None),
])
def test_scores_in_the_audience_language(scored_shop, expression, score, test):
    # the catalogue knows which scores exist, so a bare score name (p_alive) reads as score('p_alive')
    context = context_from_warehouse(scored_shop, as_of=SIM_END, catalog=Catalog.from_warehouse(scored_shop))
    members = set(scored_shop.execute(audience(expression, context)).profile_id)
    scores = scored_shop.execute(scored_shop.table("scores")).pivot(index="profile_id", columns="score",
                                                                    values="value")
    if score is None:
        want = set(scores.index[(scores.p_alive >= 0.3) & (scores.expected_purchases_90d > 0.5)])
    else:
        want = set(scores.index[test(scores[score])])
    assert members == want and 0 < len(members) < len(scores)


@pytest.fixture(scope="module")
def tiny_shop(tmp_path_factory):
    return build_sim_shop(tmp_path_factory.mktemp("tiny_shop"), 400, seed=5)[0]


_COPIED = ("orders", "order_lines", "products", "customers", "events", "stores", "identity_map", "profiles")


@pytest.mark.spark
def test_the_same_scores_on_duckdb_and_spark(tiny_shop, spark_session, tmp_path):
    settings = ScoreSettings(timezone="Asia/Shanghai", snapshots=1)
    with Warehouse.duckdb(tiny_shop) as duck:
        spark = Warehouse.spark(spark_session, database=f"t_{uuid.uuid4().hex[:10]}")
        spark.ensure_schema()
        for name in _COPIED:
            spark.append(name, duck.execute(duck.table(name)))
        runs = {}
        for engine, wh in (("duckdb", duck), ("pyspark", spark)):
            runs[engine] = score_all(wh, SIM_END, directory=tmp_path / engine, settings=settings)
            frame = wh.execute(wh.table("scores").select("profile_id", "score", "value", "reason"))
            runs[engine]["frame"] = frame.sort_values(["score", "profile_id"]).reset_index(drop=True)
        spark.close()
    duck_scores, spark_scores = runs["duckdb"]["frame"], runs["pyspark"]["frame"]
    assert set(duck_scores.score) == {"p_alive", "expected_purchases_90d", "next_purchase_days", "clv_12m",
                                      "p_buy_90d", "churn_risk", "send_hour", "send_weekday",
                                      *(f"response_{c}" for c in ("email", "sms", "push", "wechat", "direct_mail"))}
    pd.testing.assert_frame_equal(spark_scores[["profile_id", "score", "reason"]],
                                  duck_scores[["profile_id", "score", "reason"]])
    # the engines sum money in different orders, so the fitted Gamma-Gamma parameters (and the CLV) may
    # differ in the eighth digit; anything beyond that would be a real difference
    np.testing.assert_allclose(spark_scores.value, duck_scores.value, rtol=1e-6, atol=1e-9)
    assert runs["duckdb"]["data_fingerprint"] == runs["pyspark"]["data_fingerprint"]
