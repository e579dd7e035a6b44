"""Webhook: each message POSTed as JSON to a business system or a messaging vendor.

Every request carries:

* ``Idempotency-Key: <delivery id>``, the same on every retry of a message and on a re-run, so the
  receiver can drop a second copy (a retry after a timeout may follow a request that did arrive);
* ``X-Jingzhun-Timestamp: <unix seconds>`` and ``X-Jingzhun-Signature: v1=<hex>``, the
  HMAC-SHA256 of ``"<timestamp>.<body>"`` with a secret shared with the receiver (not the project
  secret). The receiver checks both with :func:`verify_signature`; the timestamp stops an old request
  from being replayed later.

Retries: a 5xx answer, a 429, a timeout or a refused connection is tried again, up to
``max_attempts`` in all, waiting ``backoff``, 2x, 4x ... seconds (capped at ``max_backoff``). A 4xx
other than 429 is the receiver saying the request itself is wrong: retrying cannot help, so the
message fails at once with the answer's status and the start of its body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from jingzhun.activation.connectors.base import FAILED, SENT, Message, Outcome, utc_now

__all__ = ["WebhookConnector", "sign_body", "verify_signature", "SIGNATURE_HEADER", "TIMESTAMP_HEADER"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Jingzhun-Signature"
TIMESTAMP_HEADER = "X-Jingzhun-Timestamp"


def sign_body(body: bytes, timestamp: int, secret: str) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify_signature(body: bytes, timestamp: str, signature: str, secret: str, *, tolerance_seconds: int = 300,
                     now: float | None = None) -> bool:
    """Whether a request is ours and recent: for receivers of jingzhun's webhooks."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign_body(body, ts, secret), signature or "")


def payload(message: Message) -> dict:
    """The JSON body of one message."""
    body = {
        "delivery_id": message.delivery_id, "campaign_id": message.campaign_id, "profile_id": message.profile_id,
        "arm": message.arm, "channel": message.channel,
        "scheduled_at": message.scheduled_at.isoformat() if message.scheduled_at else None,
        "content": {"subject": message.subject, "text": message.text, "html": message.html},
        "unsubscribe_url": message.unsubscribe_url,
    }
    if message.to is not None:
        body["to"] = message.to
    return body


@dataclass
class WebhookConnector:
    """POST each message to ``url``. ``address_kind`` (e.g. ``"phone"`` for an SMS vendor) adds the raw
    address as ``to``; leave it None to send pseudonymous profile ids only."""

    url: str
    signing_secret: str
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    max_attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    address_kind: str | None = None
    sleep: Callable[[float], None] = time.sleep

    def send(self, messages: Sequence[Message]) -> list[Outcome]:
        return [self._send_one(m) for m in messages]

    def _send_one(self, message: Message) -> Outcome:
        body = json.dumps(payload(message), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        problem = ""
        for attempt in range(1, self.max_attempts + 1):
            retry, problem = self._attempt(message.delivery_id, body)
            if problem is None:
                return Outcome(message.delivery_id, SENT, utc_now())
            if not retry:
                break
            if attempt < self.max_attempts:
                wait = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
                log.info("webhook %s, delivery %s: %s; retrying in %.2fs", self.url, message.delivery_id, problem, wait)
                self.sleep(wait)
        else:
            problem = f"{problem} (gave up after {self.max_attempts} attempts)"
        return Outcome(message.delivery_id, FAILED, utc_now(), f"webhook: {problem}")

    def _attempt(self, delivery_id: str, body: bytes) -> tuple[bool, str | None]:
        """(whether a failure is worth retrying, the failure or None on success)."""
        timestamp = int(time.time())
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            **self.headers,
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": delivery_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign_body(body, timestamp, self.signing_secret),
        })
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read()
                return False, None
        except urllib.error.HTTPError as exc:
            text = exc.read(200).decode("utf-8", "replace").strip()
            retry = exc.code >= 500 or exc.code == 429
            return retry, f"HTTP {exc.code}" + (f": {text}" if text else "")
        except (TimeoutError, socket.timeout) as exc:
            return True, f"timed out after {self.timeout:g}s ({exc})"
        except urllib.error.URLError as exc:
            return True, f"cannot reach the receiver ({exc.reason})"
        except (ConnectionError, OSError) as exc:
            return True, f"connection failed ({exc})"
