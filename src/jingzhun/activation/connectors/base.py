"""What a connector receives and what it answers: one rendered message per person, one outcome each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

__all__ = ["Message", "Outcome", "Connector", "SENT", "FAILED", "utc_now"]

SENT, FAILED = "sent", "failed"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Message:
    """One message to one person, ready to go.

    ``to`` is the raw address (an e-mail, a phone number) looked up in the PII vault at send time, and
    only for a connector that asks for one (``address_kind``); it lives in memory for the send only.
    """

    delivery_id: str
    campaign_id: str
    profile_id: str
    arm: str
    channel: str
    scheduled_at: datetime | None
    subject: str | None
    text: str | None
    html: str | None
    unsubscribe_url: str
    to: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one message: ``sent`` (with the time) or ``failed`` (with the reason)."""

    delivery_id: str
    status: str
    at: datetime
    detail: str | None = None


class Connector(Protocol):
    """Sends messages to one vendor or system.

    ``address_kind`` is the identifier kind whose raw value the connector needs in ``Message.to``
    (``"email"`` for SMTP), or None when it sends pseudonymous ids only. ``send`` answers one outcome
    per message, in order, and does not raise for a message that fails: it reports it.
    """

    address_kind: str | None

    def send(self, messages: Sequence[Message]) -> list[Outcome]: ...
