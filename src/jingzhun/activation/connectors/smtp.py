"""E-mail through an SMTP server (your own, or a sending service's SMTP relay).

One message per person, never a shared To: or Bcc: list. Each message carries:

* ``Message-ID: <delivery id@sender domain>``: the delivery id again, so a bounce or a reply leads
  back to the delivery, and a server that deduplicates by Message-ID sees a resend as one message;
* ``List-Unsubscribe`` with the person's unsubscribe link and ``List-Unsubscribe-Post:
  List-Unsubscribe=One-Click`` (RFC 8058), which large mailbox providers require of bulk senders;
* ``X-Jingzhun-Delivery`` and ``X-Jingzhun-Campaign`` for the sender's own tracing;
* the text and HTML bodies as ``multipart/alternative`` when both exist.

The raw address (``Message.to``) comes from the PII vault at send time and is used only to address
the envelope and the To: header. One connection carries a whole batch; a dropped connection is
reopened once for the next message, and a message the server refuses is reported as failed with the
server's answer, without stopping the batch.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from jingzhun.activation.connectors.base import FAILED, SENT, Message, Outcome, utc_now

__all__ = ["SmtpConnector"]

log = logging.getLogger(__name__)


@dataclass
class SmtpConnector:
    """Send e-mail through ``host:port``; ``starttls`` upgrades the connection before logging in."""

    host: str
    port: int
    sender: str                       # the From: address, e.g. "Shop <news@shop.example>"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    reply_to: str | None = None
    address_kind: str | None = "email"

    def send(self, messages: Sequence[Message]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        server = None
        try:
            for message in messages:
                if message.to is None:
                    outcomes.append(Outcome(message.delivery_id, FAILED, utc_now(), "no e-mail address"))
                    continue
                try:
                    server = server or self._connect()
                    server.send_message(self.compose(message))
                    outcomes.append(Outcome(message.delivery_id, SENT, utc_now()))
                except smtplib.SMTPServerDisconnected as exc:
                    outcomes.append(Outcome(message.delivery_id, FAILED, utc_now(), f"SMTP connection lost: {exc}"))
                    server = _quit(server)
                except smtplib.SMTPException as exc:  # the server refused this message; the connection stays
                    outcomes.append(Outcome(message.delivery_id, FAILED, utc_now(), f"SMTP refused: {exc}"))
                except OSError as exc:  # cannot connect, or the socket broke: a fresh one for the next message
                    outcomes.append(Outcome(message.delivery_id, FAILED, utc_now(), f"SMTP connection: {exc}"))
                    server = _quit(server)
        finally:
            _quit(server)
        return outcomes

    def compose(self, message: Message) -> EmailMessage:
        """The e-mail for one message (public so that a preview can show exactly what would be sent)."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to or ""
        email["Subject"] = message.subject or ""
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = f"<{message.delivery_id}@{self._domain()}>"
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email["X-Jingzhun-Delivery"] = message.delivery_id
        email["X-Jingzhun-Campaign"] = message.campaign_id
        if self.reply_to:
            email["Reply-To"] = self.reply_to
        if message.text is not None:
            email.set_content(message.text)
            if message.html is not None:
                email.add_alternative(message.html, subtype="html")
        else:
            email.set_content(message.html or "", subtype="html")
        return email

    def _domain(self) -> str:
        address = self.sender.rsplit("<", 1)[-1].rstrip(">").strip()
        return address.rsplit("@", 1)[-1] if "@" in address else "localhost"

    def _connect(self) -> smtplib.SMTP:
        server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            server.ehlo()
            if self.starttls:
                server.starttls(context=ssl.create_default_context())
                server.ehlo()
            if self.username:
                server.login(self.username, self.password or "")
        except BaseException:
            _quit(server)
            raise
        return server


def _quit(server: smtplib.SMTP | None) -> None:
    if server is None:
        return None
    try:
        server.quit()
    except (smtplib.SMTPException, OSError):
        server.close()
    return None
