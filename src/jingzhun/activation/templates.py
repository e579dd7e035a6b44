"""Message templates: Jinja2 in a sandbox, with every field required.

A template has a subject, a plain-text body and an HTML body (which parts a channel needs:
:data:`CHANNEL_PARTS`). It is rendered once per person with this context:

    profile            the person's fields (a mapping: ``profile.city``, ``profile.favourite_category``)
    offer              the offer of the message (a mapping, or None when the plan gives none)
    recommendations    a list of mappings (products proposed for the person), possibly empty
    campaign_id, arm, channel, delivery_id
    track(url)         the tracked version of a link (a signed redirect: docs/delivery.md)
    survey(id)         the person's link to questionnaire ``id`` (docs/surveys.md)
    unsubscribe_url    the person's one-click unsubscribe link
    pixel_url          the open pixel's address (deliver adds the pixel to HTML bodies itself)

Why this shape:

* **Sandboxed, immutable.** Templates are written by marketers, not developers; the sandbox refuses
  Python internals (``__class__``, ``__globals__``), so a template cannot reach the secret or the
  warehouse, and refuses changing a list or a mapping, so one person's message cannot alter the data
  the next one is rendered from.
* **StrictUndefined.** A misspelt or missing field is an error naming the template, the part and the
  field, raised while deliver renders every message before sending the first one: a campaign never
  goes out half-sent, nor with "Dear ," in it.
* **Autoescape in HTML only.** A product name with ``<`` or ``&`` is escaped in the HTML body and
  left alone in the subject and the text body, where escaping would show as ``&amp;``.
* **E-mail needs an unsubscribe link.** An e-mail template that never uses ``unsubscribe_url`` is
  refused when it is made: the law in most markets asks for one in every marketing e-mail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, TemplateError as JinjaTemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from jingzhun.activation.errors import TemplateError

__all__ = ["CHANNEL_PARTS", "MessageTemplate", "RenderedMessage", "TemplateSet"]

PARTS = ("subject", "text", "html")
# parts a template must have per channel (e-mail also needs a text or an HTML body)
CHANNEL_PARTS: dict[str, tuple[str, ...]] = {
    "email": ("subject",),
    "sms": ("text",),
    "push": ("subject", "text"),
    "wechat": ("text",),
    "direct_mail": ("text",),
    "phone": ("text",),
}


@dataclass(frozen=True)
class MessageTemplate:
    """One message's parts as Jinja2 source; ``channel`` says where it can be sent."""

    name: str
    channel: str
    subject: str | None = None
    text: str | None = None
    html: str | None = None


@dataclass(frozen=True)
class RenderedMessage:
    template: str
    subject: str | None
    text: str | None
    html: str | None


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=True)


@dataclass
class TemplateSet:
    """Templates by name, compiled and checked once; :meth:`render` fills one in for one person."""

    templates: Iterable[MessageTemplate]
    _compiled: dict[str, tuple[MessageTemplate, dict[str, Any]]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        plain, escaped = _environment(False), _environment(True)
        for t in self.templates:
            if t.name in self._compiled:
                raise TemplateError("two templates have this name; give each its own", template=t.name)
            _check_parts(t)
            compiled = {}
            for part in PARTS:
                source = getattr(t, part)
                if source is None:
                    continue
                env = escaped if part == "html" else plain
                try:
                    compiled[part] = (env.from_string(source), meta.find_undeclared_variables(env.parse(source)))
                except TemplateSyntaxError as exc:
                    raise TemplateError(f"line {exc.lineno}: {exc.message}", template=t.name, part=part) from exc
            if t.channel == "email" and not any("unsubscribe_url" in names for _, names in compiled.values()):
                raise TemplateError(
                    "an e-mail must offer an unsubscribe link: use {{ unsubscribe_url }} in the text or HTML body",
                    template=t.name,
                )
            self._compiled[t.name] = (t, {part: tpl for part, (tpl, _) in compiled.items()})

    def __contains__(self, name: str) -> bool:
        return name in self._compiled

    def channel(self, name: str) -> str:
        return self._template(name).channel

    def _template(self, name: str) -> MessageTemplate:
        if name not in self._compiled:
            known = ", ".join(sorted(self._compiled)) or "none"
            raise TemplateError(f"no such template (templates known: {known})", template=name)
        return self._compiled[name][0]

    def render(self, name: str, context: Mapping[str, Any]) -> RenderedMessage:
        """The template ``name`` filled in with ``context``; a missing field raises :class:`TemplateError`."""
        self._template(name)
        parts = self._compiled[name][1]
        out: dict[str, str | None] = dict.fromkeys(PARTS)
        for part, tpl in parts.items():
            try:
                out[part] = tpl.render(context)
            except UndefinedError as exc:
                missing = _missing_field(str(exc))
                raise TemplateError(
                    f"field {missing!r} is missing from the message's data ({exc.message}); add it to the "
                    "profile fields, the offer or the recommendations, or change the template",
                    template=name, part=part, field=missing,
                ) from exc
            except SecurityError as exc:
                raise TemplateError(f"not allowed in a template: {exc}", template=name, part=part) from exc
            except JinjaTemplateError as exc:
                raise TemplateError(str(exc), template=name, part=part) from exc
        if out["subject"] is not None:
            out["subject"] = " ".join(out["subject"].split())  # a header is one line
        return RenderedMessage(template=name, **out)


def _check_parts(t: MessageTemplate) -> None:
    if t.channel not in CHANNEL_PARTS:
        raise TemplateError(f"unknown channel {t.channel!r}; use one of {', '.join(CHANNEL_PARTS)}", template=t.name)
    missing = [p for p in CHANNEL_PARTS[t.channel] if not getattr(t, p)]
    if t.channel == "email" and not (t.text or t.html):
        missing.append("text or html")
    if missing:
        raise TemplateError(f"a {t.channel} message needs {', '.join(missing)}", template=t.name)


_NAMED = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'|has no element '?([^']+?)'?$")


def _missing_field(message: str) -> str:
    """The field named in a Jinja2 undefined error ("'dict object' has no attribute 'city'")."""
    m = _NAMED.search(message)
    if not m:
        return message
    return next(g for g in m.groups() if g)
