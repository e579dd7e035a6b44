"""Activation: consent, arms, templates, tracked links, connectors and delivery (docs/delivery.md).

Consent is enforced here on every delivery, without exception: :func:`deliver` checks it for each
message at the moment the message goes.
"""

from jingzhun.activation.assignment import CONTROL, Arm, ArmSplit, arm_for, assign, assignment_expr, bucket_expr, bucket_for
from jingzhun.activation.connectors import (
    Connector,
    FileConnector,
    Message,
    Outcome,
    SmtpConnector,
    WebhookConnector,
    verify_signature,
)
from jingzhun.activation.consent import consent_records, consent_state, consented
from jingzhun.activation.deliver import DeliveryReport, FrequencyCap, deliver, delivery_id_for
from jingzhun.activation.errors import ActivationError, PlanError, TemplateError, TokenError
from jingzhun.activation.links import Links, LinkToken, record_response, sign_token, token_from_url, verify_token
from jingzhun.activation.templates import MessageTemplate, RenderedMessage, TemplateSet

__all__ = [
    "consent_records", "consent_state", "consented",
    "CONTROL", "Arm", "ArmSplit", "bucket_for", "bucket_expr", "arm_for", "assignment_expr", "assign",
    "MessageTemplate", "RenderedMessage", "TemplateSet",
    "Links", "LinkToken", "sign_token", "verify_token", "token_from_url", "record_response",
    "Connector", "Message", "Outcome", "SmtpConnector", "WebhookConnector", "FileConnector", "verify_signature",
    "deliver", "DeliveryReport", "FrequencyCap", "delivery_id_for",
    "ActivationError", "TemplateError", "TokenError", "PlanError",
]
