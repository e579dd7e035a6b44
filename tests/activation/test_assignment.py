"""Arm assignment: the same arm for the same person every time, balanced shares, stable as the audience grows."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from jingzhun.activation import ArmSplit, PlanError, arm_for, assign, assignment_expr, bucket_expr, bucket_for
from tests.activation.conftest import SECRET, hours

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SPLIT = ArmSplit.of({"control": 0.1, "A": 0.45, "B": 0.45})


def audience(start: int, stop: int) -> ibis.Table:
    return ibis.memtable(pd.DataFrame({"profile_id": [f"p{i:07d}" for i in range(start, stop)]}))


def test_the_engine_bucket_equals_the_python_bucket(warehouse):
    people = audience(0, 2000)
    got = warehouse.execute(people.mutate(b=bucket_expr("spring", people.profile_id, SECRET)))
    expected = [bucket_for("spring", p, SECRET) for p in got.profile_id]
    np.testing.assert_array_equal(got.b.to_numpy(), np.array(expected))
    assert 0 <= got.b.min() and got.b.max() < 1


def test_arms_follow_the_buckets_and_the_shares(warehouse):
    got = warehouse.execute(assignment_expr(audience(0, 3000), "spring", SPLIT, SECRET))
    assert all(arm == arm_for(bucket_for("spring", p, SECRET), SPLIT) for p, arm in zip(got.profile_id, got.arm))
    assert arm_for(0.0999, SPLIT) == "control" and arm_for(0.1, SPLIT) == "A" and arm_for(0.9999, SPLIT) == "B"


def test_balanced_within_one_percent_on_100k_people(warehouse):
    got = warehouse.execute(assignment_expr(audience(0, 100_000), "spring", SPLIT, SECRET))
    shares = got.arm.value_counts(normalize=True)
    assert len(got) == 100_000
    for name, share in SPLIT.items():
        assert abs(shares[name] - share) < 0.01, (name, shares[name])


def test_deterministic_keyed_and_independent_between_campaigns(warehouse):
    people = audience(0, 20_000)

    def arms(campaign, secret):
        got = warehouse.execute(assignment_expr(people, campaign, SPLIT, secret))
        return got.set_index("profile_id").arm.sort_index()

    first = arms("spring", SECRET)
    again = arms("spring", SECRET)
    other_secret = arms("spring", "x")
    autumn = arms("autumn", SECRET)
    assert first.equals(again)
    assert (first != other_secret).mean() > 0.4
    # held out of spring and of autumn: about 10% of 10%, as for independent draws (sd 0.0007)
    both = ((first == "control") & (autumn == "control")).mean()
    assert abs(both - 0.01) < 0.004


def test_written_once_and_kept_when_the_audience_grows(warehouse):
    small = warehouse.execute(assign(warehouse, "spring", audience(0, 30_000), SPLIT, SECRET, at=hours(0)))
    # the audience doubles, and meanwhile someone changed the shares: the first 30k keep their arms
    grown = warehouse.execute(assign(warehouse, "spring", audience(0, 60_000), ArmSplit.of({"A": 0.5, "B": 0.5}),
                                     SECRET, at=hours(24)))
    grown["assigned_at"] = pd.to_datetime(grown.assigned_at, utc=True)  # Spark gives naive UTC
    assert warehouse.count("assignments") == 60_000 == grown.profile_id.nunique()
    old = grown.set_index("profile_id").loc[small.profile_id]
    assert (old.arm.to_numpy() == small.arm.to_numpy()).all()
    assert (old.assigned_at == hours(0)).all()
    new = grown[grown.assigned_at == hours(24)]
    assert len(new) == 30_000 and set(new.arm) == {"A", "B"}
    # newcomers under the first split would have been where the expression puts them
    same = warehouse.execute(assignment_expr(audience(0, 60_000), "spring", SPLIT, SECRET)).set_index("profile_id")
    assert (same.loc[small.profile_id].arm.to_numpy() == small.arm.to_numpy()).all()


@pytest.mark.parametrize("shares, message", [
    ({"A": 0.5, "B": 0.4}, "add up to 1"),
    ({"A": 1.2, "B": -0.2}, "above 0"),
    ({}, "at least one arm"),
    ({"A": float("nan"), "B": 1.0}, "above 0"),
])
def test_a_bad_split_is_refused(shares, message):
    with pytest.raises(PlanError, match=message):
        ArmSplit.of(shares)
