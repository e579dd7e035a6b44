"""peak_hour and price_sensitivity on small shops worked out by hand, on DuckDB and PySpark.

Each person below is built so that the raw histogram's tallest hour and the peak differ for one reason
only: the smoothing around the clock, the weight of a message response over a purchase, the wrap from
hour 23 to hour 0, or a tie.
"""

from __future__ import annotations

import pytest

from jingzhun.profile import build_features
from tests.profile.conftest import event, frame, identity_frame, order, read_features

AS_OF = "2024-03-01T00:00:00Z"


def _opened(day: int, hour: int, user: str) -> dict:
    return event(f"2024-02-{day:02d} {hour:02d}:20", name="Email Opened", user_id=user)


EVENTS = [
    # uE: mail read twice at 08, once each at 19, 20 and 21; the evening habit outweighs the pair at 08
    _opened(1, 8, "uE"), _opened(2, 8, "uE"), _opened(3, 19, "uE"), _opened(4, 20, "uE"), _opened(5, 21, "uE"),
    # uP: three purchases at noon (below) and one response at 18
    _opened(6, 18, "uP"),
    # uW: responses at 23, 00 and 01 are one habit around midnight
    _opened(7, 23, "uW"), _opened(8, 0, "uW"), _opened(9, 1, "uW"),
    # uT: one response at 03 and one at 09, far apart: a tie, the earliest wins
    _opened(10, 3, "uT"), _opened(11, 9, "uT"),
]
ORDERS = [
    order("p1", "2024-01-10 12:05", amount=90.0, discount=10.0, coupon="SAVE10", n_lines=1, user_id="uP"),
    order("p2", "2024-01-20 12:10", amount=80.0, discount=20.0, n_lines=2, user_id="uP"),  # promotion, no coupon
    order("p3", "2024-01-30 12:15", amount=100.0, n_lines=1, user_id="uP"),
    order("p4", "2024-02-02 10:00", amount=50.0, discount=5.0, coupon="SAVE5", n_lines=1, user_id="uP",
          is_return=True),  # a return is no purchase
    order("p5", "2024-02-03 10:00", amount=0.0, discount=30.0, n_lines=1, user_id="uP"),  # free: no purchase
    order("t1", "2024-01-15 15:00", amount=40.0, coupon=" ", n_lines=1, user_id="uT"),  # a blank code is none
]
IDENTITY = [("user_id", u, f"p{u[1]}", False) for u in ("uE", "uP", "uW", "uT")]


@pytest.fixture
def habits(warehouse):
    warehouse.append("orders", frame(ORDERS))
    warehouse.append("events", frame(EVENTS))
    warehouse.append("identity_map", identity_frame(IDENTITY))
    build_features(warehouse, as_of=AS_OF)
    return read_features(warehouse).set_index("profile_id")


def test_peak_hour_by_hand(habits):
    # uE weighted counts: 08 -> 8, 19/20/21 -> 4 each; scores 5*8 = 40 at 08, 5*4 + 4*(4+4) = 52 at 20
    assert habits.loc["pE", "hour_08"] == 2 and habits.loc["pE", "peak_hour"] == 20
    # uP: 3 purchases at 12 weigh 3, one response at 18 weighs 4: 5*3 = 15 at 12 against 5*4 = 20 at 18
    assert habits.loc["pP", "hour_12"] == 3 and habits.loc["pP", "peak_hour"] == 18
    # uW: 5*4 + 4*(4+4) = 52 at 00, 5*4 + 4*4 + 2*4 = 44 at 23 and at 01
    assert habits.loc["pW", "peak_hour"] == 0
    # uT: 20 at 03 and at 09; the purchase at 15 scores 5 there and 2 at 13 and 17, nowhere near
    assert habits.loc["pT", "peak_hour"] == 3


def test_price_sensitivity_by_hand(habits):
    # uP: purchases p1 (coupon), p2 (discount, no coupon), p3 (neither): coupons 1 of 3 purchases,
    # promotions 1 of 2 purchases without a coupon; prior 4 trials at 0.3
    assert habits.loc["pP", "price_sensitivity"] == pytest.approx((1 + 1 + 1.2) / (3 + 2 + 4))
    assert habits.loc["pP", "discount_share"] == pytest.approx(2 / 3)
    # uT: one purchase, no coupon (blank code), no discount: 1.2 / (1 + 1 + 4)
    assert habits.loc["pT", "price_sensitivity"] == pytest.approx(0.2)
    # no purchases, no index
    assert habits.loc[["pE", "pW"], "price_sensitivity"].isna().all()
