"""Responses drawn from the truth: reproducible, nothing opened that was not sent, the hour matters, and
the rates are the truth's probabilities within sampling error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jingzhun.errors import InputError
from jingzhun.sim.options import LOCAL_OFFSET_HOURS
from jingzhun.sim.responses import RESPONSE_COLUMNS, open_probability, respond, true_revenue_uplift, true_uplift

COPIES = 6   # messages per person: more rows for the rate checks, from the same 3,000 people
DAY = pd.Timestamp("2025-01-06T00:00Z")   # a Monday (UTC); the local day is Monday too from 00:00Z


@pytest.fixture(scope="module")
def persons(world):
    return world.persons.to_pandas()


def _messages(persons, *, local_hour=None, shift_hours=0.0, treated=None, offer="discount", channel="email"):
    """COPIES messages per person; at their preferred hour (+ shift) on their preferred weekday, or at a
    fixed local hour."""
    p = persons.loc[persons.index.repeat(COPIES)].reset_index(drop=True)
    n = len(p)
    if local_hour is None:
        hour = p.preferred_hour.to_numpy() + shift_hours
        day = p.preferred_weekday.to_numpy()
    else:
        hour = np.full(n, float(local_hour))
        day = np.zeros(n, dtype=np.int64)
    sent = DAY + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour - LOCAL_OFFSET_HOURS, unit="h")
    return pd.DataFrame({
        "message_id": [f"M{i:07d}" for i in range(n)], "person_id": p.person_id.to_numpy(),
        "channel": channel, "offer_kind": offer,
        "treated": np.arange(n) % 2 == 0 if treated is None else treated, "sent_at": sent,
    })


def _rate_of(responses, messages, kind) -> np.ndarray:
    hit = set(responses.loc[responses.response == kind, "message_id"])
    return messages.message_id.isin(hit).to_numpy()


def test_same_seed_same_responses_and_each_row_on_its_own(persons):
    msgs = _messages(persons)
    first = respond(persons, msgs, seed=5)
    assert list(first.columns) == list(RESPONSE_COLUMNS)
    pd.testing.assert_frame_equal(first, respond(persons, msgs, seed=5))
    assert not first.equals(respond(persons, msgs, seed=6))
    # a row's fate does not depend on the other rows or their order
    part = msgs.iloc[::-3].reset_index(drop=True)
    expected = first[first.message_id.isin(set(part.message_id))]
    got = respond(persons, part, seed=5)
    key = ["message_id", "response"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  expected.sort_values(key).reset_index(drop=True))


def test_control_never_opens_or_clicks(persons):
    msgs = _messages(persons)
    out = respond(persons, msgs, seed=1)
    control = set(msgs.loc[~msgs.treated, "message_id"])
    engaged = out[out.response.isin(["open", "click"])]
    assert len(engaged) > 500
    assert not engaged.message_id.isin(control).any()
    # but control still buys, at the truth's rate
    assert out[out.response == "conversion"].message_id.isin(control).sum() > 100


def test_every_click_follows_an_open_and_conversions_land_in_the_window(persons):
    msgs = _messages(persons)
    out = respond(persons, msgs, seed=2, window_days=10)
    opens = out[out.response == "open"].set_index("message_id")["at"]
    clicks = out[out.response == "click"].set_index("message_id")["at"]
    assert clicks.index.isin(opens.index).all()
    assert (clicks >= opens.loc[clicks.index]).all()
    sent = msgs.set_index("message_id").sent_at
    conv = out[out.response == "conversion"].set_index("message_id")
    delay = conv["at"] - sent.loc[conv.index]
    assert (delay >= pd.Timedelta(0)).all() and (delay <= pd.Timedelta(days=10)).all()
    assert conv.value.gt(0).all() and out[out.response != "conversion"].value.isna().all()


def test_opens_at_the_preferred_hour_beat_twelve_hours_away(persons):
    treated = np.ones(len(persons) * COPIES, dtype=bool)
    best = _messages(persons, treated=treated)
    far = _messages(persons, shift_hours=12, treated=treated)
    rate_best = _rate_of(respond(persons, best, seed=3), best, "open").mean()
    rate_far = _rate_of(respond(persons, far, seed=3), far, "open").mean()
    # expected about 0.25 x 0.95 and 0.25 x 0.95 x 0.3
    assert rate_best > 2.5 * rate_far
    assert rate_best == pytest.approx(open_probability(persons, best).mean(), abs=0.012)
    assert rate_far == pytest.approx(open_probability(persons, far).mean(), abs=0.008)


def test_open_probability_follows_the_formula_for_a_hand_worked_person(persons):
    one = persons.iloc[[0]].copy()
    one["activity"], one["preferred_hour"], one["preferred_weekday"] = 1.0, 20, 0
    # Monday 21:30 local: d = 1.5 h -> 0.3 + 0.7 exp(-1.5^2 / 8) = 0.829; activity 0.5 + 0.5 = 1
    msg = pd.DataFrame({"message_id": ["a"], "person_id": one.person_id, "channel": "wechat", "offer_kind": None,
                        "treated": True, "sent_at": [pd.Timestamp("2025-01-06T13:30Z")]})
    expected = 0.45 * (0.3 + 0.7 * np.exp(-1.5 ** 2 / 8))
    assert open_probability(one, msg)[0] == pytest.approx(expected, rel=1e-9)
    msg["sent_at"] = pd.Timestamp("2025-01-07T13:30Z")   # Tuesday: not the preferred weekday
    assert open_probability(one, msg)[0] == pytest.approx(expected * 0.85, rel=1e-9)


def _chance_of_buying_anyway(persons, msgs, window_days=14.0) -> np.ndarray:
    """q = 1 - exp(-lambda x weeks) for a person alive at the end of the history, else 0: worked here from
    the truth columns, not from the module."""
    p = persons.set_index("person_id").loc[msgs.person_id]
    return np.where(p.alive_at_end, 1.0 - np.exp(-p.bgnbd_lambda.to_numpy() * window_days / 7.0), 0.0)


def _within(observed: np.ndarray, expected: np.ndarray) -> bool:
    se = np.sqrt((expected * (1 - expected)).sum()) / len(expected)
    return abs(observed.mean() - expected.mean()) < 4 * se


def test_conversion_rates_follow_the_purchase_process_and_the_response_type(persons):
    msgs = _messages(persons, local_hour=20)
    out = respond(persons, msgs, seed=4)
    conv = _rate_of(out, msgs, "conversion")
    opened = _rate_of(out, msgs, "open")
    p = persons.set_index("person_id").loc[msgs.person_id]
    d = (p.p_discount_treated - p.p_discount_control).to_numpy()
    q = _chance_of_buying_anyway(persons, msgs)
    seen = np.where(d >= 0, q + d * (1 - q), q * (1 + d))
    t = msgs.treated.to_numpy()
    assert _within(conv[~t], q[~t])                        # held out: organic buying only
    assert _within(conv[t & ~opened], q[t & ~opened])      # sent, not seen: the offer cannot work
    assert _within(conv[t & opened], seen[t & opened])     # seen: persuaded, or put off
    for kind, sign in (("persuadable", 1), ("sleeping_dog", -1)):
        mask = t & opened & (p.response_type == kind).to_numpy()
        assert sign * (conv[mask].mean() - q[mask].mean()) > 0
    # the difference between the arms is the truth's uplift
    uplift = true_uplift(persons, msgs)
    diff = conv[t].mean() - conv[~t].mean()
    se = np.sqrt(conv[t].var() / t.sum() + conv[~t].var() / (~t).sum())
    assert abs(diff - uplift.mean()) < 4 * se


def test_revenue_is_the_persons_own_spending_plus_the_offers_effect(persons):
    msgs = _messages(persons, local_hour=20)
    out = respond(persons, msgs, seed=8, window_days=30)
    revenue = msgs.message_id.map(out[out.response == "conversion"].groupby("message_id").value.sum()).fillna(0.0)
    revenue = revenue.to_numpy()
    p = persons.set_index("person_id").loc[msgs.person_id]
    # held out: Poisson(lambda x weeks) purchases while alive, each of mean mean_spend
    organic = np.where(p.alive_at_end, p.bgnbd_lambda * 30 / 7.0, 0.0) * p.mean_spend.to_numpy()
    t = msgs.treated.to_numpy()
    se = revenue[~t].std() / np.sqrt((~t).sum())
    assert abs(revenue[~t].mean() - organic[~t].mean()) < 4 * se
    # and the difference between the arms is the truth's revenue uplift
    lift = true_revenue_uplift(persons, msgs, window_days=30)
    se = np.sqrt(revenue[t].var() / t.sum() + revenue[~t].var() / (~t).sum())
    assert abs(revenue[t].mean() - revenue[~t].mean() - lift.mean()) < 4 * se
    # a person who has dropped out buys nothing unless an offer persuades them
    dead = ~p.alive_at_end.to_numpy()
    assert revenue[~t & dead].sum() == 0 and revenue[dead].sum() > 0


def test_a_conversion_holds_the_windows_purchases(persons):
    """One row per converting message, its value the sum of Gamma(6, mean_spend / 6) spends: so a frequent
    buyer's conversions are worth more purchases than an occasional buyer's."""
    msgs = _messages(persons, local_hour=20, treated=np.zeros(len(persons) * COPIES, dtype=bool))
    out = respond(persons, msgs, seed=9, window_days=60)
    conv = out[out.response == "conversion"]
    assert conv.message_id.is_unique
    p = persons.set_index("person_id").loc[conv.person_id]
    ratio = conv.value.to_numpy() / p.mean_spend.to_numpy()
    m = p.bgnbd_lambda.to_numpy() * 60 / 7.0
    expected = m / -np.expm1(-m)                      # E[N | N > 0] of a Poisson of mean m
    assert ratio.mean() == pytest.approx(expected.mean(), rel=0.05)
    assert ratio[m > np.median(m)].mean() > 1.2 * ratio[m <= np.median(m)].mean()


def test_no_offer_no_uplift_and_uplift_signs_follow_the_response_types(persons):
    plain = _messages(persons, offer=None)
    assert np.all(true_uplift(persons, plain) == 0)
    msgs = _messages(persons)
    uplift = pd.Series(true_uplift(persons, msgs), index=msgs.person_id)
    by_type = uplift.groupby(persons.set_index("person_id").response_type.loc[msgs.person_id].to_numpy()).mean()
    assert by_type["sleeping_dog"] < 0 < by_type["lost_cause"] < by_type["sure_thing"] < by_type["persuadable"]


def test_true_uplift_for_hand_worked_people(persons):
    """One persuadable-like and one sleeping-dog-like person, alive, buying 0.35 times a week, sent a
    wechat discount at their preferred hour and weekday with activity 1: P(open) = 0.45."""
    two = persons.iloc[[0, 1]].copy()
    two["activity"], two["preferred_hour"], two["preferred_weekday"] = 1.0, 20, 0
    two["bgnbd_lambda"], two["alive_at_end"], two["mean_spend"] = 0.35, True, 100.0
    two["p_discount_control"], two["p_discount_treated"] = [0.05, 0.30], [0.25, 0.10]
    msg = pd.DataFrame({"message_id": ["a", "b"], "person_id": two.person_id.to_numpy(), "channel": "wechat",
                        "offer_kind": "discount", "treated": True,
                        "sent_at": [pd.Timestamp("2025-01-06T12:00Z")] * 2})
    m = 0.35 * 2                     # purchases expected in 14 days
    q = 1 - np.exp(-m)               # buys anyway: 0.503
    expected = [0.45 * 0.20 * (1 - q), 0.45 * -0.20 * q]
    np.testing.assert_allclose(true_uplift(two, msg), expected, rtol=1e-9)
    np.testing.assert_allclose(true_revenue_uplift(two, msg), [100 * expected[0], 0.45 * 100 * -0.20 * m], rtol=1e-9)
    # a person who has dropped out: the offer can only make a buyer
    two["alive_at_end"] = False
    np.testing.assert_allclose(true_uplift(two, msg), [0.45 * 0.20, 0.0], rtol=1e-9)


def test_bad_messages_are_refused_with_what_to_do(persons):
    msgs = _messages(persons).head(3)
    with pytest.raises(InputError, match="unknown channel"):
        respond(persons, msgs.assign(channel="fax"))
    with pytest.raises(InputError, match="unknown offer kind"):
        respond(persons, msgs.assign(offer_kind="free_lunch"))
    with pytest.raises(InputError, match="not in the persons table"):
        respond(persons, msgs.assign(person_id="P999999999"))
    with pytest.raises(InputError, match="activity"):
        respond(persons.drop(columns="activity"), msgs)
    with pytest.raises(InputError, match="sent_at"):
        respond(persons, msgs.assign(sent_at=pd.NaT))
