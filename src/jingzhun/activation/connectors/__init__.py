"""Delivery connectors: SMTP e-mail, webhooks, file export. Each sends rendered messages and reports
one outcome per message (:class:`Connector`)."""

from jingzhun.activation.connectors.base import FAILED, SENT, Connector, Message, Outcome
from jingzhun.activation.connectors.files import FileConnector
from jingzhun.activation.connectors.smtp import SmtpConnector
from jingzhun.activation.connectors.webhook import WebhookConnector, sign_body, verify_signature

__all__ = ["Connector", "Message", "Outcome", "SENT", "FAILED", "SmtpConnector", "WebhookConnector", "FileConnector",
           "sign_body", "verify_signature"]
