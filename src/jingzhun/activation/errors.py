"""Errors of the activation layer: templates that cannot render, links that do not verify, bad plans."""

from __future__ import annotations

from jingzhun.errors import JingzhunError

__all__ = ["ActivationError", "TemplateError", "TokenError", "PlanError"]


class ActivationError(JingzhunError):
    """Base class of the activation layer's errors."""


class TemplateError(ActivationError):
    """A message template that cannot be compiled or rendered.

    ``template`` names the template, ``part`` the part (subject, text or html) and ``field`` the missing
    or faulty field where one is known, so the person editing the template knows where to look.
    """

    def __init__(self, reason: str, *, template: str, part: str | None = None, field: str | None = None) -> None:
        self.reason = reason
        self.template = template
        self.part = part
        self.field = field
        where = f"template {template!r}" + (f", {part}" if part else "")
        super().__init__(f"{where}: {reason}")


class TokenError(ActivationError):
    """A tracking token that is malformed, tampered with, or names an unknown delivery."""


class PlanError(ActivationError):
    """A delivery plan or an arm split that cannot be used as given."""
