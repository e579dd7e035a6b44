"""Churn: the Cox model against lifelines and a known truth, lapses by hand, reasons in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from jingzhun.models.churn import ChurnModel, churn_covariates, churn_frame
from jingzhun.models.scoring import churn_scores
from jingzhun.warehouse import Warehouse


def test_risk_equals_lifelines(synthetic):
    covariates, duration, event = synthetic.simulate_lapses(3_000, seed=1)
    model = ChurnModel(horizon_days=90, penalizer=0.01).fit(covariates, duration, event)
    data = covariates.assign(d=duration, e=event)
    reference = CoxPHFitter(penalizer=0.01).fit(data, "d", "e")
    want = 1.0 - reference.predict_survival_function(covariates, times=[90.0]).to_numpy()[0]
    np.testing.assert_allclose(model.predict(covariates), want, rtol=1e-10, atol=1e-12)
    assert model.fit_info_["concordance"] == pytest.approx(reference.concordance_index_)


def test_recovers_the_true_hazard(synthetic):
    covariates, duration, event = synthetic.simulate_lapses(20_000, seed=2)
    model = ChurnModel(penalizer=0.0).fit(covariates, duration, event)
    assert model.params_["recency_days"] == pytest.approx(0.02, abs=0.002)
    assert model.params_["log_purchase_days"] == pytest.approx(-0.5, abs=0.06)
    assert model.params_["discount_share"] == pytest.approx(0.0, abs=0.06)


def test_reasons_name_what_raises_the_risk(synthetic):
    covariates, duration, event = synthetic.simulate_lapses(3_000, seed=3)
    model = ChurnModel(n_reasons=2).fit(covariates, duration, event)
    typical = model.typical_["recency_days"]
    person = pd.DataFrame({"recency_days": [160.0, 5.0], "log_purchase_days": [np.log1p(1.0), np.log1p(12.0)],
                           "discount_share": [0.5, 0.5]})
    worried, calm = model.reasons(person)
    assert worried == (f"no purchase for 160 days (typical: {typical:,.0f}); "
                       f"1 purchase days (typical: {model.typical_['log_purchase_days']:,.0f})")
    assert calm.startswith("buys on discount") or calm == "no risk factor above the usual"
    assert model.predict(person)[0] > model.predict(person)[1]


def _order(order_id, at, user):
    return {"source": "shop", "order_id": order_id, "load_id": "l1", "quality_flags": "", "status": "completed",
            "ordered_at": pd.Timestamp(at, tz="UTC"), "is_return": False, "currency": "CNY", "amount": 50.0,
            "n_lines": 1, "user_id": user}


@pytest.fixture
def lapse_shop(warehouse: Warehouse) -> Warehouse:
    """Four people; as of 2024-07-01 with 100 days of follow-up and a 60-day lapse the anchor is 2024-03-23."""
    orders = [
        _order("a1", "2024-03-01", "ua"), _order("a2", "2024-04-15", "ua"), _order("a3", "2024-05-01", "ua"),
        _order("b1", "2024-03-20", "ub"), _order("b2", "2024-05-10", "ub"), _order("b3", "2024-06-20", "ub"),
        _order("c1", "2024-01-01", "uc"),
        _order("d1", "2024-03-22 12:00", "ud"), _order("d2", "2024-06-01", "ud"),
        _order("e1", "2024-07-02", "ua"),  # after as_of: never read
    ]
    warehouse.append("orders", pd.DataFrame(orders))
    warehouse.append("identity_map", pd.DataFrame({
        "kind": "user_id", "key": ["ua", "ub", "uc", "ud"], "profile_id": ["pA", "pB", "pC", "pD"],
        "is_shared": False}))
    return warehouse


def test_lapses_by_hand(lapse_shop):
    frame = churn_frame(lapse_shop, "2024-07-01", followup_days=100, lapse_days=60).set_index("profile_id")
    # pC last bought 82 days before the anchor: already lapsed, not at risk
    assert sorted(frame.index) == ["pA", "pB", "pD"]
    # pA: no purchase after 2024-05-01, so lapsed 60 days later, on 2024-06-30: 99 days after the anchor
    assert (frame.event["pA"], frame.duration["pA"]) == (1, 99.0)
    # pB: gaps of 51 and 41 days, then 11 days to as_of: censored at 100
    assert (frame.event["pB"], frame.duration["pB"]) == (0, 100.0)
    # pD: 70.5 days between purchases: lapsed at 2024-03-22 12:00 + 60 days = 2024-05-21 12:00, which is
    # 59.5 days after the anchor (31 days to 04-23, 28 more to 05-21, and half a day)
    assert (frame.event["pD"], frame.duration["pD"]) == (1, 59.5)
    assert frame.recency_days.to_dict() == {"pA": 22.0, "pB": 3.0, "pD": 0.0}  # whole days before the anchor


def _raw_features(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features frames as buyers_as_of gives them, with a time to lapse that shortens with recency."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "profile_id": [f"p{i:05d}" for i in range(n)], "recency_days": rng.uniform(0, 179, n).round(),
        "purchase_days": rng.poisson(2.0, n) + 1.0, "monetary_mean": rng.gamma(2.0, 40.0, n),
        "tenure_days": rng.uniform(200, 700, n).round(), "return_rate": rng.uniform(0, 0.3, n),
        "discount_share": rng.uniform(0, 1, n), "events_90d": rng.poisson(3.0, n).astype(float),
    })
    frame["overdue"] = np.where(frame.purchase_days > 1, frame.recency_days / rng.uniform(20, 90, n), np.nan)
    time = rng.exponential(200.0 * np.exp(-0.015 * frame.recency_days))
    return frame, np.minimum(time, 180.0), (time <= 180.0).astype(float)


def test_lapsed_people_get_risk_one_with_the_reason():
    frame, duration, event = _raw_features(2_000, seed=4)
    model = ChurnModel(lapse_days=180).fit(churn_covariates(frame), duration, event)
    people = frame.head(3).copy()
    people["recency_days"] = [200.0, 170.0, 2.0]
    scores = churn_scores(model, people).set_index("profile_id")
    first, second, third = people.profile_id
    assert scores.value[first] == 1.0 and scores.reason[first] == "no purchase for 200 days: lapsed (over 180 days)"
    assert 0 < scores.value[third] < scores.value[second] < 1
    assert scores.reason[second].startswith("no purchase for 170 days (typical: ")
