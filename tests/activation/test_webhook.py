"""Webhooks against a real local HTTP receiver: retries after a 500, no duplicates, signatures, no retry on 4xx."""

from __future__ import annotations

import time

import pytest

from jingzhun.activation import WebhookConnector, deliver, delivery_id_for, verify_signature
from jingzhun.activation.connectors.webhook import sign_body
from tests.activation.conftest import duckdb_warehouse, hours, pid, plan
from tests.activation.servers import Receiver

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def warehouse(tmp_path):
    """DuckDB only: the engine is not the subject here (test_consent runs deliver on both engines)."""
    yield from duckdb_warehouse(tmp_path)

HOOK_SECRET = "shared-with-the-receiver"
NOW = lambda: hours(0).to_pydatetime()  # noqa: E731


def sms_plan(people):
    return plan(people, channel="sms", template="spring_sms")


def consent_sms(population, n):
    population.add(n)
    population.consent([(i, "phone", "sms", "granted", hours(-1)) for i in range(n)])


def test_retries_after_a_500_and_each_message_arrives_once(warehouse, population, links, templates):
    consent_sms(population, 3)
    waits = []
    hook = lambda url: WebhookConnector(url, HOOK_SECRET, backoff=0.05, sleep=waits.append)  # noqa: E731
    with Receiver(HOOK_SECRET, fail_first=True) as receiver:
        report = deliver(warehouse, sms_plan([0, 1, 2]), templates=templates, connectors={"sms": hook(receiver.url)},
                         links=links, clock=NOW)
        again = deliver(warehouse, sms_plan([0, 1, 2]), templates=templates, connectors={"sms": hook(receiver.url)},
                        links=links, clock=NOW)
    ids = {delivery_id_for("c1", "1", pid(i), "sms") for i in range(3)}
    assert report["sent"] == 3 and again.already_recorded == 3 and sum(again.counts.values()) == 0
    assert receiver.attempts == {d: 2 for d in ids}          # one 500, one success, nothing on the re-run
    assert sorted(p["delivery_id"] for p in receiver.processed) == sorted(ids)
    assert receiver.bad_signatures == 0
    assert waits == [0.05, 0.05, 0.05]                         # one back-off per message, the first step
    body = next(p for p in receiver.processed if p["profile_id"] == pid(0))
    assert body["channel"] == "sms" and body["arm"] == "A" and body["content"]["text"].startswith("Spring sale https://t.")
    assert "to" not in body                                    # pseudonymous unless an address kind is asked for


def test_a_timeout_is_retried_with_the_same_key_and_the_receiver_drops_the_copy(warehouse, population, links,
                                                                                templates):
    consent_sms(population, 1)
    with Receiver(HOOK_SECRET, slow_first=True, delay=1.5) as receiver:
        report = deliver(warehouse, sms_plan([0]), templates=templates, links=links, clock=NOW,
                         connectors={"sms": WebhookConnector(receiver.url, HOOK_SECRET, timeout=0.5, backoff=0.01)})
    assert report["sent"] == 1
    assert list(receiver.attempts.values()) == [2] and len(receiver.processed) == 1


def test_a_4xx_is_not_retried_and_fails_with_the_answer(warehouse, population, links, templates):
    consent_sms(population, 1)
    with Receiver(HOOK_SECRET, status=422) as receiver:
        report = deliver(warehouse, sms_plan([0]), templates=templates, links=links, clock=NOW,
                         connectors={"sms": WebhookConnector(receiver.url, HOOK_SECRET, backoff=0.01)})
    assert report["failed"] == 1 and list(receiver.attempts.values()) == [1]
    detail = warehouse.execute(warehouse.table("deliveries").detail)[0]
    assert detail == "webhook: HTTP 422: rejected: unknown template"


def test_persistent_5xx_gives_up_after_max_attempts(warehouse, population, links, templates):
    consent_sms(population, 1)
    with Receiver(HOOK_SECRET, status=503) as receiver:
        report = deliver(warehouse, sms_plan([0]), templates=templates, links=links, clock=NOW,
                         connectors={"sms": WebhookConnector(receiver.url, HOOK_SECRET, max_attempts=3, backoff=0.01)})
    assert report["failed"] == 1 and list(receiver.attempts.values()) == [3]
    assert warehouse.execute(warehouse.table("deliveries").detail)[0].endswith("(gave up after 3 attempts)")


def test_a_wrong_secret_is_refused_by_the_receiver(warehouse, population, links, templates):
    consent_sms(population, 1)
    with Receiver(HOOK_SECRET) as receiver:
        report = deliver(warehouse, sms_plan([0]), templates=templates, links=links, clock=NOW,
                         connectors={"sms": WebhookConnector(receiver.url, "not-the-secret", backoff=0.01)})
    assert report["failed"] == 1 and receiver.bad_signatures == 1 and receiver.processed == []


def test_signature_checks_body_and_age():
    body, now = b'{"delivery_id":"d1"}', int(time.time())
    sig = sign_body(body, now, HOOK_SECRET)
    assert verify_signature(body, str(now), sig, HOOK_SECRET)
    assert not verify_signature(body + b" ", str(now), sig, HOOK_SECRET)
    assert not verify_signature(body, str(now), sig, "other")
    assert not verify_signature(body, str(now - 3600), sign_body(body, now - 3600, HOOK_SECRET), HOOK_SECRET)
    assert not verify_signature(body, "yesterday", sig, HOOK_SECRET)
