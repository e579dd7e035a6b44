"""Monitoring: scores made at a model's as_of against the orders since, per group; the history in the registry."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from jingzhun.errors import InputError
from jingzhun.measure.monitoring import monitor_scores, monitoring_history, record_monitoring, score_check
from tests.activation.conftest import Population, T0, pid
from tests.measure.campaigns import day, orders

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _model(wh, model_id: str, as_of) -> None:
    wh.append("models", pd.DataFrame([{
        "model_id": model_id, "name": "propensity", "kind": "PropensityModel", "params": "{}",
        "data_fingerprint": "f", "code_version": "test", "metrics": json.dumps({"auc": 0.7}), "as_of": as_of,
        "path": "", "trained_at": as_of}]))


@pytest.fixture
def scored(warehouse):
    """Four people scored at T0: p_buy_30d 0.1, 0.2, 0.6, 0.9 and expected_purchases_30d 0.5, 0.5, 1, 3.

    Since T0: person 1 bought on day 2; person 3 on day 5 twice (one purchase day) and 12; person 2 on day
    40 (after the horizon); person 0 never."""
    Population(warehouse).add(4)
    _model(warehouse, "m1", T0)
    rows = [(pid(i), "p_buy_30d", v) for i, v in enumerate((0.1, 0.2, 0.6, 0.9))]
    rows += [(pid(i), "expected_purchases_30d", v) for i, v in enumerate((0.5, 0.5, 1.0, 3.0))]
    warehouse.append("scores", pd.DataFrame(rows, columns=["profile_id", "score", "value"]).assign(
        model_id="m1", computed_at=T0))
    orders(warehouse, [(1, 10, 2), (3, 10, 5), (3, 15, 5.25), (3, 20, 12), (2, 30, 40), (0, 5, -3)])
    return warehouse


def test_probabilities_against_who_bought_per_group(scored):
    check = score_check(scored, "p_buy_30d", at=day(60), groups=2)
    g = check.groups
    # lower half: persons 0 (0.1) and 1 (0.2), one bought; upper half: 2 (0.6, bought too late) and 3 (0.9)
    assert list(g.n) == [2, 2]
    assert list(g.predicted_mean) == pytest.approx([0.15, 0.75])
    assert list(g.actual_mean) == pytest.approx([0.5, 0.5])
    assert check.complete and check.elapsed_days == 30
    assert check.calibration_error == pytest.approx((0.35 * 2 + 0.25 * 2) / 4)


def test_expectations_are_prorated_while_the_horizon_runs(scored):
    check = score_check(scored, "expected_purchases_30d", at=day(15), groups=2)
    assert not check.complete and check.elapsed_days == pytest.approx(15)
    g = check.groups
    # ties at 0.5 go by profile id: persons 0, 1 low; 2, 3 high. Half the horizon: predictions halved.
    assert list(g.predicted_mean) == pytest.approx([0.25, 1.0])
    # person 1: one purchase day; person 3: day 5 (twice, one day) and day 12: two purchase days
    assert list(g.actual_mean) == pytest.approx([0.5, 1.0])


def test_checks_are_recorded_in_the_registry_and_read_back_as_history(scored):
    for at in (day(10), day(30)):
        record_monitoring(scored, monitor_scores(scored, at=at, groups=2))
    record_monitoring(scored, monitor_scores(scored, at=day(30), groups=2))      # the same moment replaces
    history = monitoring_history(scored)
    assert len(history) == 4 and set(history.score) == {"p_buy_30d", "expected_purchases_30d"}
    p = history[history.score == "p_buy_30d"]
    assert list(p.elapsed_days) == [10, 30]
    metrics = json.loads(scored.execute(scored.table("models")).metrics.iloc[0])
    assert metrics["auc"] == 0.7                       # the fit's own metrics stay


def test_a_score_that_orders_cannot_judge_is_refused(scored):
    with pytest.raises(InputError, match="monitored scores"):
        score_check(scored, "p_alive", at=day(10))
