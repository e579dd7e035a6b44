"""Tracked links, the open pixel and the unsubscribe link, as signed tokens; recording what they report.

A token is ``<payload>.<mac>``, both base64url without padding:

    payload = JSON {"d": delivery id, "k": "click" | "open" | "unsubscribe" | "survey",
                    "u": target URL (clicks) or questionnaire id (surveys)}
    mac     = first 16 bytes of HMAC-SHA256(project secret, "jingzhun-link|" + payload)

The link itself is ``<base_url>/r/<token>`` (click), ``<base_url>/o/<token>.gif`` (open pixel),
``<base_url>/u/<token>`` (unsubscribe) or ``<base_url>/s/<token>`` (a questionnaire); the service answers
those paths (a redirect, a 1x1 GIF, a confirmation page, the questionnaire's form) by calling
:func:`record_response`, or :func:`jingzhun.activation.surveys.record_answers` for the form's answers.
Why signed:

* the redirect only goes where the message said: nobody can turn our domain into an open redirect
  by editing the target;
* nobody can unsubscribe someone else, or inflate a campaign's clicks, by editing a delivery id;
* the token holds no personal data, only the delivery id, which the warehouse resolves to the person.

128 bits of MAC are far beyond guessing. The prefix keeps these MACs apart from any other use of the
secret. Targets must be http or https URLs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import ibis
import pandas as pd

from jingzhun.activation.consent import CONSENT_IDENTIFIERS
from jingzhun.activation.errors import TokenError
from jingzhun.warehouse import Warehouse

__all__ = ["CLICK", "OPEN", "UNSUBSCRIBE", "SURVEY", "LinkToken", "Links", "sign_token", "verify_token", "token_from_url",
           "record_response"]

CLICK, OPEN, UNSUBSCRIBE, SURVEY = "click", "open", "unsubscribe", "survey"
_KINDS = (CLICK, OPEN, UNSUBSCRIBE, SURVEY)
_MAC_BYTES = 16
UNSUBSCRIBE_SOURCE = "unsubscribe_link"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkToken:
    """What a link names: a delivery, the kind of link, and its target (a click's URL, a survey's questionnaire)."""

    delivery_id: str
    kind: str
    target: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: str, secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), b"jingzhun-link|" + payload.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]


def sign_token(token: LinkToken, secret: str) -> str:
    """The signed text of a token."""
    if token.kind not in _KINDS:
        raise TokenError(f"unknown link kind {token.kind!r}; use one of {', '.join(_KINDS)}")
    if token.kind == CLICK:
        _check_target(token.target)
    if token.kind == SURVEY and not token.target:
        raise TokenError("a survey link names its questionnaire")
    body = {"d": token.delivery_id, "k": token.kind}
    if token.target is not None:
        body["u"] = token.target
    payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    return f"{payload}.{_b64(_mac(payload, secret))}"


def verify_token(text: str, secret: str) -> LinkToken:
    """The token behind a link, or :class:`TokenError` when it is malformed or was altered."""
    payload, dot, mac = (text or "").partition(".")
    if not dot or not payload or not mac:
        raise TokenError("not a jingzhun link token (expected <payload>.<signature>)")
    try:
        given = _unb64(mac)
    except (binascii.Error, ValueError) as exc:
        raise TokenError("the link's signature is not valid base64url") from exc
    try:
        expected = _mac(payload, secret)
    except UnicodeEncodeError as exc:
        raise TokenError("the link's payload is not base64url") from exc
    if not hmac.compare_digest(given, expected):
        raise TokenError("the link's signature does not match: it was altered or made with another secret")
    try:
        body = json.loads(_unb64(payload))
        token = LinkToken(delivery_id=str(body["d"]), kind=str(body["k"]), target=body.get("u"))
    except (ValueError, KeyError, TypeError) as exc:  # signed by us yet unreadable: a bug, not an attack
        raise TokenError(f"the link's payload cannot be read: {exc}") from exc
    if token.kind not in _KINDS:
        raise TokenError(f"unknown link kind {token.kind!r}")
    return token


def _check_target(target: str | None) -> None:
    parts = urlsplit(target or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TokenError(f"a tracked link must be an http(s) URL with a host, got {target!r}")


@dataclass(frozen=True)
class Links:
    """Makes the links of one delivery. ``base_url`` is where the service answers (no trailing slash)."""

    base_url: str
    secret: str

    def click(self, delivery_id: str, target: str) -> str:
        return f"{self.base_url.rstrip('/')}/r/{sign_token(LinkToken(delivery_id, CLICK, target), self.secret)}"

    def pixel(self, delivery_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/o/{sign_token(LinkToken(delivery_id, OPEN), self.secret)}.gif"

    def unsubscribe(self, delivery_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/u/{sign_token(LinkToken(delivery_id, UNSUBSCRIBE), self.secret)}"

    def survey(self, delivery_id: str, questionnaire_id: str) -> str:
        """The link to a questionnaire for this delivery (answers go to ``surveys.record_answers``)."""
        token = sign_token(LinkToken(delivery_id, SURVEY, questionnaire_id), self.secret)
        return f"{self.base_url.rstrip('/')}/s/{token}"


def token_from_url(url: str) -> str:
    """The token in a link made by :class:`Links` (the last path segment, without ``.gif``)."""
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return last[:-4] if last.endswith(".gif") else last


def record_response(warehouse: Warehouse, token: str, secret: str, at: datetime | pd.Timestamp | None = None,
                    purpose: str = "marketing") -> LinkToken:
    """Verify ``token`` and record what it reports; returns the token (its target, for a redirect).

    A click or an open becomes a row of ``responses`` (a survey link opened is a click, with the
    questionnaire in ``detail``). An unsubscribe becomes a response too, and a
    ``denied`` consent record on the delivery's channel for ``purpose``, one per identifier the
    person has (so that the withdrawal holds even if the identity graph later splits the profile),
    written in the same transaction. Consent is checked for every message at delivery time, so the
    person's next message is already suppressed.
    """
    link = verify_token(token, secret)
    moment = pd.Timestamp(at if at is not None else pd.Timestamp.now(tz="UTC"))
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    d = warehouse.table("deliveries")
    found = warehouse.execute(d.filter(d.delivery_id == link.delivery_id).select("profile_id", "channel").limit(1))
    if found.empty:
        raise TokenError(f"the link names delivery {link.delivery_id!r}, which is not in `deliveries`")
    profile_id, channel = found.profile_id.iloc[0], found.channel.iloc[0]
    # opening a questionnaire from a message is a click on it; its answers are recorded by surveys.record_answers
    kind, detail = (CLICK, f"survey {link.target}") if link.kind == SURVEY else (link.kind, None)
    response = pd.DataFrame({"delivery_id": [link.delivery_id], "profile_id": [profile_id], "response": [kind],
                             "responded_at": [moment], "detail": [detail]})
    withdrawal = None
    if link.kind == UNSUBSCRIBE:
        withdrawal = _withdrawal(warehouse, profile_id, channel, purpose, moment, link.delivery_id)
        if not warehouse.execute(withdrawal.count()):
            # consent attaches through these identifiers, so a person we could message has one
            log.warning("unsubscribe for delivery %s: profile %s has no identifier to record a denial on",
                        link.delivery_id, profile_id)
    with warehouse.transaction():
        warehouse.append("responses", response)
        if withdrawal is not None:
            warehouse.append("consents", withdrawal)
    return link


def _withdrawal(warehouse: Warehouse, profile_id: str, channel: str, purpose: str, moment: pd.Timestamp,
                delivery_id: str):
    """Denied consent records for every consent-bearing identifier of the person (an Ibis table)."""
    im = warehouse.table("identity_map")
    ids = im.filter((im.profile_id == profile_id) & ~im.is_shared & im.kind.isin(list(CONSENT_IDENTIFIERS)))
    columns = {kind: ibis.ifelse(ids.kind == kind, ids.key, ibis.null("string")) for kind in CONSENT_IDENTIFIERS}
    return ids.select(
        **columns, channel=ibis.literal(channel), purpose=ibis.literal(purpose), status=ibis.literal("denied"),
        recorded_at=ibis.literal(moment.to_pydatetime(), type="timestamp('UTC')"),
        source=ibis.literal(UNSUBSCRIBE_SOURCE), load_id=ibis.literal(f"unsubscribe:{delivery_id}"),
        quality_flags=ibis.literal(""),
    )
