"""The simulator as referee for the BG/NBD model: at 100,000 customers our estimates lie within three
standard errors of the true parameters, and ranking by predicted holdout purchases beats ranking by past
frequency against what each simulated person really did in the holdout."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from jingzhun.models import BetaGeoModel
from jingzhun.models.btyd.data import calibration_holdout_split
from jingzhun.sim import simulate

log = logging.getLogger(__name__)
pytestmark = pytest.mark.slow

ORDER_IDS = ("user_id", "crm_id", "loyalty_card", "phone", "wechat_openid")
N = 100_000


@pytest.fixture(scope="module")
def world():
    return simulate(N, seed=4242, events_per_customer=1)


@pytest.fixture(scope="module")
def purchases(world) -> pd.DataFrame:
    """Each purchase order with its true person (the first identifier on it that belongs to one person)."""
    orders = world.orders.to_pandas()
    orders = orders[~orders.is_return]
    ids = world.identifiers.to_pandas()
    ids = ids[~ids.is_shared & ids.person_id.notna()]
    person = pd.Series(None, index=orders.index, dtype=object)
    for kind in ORDER_IDS:
        owner = ids[ids.kind == kind].drop_duplicates("value").set_index("value").person_id
        person = person.fillna(orders[kind].map(owner))
    orders = orders.assign(person_id=person)
    assert orders.person_id.notna().mean() > 0.999
    return orders[orders.person_id.notna()][["person_id", "ordered_at", "amount"]]


def test_estimates_lie_within_three_standard_errors_of_the_truth(world, purchases):
    """On exact purchase times: the simulator's purchases happen in continuous time. (Counting calendar
    days as occasions, as summary_from_transactions does for real data, merges the repeat purchases that
    fall on one day and moved alpha from 9.94 to 10.32 here, 3.3 standard errors; the comparison with the
    truth has to count purchases the way the simulator made them.)"""
    end = pd.Timestamp(world.params["window"]["end"])
    g = purchases.groupby("person_id").ordered_at
    week = pd.Timedelta(days=7)
    summary = pd.DataFrame({"frequency": g.size() - 1, "recency": (g.max() - g.min()) / week,
                            "T": (end - g.min()) / week})
    assert len(summary) == N
    model = BetaGeoModel().fit(summary.frequency, summary.recency, summary["T"], compute_se=True)
    truth = world.params["bgnbd"]
    report = []
    for name in ("r", "alpha", "a", "b"):
        est, se = model.params_[name], model.standard_errors_[name]
        z = (est - truth[name]) / se
        report.append(f"{name}: true {truth[name]:.3f}, fitted {est:.4f}, se {se:.4f}, z {z:+.2f}")
    log.warning("BG/NBD on %d simulated customers: %s", N, "; ".join(report))
    for line in report:
        assert abs(float(line.rsplit("z ", 1)[1])) < 3, line


def test_predicted_holdout_purchases_rank_better_than_past_frequency(world, purchases):
    end = pd.Timestamp(world.params["window"]["end"])
    cal_end = end - pd.Timedelta(weeks=26)
    split = calibration_holdout_split(purchases, "person_id", "ordered_at", calibration_end=cal_end,
                                      observation_end=end, time_unit="W")
    model = BetaGeoModel().fit(split.frequency_cal, split.recency_cal, split.T_cal)
    predicted = model.expected_purchases(split.duration_holdout.iloc[0], split.frequency_cal, split.recency_cal,
                                         split.T_cal)
    actual = split.frequency_holdout
    rho_model = spearmanr(predicted, actual).statistic
    rho_frequency = spearmanr(split.frequency_cal, actual).statistic
    log.warning("Spearman with true holdout purchases (26 weeks, %d customers): BG/NBD %.4f, past frequency %.4f",
                len(split), rho_model, rho_frequency)
    assert rho_model > rho_frequency + 0.01
    # and in total the model forecasts the holdout within 5%
    assert np.isclose(predicted.sum(), actual.sum(), rtol=0.05), (predicted.sum(), actual.sum())
