"""Attribution on a hand-built set of paths: every method equals the answer worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.errors import InputError
from jingzhun.measure.attribution import METHODS, Path, attribute, paths_from_touches

PATHS = [
    Path(("A", "B", "C"), (48.0, 24.0, 0.0), True),
    Path(("A", "C"), (10.0, 0.0), True),
    Path(("B",), (5.0,), False),
    Path(("C",), (0.0,), True),
    Path(("A", "B"), (30.0, 2.0), False),
]

# worked by hand (see the comments); half-life 24 hours for time decay
d = 2 ** (-10 / 24)
HAND = {
    "first_touch": {"A": 2, "B": 0, "C": 1},
    "last_touch": {"A": 0, "B": 0, "C": 3},
    "linear": {"A": 1 / 3 + 1 / 2, "B": 1 / 3, "C": 1 / 3 + 1 / 2 + 1},
    "position_based": {"A": 0.4 + 0.5, "B": 0.2, "C": 0.4 + 0.5 + 1},
    "time_decay": {"A": 0.25 / 1.75 + d / (1 + d), "B": 0.5 / 1.75, "C": 1 / 1.75 + 1 / (1 + d) + 1},
    # P(conversion) = 9/15; without A 4/15, without B 6/15, without C 0: removal effects 5/9, 1/3, 1 (sum 17/9)
    "markov": {"A": 15 / 17, "B": 9 / 17, "C": 27 / 17},
    # v(C)=1, v(AC)=2, v(BC)=1, v(ABC)=3, others 0
    "shapley": {"A": 5 / 6, "B": 1 / 3, "C": 11 / 6},
}


def test_every_method_equals_the_hand_computed_answer():
    table = attribute(PATHS, half_life_hours=24)
    assert list(table.columns) == list(METHODS)
    for method, expected in HAND.items():
        for channel, value in expected.items():
            assert table.loc[channel, method] == pytest.approx(value, abs=1e-12), (method, channel)
    # every method shares out exactly the 3 conversions
    assert table.sum().tolist() == pytest.approx([3.0] * len(METHODS))


def test_revenue_values_and_paths_from_touch_rows():
    touches = pd.DataFrame({
        "profile_id": ["p1", "p1", "p2", "p2", "p3"],
        "channel": ["email", "sms", "email", "push", "sms"],
        "touched_at": pd.to_datetime(["2024-01-01 10:00", "2024-01-02 10:00", "2024-01-01 09:00", "2024-01-09 00:00",
                                      "2024-01-03 00:00"], utc=True),
    })
    outcomes = pd.DataFrame({
        "profile_id": ["p1", "p2", "p3"], "converted": [True, True, False], "value": [100.0, 50.0, 0.0],
        "ended_at": pd.to_datetime(["2024-01-03 10:00", "2024-01-05 00:00", "2024-01-10 00:00"], utc=True),
    })
    paths = paths_from_touches(touches, outcomes, value="value")
    assert [p.channels for p in paths] == [("email", "sms"), ("email",), ("sms",)]  # p2's push came after
    assert paths[0].times == (48.0, 24.0) and paths[0].value == 100.0
    table = attribute(paths)
    assert table.sum().tolist() == pytest.approx([150.0] * len(METHODS))
    assert table.loc["email", "first_touch"] == 150.0 and table.loc["sms", "last_touch"] == 100.0


def test_bad_paths_are_named():
    with pytest.raises(InputError, match="no touches"):
        attribute([Path(())])
    with pytest.raises(InputError, match="times"):
        attribute([Path(("A", "B"), (1.0,))])
    with pytest.raises(InputError, match="unknown attribution method"):
        attribute(PATHS, ["last_click"])
    with pytest.raises(InputError, match="time decay needs"):
        attribute([Path(("A",))], ["time_decay"])
