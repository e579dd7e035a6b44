"""Expected response per channel: hand-worked beta-binomial shrinkage toward the segment and the
population, engagement events before any campaign, and the prior's strength against a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jingzhun.errors import ConfigError
from jingzhun.models.channels import ChannelResponseModel, channel_scores
from jingzhun.models.store import register, write_scores
from jingzhun.schema.tables import table

AS_OF = "2024-06-10T00:00:00Z"
SENT_AT = pd.Timestamp("2024-06-01 10:00", tz="UTC")


def _features(segments: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame({"profile_id": list(segments), "age_band": list(segments.values()),
                          "as_of": pd.Timestamp(AS_OF)})
    for column in table("profile_features").columns:
        if not column.nullable and column.name not in frame:
            frame[column.name] = 0 if column.dtype == "int64" else 0.0
    return frame


def _sends(rows: list[tuple[str, str, int, int]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(deliveries, responses) for (person, channel, messages sent, messages answered)."""
    deliveries, responses = [], []
    for person, channel, sent, answered in rows:
        for i in range(sent):
            delivery = f"{person}-{channel}-{i}"
            deliveries.append({"delivery_id": delivery, "campaign_id": "c", "profile_id": person, "arm": "a",
                               "channel": channel, "status": "sent", "sent_at": SENT_AT})
            if i < answered:  # an open, and for some a click too: one response per message counts
                responses.append({"delivery_id": delivery, "profile_id": person, "response": "open",
                                  "responded_at": SENT_AT + pd.Timedelta(hours=1)})
                if i % 2:
                    responses.append({"delivery_id": delivery, "profile_id": person, "response": "click",
                                      "responded_at": SENT_AT + pd.Timedelta(hours=2)})
    return pd.DataFrame(deliveries), pd.DataFrame(responses)


@pytest.fixture
def hand_shop(warehouse):
    """P (25-34): 6 of 10 e-mails answered, 0 of 10 SMS. S (35-44): 2 of 10 e-mails, 5 of 10 SMS.
    Q (25-34) and R (no segment): nothing. T (no segment): 3 e-mail opens and a purchase in the shop's
    events; U: 1 push open. A withheld message and a conversion do not count."""
    people = ["P", "S", "Q", "R", "T", "U"]
    warehouse.append("identity_map", pd.DataFrame({"kind": "user_id", "key": [f"u{p}" for p in people],
                                                   "profile_id": people, "is_shared": False}))
    warehouse.append("profile_features", _features({"P": "25-34", "Q": "25-34", "S": "35-44"}))
    deliveries, responses = _sends([("P", "email", 10, 6), ("P", "sms", 10, 0), ("S", "email", 10, 2),
                                    ("S", "sms", 10, 5)])
    withheld = {"delivery_id": "x", "campaign_id": "c", "profile_id": "P", "arm": "control", "channel": "sms",
                "status": "held_out"}
    warehouse.append("deliveries", pd.concat([deliveries, pd.DataFrame([withheld])]))
    conversion = {"delivery_id": "P-sms-0", "profile_id": "P", "response": "conversion", "responded_at": SENT_AT}
    warehouse.append("responses", pd.concat([responses, pd.DataFrame([conversion])]))
    at = pd.Timestamp("2024-05-01 12:00", tz="UTC")
    warehouse.append("events", pd.DataFrame([
        {"message_id": f"m{i}", "type": "track", "event": name, "user_id": user, "timestamp": at, "source": "web",
         "load_id": "l1", "quality_flags": ""}
        for i, (user, name) in enumerate([("uT", "Email Opened")] * 3 + [("uU", "Push Opened")])]))
    warehouse.append("orders", pd.DataFrame({
        "source": "shop", "order_id": ["o1"], "load_id": "l1", "quality_flags": "", "status": "completed",
        "is_return": False, "currency": "CNY", "amount": 10.0, "n_lines": 1, "user_id": "uT", "ordered_at": at}))
    return warehouse


def _rates(wh, model):
    got = wh.execute(model.predict(wh, AS_OF))
    return got.pivot(index="profile_id", columns="channel", values="expected_response")


def test_hand_worked_shrinkage(hand_shop):
    model = ChannelResponseModel(prior_messages=10.0, min_segment_size=1).fit(hand_shop, AS_OF)
    # population: e-mail 8 of 20, SMS 5 of 20; segment 25-34 e-mail (6 + 10 x 0.4) / (10 + 10) = 0.5,
    # SMS (0 + 10 x 0.25) / 20 = 0.125; 35-44 e-mail (2 + 4) / 20 = 0.3, SMS (5 + 2.5) / 20 = 0.375
    assert model.channels_["email"]["rate"] == pytest.approx(0.4)
    assert model.channels_["sms"]["rate"] == pytest.approx(0.25)
    assert model.channels_["email"]["segments"] == pytest.approx({"25-34": 0.5, "35-44": 0.3})
    rates = _rates(hand_shop, model)
    # P: (6 + 10 x 0.5) / 20 and (0 + 10 x 0.125) / 20: opens e-mails, ignores SMS
    assert rates.loc["P", "email"] == pytest.approx(0.55) and rates.loc["P", "sms"] == pytest.approx(0.0625)
    assert rates.loc["S", "sms"] == pytest.approx((5 + 3.75) / 20) and rates.loc["S", "sms"] > rates.loc["S", "email"]
    # thin data: Q falls back to the segment, R (no segment) to the population, push to base_rate
    assert rates.loc["Q", "email"] == pytest.approx(0.5) and rates.loc["Q", "sms"] == pytest.approx(0.125)
    assert rates.loc["R", "email"] == pytest.approx(0.4) and rates.loc["R", "sms"] == pytest.approx(0.25)
    assert rates.loc["R", "push"] == pytest.approx(0.1) and rates.loc["R", "wechat"] == pytest.approx(0.1)
    # engagement before campaigns: activity 5 (4 events, 1 purchase), e-mail share 3/5, push 1/5
    # T's e-mail lift ((3 + 10 x 0.6) / (4 + 10)) / 0.6, push lift ((0 + 10 x 0.2) / 14) / 0.2
    assert rates.loc["T", "email"] == pytest.approx(0.4 * (9 / 14) / 0.6)
    assert rates.loc["T", "push"] == pytest.approx(0.1 * (2 / 14) / 0.2)
    assert rates.loc["U", "push"] > rates.loc["T", "push"] and rates.loc["T", "email"] > rates.loc["U", "email"]


def test_scores_and_registry(hand_shop, tmp_path):
    model = ChannelResponseModel(prior_messages=10.0, min_segment_size=1).fit(hand_shop, AS_OF)
    record = register(hand_shop, model, "channel_response", as_of=AS_OF, data_fingerprint="x", metrics={},
                      directory=tmp_path)
    loaded = record.load()
    assert loaded.channels_ == model.channels_
    assert write_scores(hand_shop, channel_scores(loaded.predict(hand_shop, AS_OF)), record.model_id) == 30
    scores = hand_shop.execute(hand_shop.table("scores")).set_index(["profile_id", "score"])
    assert scores.loc[("P", "response_email"), "reason"] == "6 of 10 messages opened or clicked"
    assert scores.loc[("T", "response_email"), "reason"] == "3 responses in tracked events"


def test_prior_strength_by_the_method_of_moments(warehouse):
    """2,000 people with response rates ~ Beta(2, 6) (strength 8), 6 to 30 messages each."""
    rng = np.random.default_rng(5)
    n_people = 2_000
    p = rng.beta(2.0, 6.0, n_people)
    sent = rng.integers(6, 31, n_people)
    answered = rng.binomial(sent, p)
    rows = [(f"p{i}", "email", int(n), int(y)) for i, (n, y) in enumerate(zip(sent, answered))]
    deliveries, responses = _sends(rows)
    warehouse.append("identity_map", pd.DataFrame({"kind": "user_id", "key": [f"u{i}" for i in range(n_people)],
                                                   "profile_id": [f"p{i}" for i in range(n_people)],
                                                   "is_shared": False}))
    warehouse.append("deliveries", deliveries)
    warehouse.append("responses", responses)
    model = ChannelResponseModel().fit(warehouse, AS_OF)
    rate = answered.sum() / sent.sum()
    rho = (((answered - sent * rate) ** 2).sum() / (rate * (1 - rate)) - sent.sum()) / (sent * (sent - 1)).sum()
    assert model.channels_["email"]["strength"] == pytest.approx(1 / rho - 1, rel=1e-9)
    assert 6.0 < model.channels_["email"]["strength"] < 10.5   # the truth is 8
    # shrinkage beats each person's raw rate at recovering p
    rates = _rates(warehouse, model)["email"].reindex([f"p{i}" for i in range(n_people)]).to_numpy()
    assert np.mean((rates - p) ** 2) < 0.8 * np.mean((answered / sent - p) ** 2)


def test_parameters_are_checked():
    with pytest.raises(ConfigError, match="base_rate"):
        ChannelResponseModel(base_rate=1.5).fit(None, AS_OF)
