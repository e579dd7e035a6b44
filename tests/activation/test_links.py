"""Signed link tokens, and what a click, an open or an unsubscribe records."""

from __future__ import annotations

import base64
import json

import ibis
import pandas as pd
import pytest

from jingzhun.activation import LinkToken, TokenError, consented, record_response, sign_token, token_from_url, verify_token
from tests.activation.conftest import BASE_URL, SECRET, hours, ids_of, pid

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_a_token_round_trips(links):
    url = links.click("d1", "https://shop.example/p/1?a=1&b=中")
    assert url.startswith(f"{BASE_URL}/r/")
    assert verify_token(token_from_url(url), SECRET) == LinkToken("d1", "click", "https://shop.example/p/1?a=1&b=中")
    assert links.pixel("d1").endswith(".gif")
    assert verify_token(token_from_url(links.pixel("d1")), SECRET) == LinkToken("d1", "open")
    assert verify_token(token_from_url(links.unsubscribe("d1")), SECRET) == LinkToken("d1", "unsubscribe")


def _reencode(body: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("tamper", ["delivery", "target", "kind", "signature", "secret", "truncated", "garbage"])
def test_a_tampered_token_is_rejected(tamper):
    good = sign_token(LinkToken("d1", "click", "https://shop.example/"), SECRET)
    payload, mac = good.split(".")
    bad = {
        "delivery": f"{_reencode({'d': 'd2', 'k': 'click', 'u': 'https://shop.example/'})}.{mac}",
        "target": f"{_reencode({'d': 'd1', 'k': 'click', 'u': 'https://evil.example/'})}.{mac}",
        "kind": f"{_reencode({'d': 'd1', 'k': 'unsubscribe', 'u': 'https://shop.example/'})}.{mac}",
        "signature": f"{payload}.{mac[:-2]}{'A' if mac[-2] != 'A' else 'B'}{mac[-1]}",
        "secret": sign_token(LinkToken("d1", "click", "https://shop.example/"), "another-secret"),
        "truncated": payload,
        "garbage": "%%%.%%%",
    }[tamper]
    with pytest.raises(TokenError):
        verify_token(bad, SECRET)


@pytest.mark.parametrize("target", ["javascript:alert(1)", "ftp://x.example/f", "/relative", ""])
def test_only_web_addresses_are_tracked(links, target):
    with pytest.raises(TokenError, match="http"):
        links.click("d1", target)


def _sent(warehouse, i: int, channel: str = "email") -> str:
    did = f"d{i}"
    warehouse.append("deliveries", pd.DataFrame({
        "delivery_id": [did], "campaign_id": ["c1"], "profile_id": [pid(i)], "arm": ["A"], "channel": [channel],
        "scheduled_at": [hours(0)], "sent_at": [hours(0)], "status": ["sent"]}))
    return did


def test_clicks_and_opens_become_responses(warehouse, population, links):
    population.add(1)
    did = _sent(warehouse, 0)
    target = record_response(warehouse, token_from_url(links.click(did, "https://shop.example/x")), SECRET, at=hours(1))
    record_response(warehouse, token_from_url(links.pixel(did)), SECRET, at=hours(2))
    assert target.target == "https://shop.example/x"
    got = warehouse.execute(warehouse.table("responses").order_by("responded_at"))
    assert got[["delivery_id", "profile_id", "response"]].values.tolist() == [[did, pid(0), "click"], [did, pid(0), "open"]]
    assert list(pd.to_datetime(got.responded_at, utc=True)) == [hours(1), hours(2)]  # Spark gives naive UTC
    assert warehouse.count("consents") == 0


def test_an_unsubscribe_withdraws_consent_on_the_channel_for_every_identifier(warehouse, population, links):
    population.add(2)
    population.consent([(i, "user_id", "all", "granted", hours(-1)) for i in range(2)])
    did = _sent(warehouse, 0, channel="sms")
    record_response(warehouse, token_from_url(links.unsubscribe(did)), SECRET, at=hours(1))
    everyone = ibis.memtable(pd.DataFrame({"profile_id": [pid(0), pid(1)]}))
    allowed = lambda ch, at: set(warehouse.execute(consented(warehouse, everyone, ch, at)).profile_id)  # noqa: E731
    assert allowed("sms", hours(0.5)) == {pid(0), pid(1)}
    assert allowed("sms", hours(1)) == {pid(1)}          # withdrawn from the moment of the click
    assert allowed("email", hours(1)) == {pid(0), pid(1)}  # on the message's channel only
    denials = warehouse.execute(warehouse.table("consents").filter(lambda c: c.status == "denied"))
    assert len(denials) == 3 and set(denials.channel) == {"sms"} and set(denials.source) == {"unsubscribe_link"}
    assert sorted(k for kind in ("user_id", "email", "phone") for k in denials[kind].dropna()) == sorted(ids_of(0).values())
    assert warehouse.execute(warehouse.table("responses").response).tolist() == ["unsubscribe"]


def test_a_token_for_an_unknown_delivery_records_nothing(warehouse, links):
    with pytest.raises(TokenError, match="not in `deliveries`"):
        record_response(warehouse, token_from_url(links.pixel("d-gone")), SECRET)
    assert warehouse.count("responses") == 0
