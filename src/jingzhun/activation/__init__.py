"""Activation: consent, arms, templates, tracked links, connectors and delivery (docs/delivery.md); location
targeting (docs/targeting.md), triggers (docs/triggers.md) and surveys (docs/surveys.md).

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
from jingzhun.activation.location import (LocationError, in_area, near_point, near_store, nearest_store,
                                          store_catchment)
from jingzhun.activation.surveys import Questionnaire, SurveyError, load_questionnaire, questionnaire_from_dict, record_answers
from jingzhun.activation.triggers import Trigger, load_triggers, trigger_from_dict
from jingzhun.activation.templates import MessageTemplate, RenderedMessage, TemplateSet

__all__ = [
    "consent_records", "consent_state", "consented",
    "CONTROL", "Arm", "ArmSplit", "bucket_for", "bucket_expr", "arm_for", "assignment_expr", "assign",
    "MessageTemplate", "RenderedMessage", "TemplateSet",
    "Links", "LinkToken", "sign_token", "verify_token", "token_from_url", "record_response",
    "Connector", "Message", "Outcome", "SmtpConnector", "WebhookConnector", "FileConnector", "verify_signature",
    "deliver", "DeliveryReport", "FrequencyCap", "delivery_id_for",
    "ActivationError", "TemplateError", "TokenError", "PlanError",
    "near_store", "near_point", "in_area", "store_catchment", "nearest_store", "LocationError",
    "Trigger", "trigger_from_dict", "load_triggers",  # triggers.evaluate runs them
    "Questionnaire", "questionnaire_from_dict", "load_questionnaire", "record_answers", "SurveyError",  # surveys.sample, .summary
]
