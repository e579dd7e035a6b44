"""Response types: the planned shares, and leaning on what a business can see (so uplift can be learnt and
differs from the propensity to buy)."""

from __future__ import annotations

import numpy as np
import pytest

from jingzhun.sim import simulate


@pytest.fixture(scope="module")
def persons():
    return simulate(20_000, seed=3).persons.to_pandas()


def test_shares_are_near_twenty_twenty_five_forty_five_ten(persons):
    shares = persons.response_type.value_counts(normalize=True)
    expected = {"persuadable": 0.20, "sure_thing": 0.25, "lost_cause": 0.45, "sleeping_dog": 0.10}
    for name, share in expected.items():
        assert shares[name] == pytest.approx(share, abs=0.015), name


def test_types_lean_on_buying_rate_price_sensitivity_and_dropout(persons):
    by = persons.groupby("response_type")
    rate = by.bgnbd_lambda.median()
    assert rate["sleeping_dog"] > rate["sure_thing"] > rate["persuadable"]
    sens = by.price_sensitivity.mean()
    assert sens["persuadable"] > sens["lost_cause"] > sens["sure_thing"]
    dropped = persons[~persons.alive_at_end].response_type.value_counts(normalize=True)
    alive = persons[persons.alive_at_end].response_type.value_counts(normalize=True)
    assert dropped["lost_cause"] == 1.0 and alive["lost_cause"] < 0.25


def test_a_block_where_everyone_dropped_out_is_all_lost_causes():
    from jingzhun.sim.people import _RESPONSE_P, _calibrated, _type_weights

    w = _type_weights(np.array([0.01, 0.05, 0.4]), np.array([0.2, 0.5, 0.8]), np.zeros(3, dtype=bool))
    probs = _calibrated(w, _RESPONSE_P)
    assert np.array_equal(probs, np.tile([0.0, 0.0, 1.0, 0.0], (3, 1)))
