"""A campaign declared as data: who, what offer, which channel, when, with which control group.

A campaign is a YAML file (or the same structure built in Python) read into a frozen
:class:`Campaign`. Everything a marketer decides is in it; everything the data decides (who is in the
audience today, which channel each person answers on, the hour they read) is left to the planner
(:mod:`jingzhun.activation.campaigns.planner`). Example (docs/campaigns.md explains every key)::

    id: winback-dec
    name: Win back customers at risk
    audience: "score('churn_risk') >= 0.5 and frequency >= 2"
    exclude: ["tag('complained')"]
    rank_by: clv_12m
    limit: 5000
    arms: {control: 0.1, A: 0.9}
    offers:
      - {id: coupon10, kind: discount, title: "10% off", when: "price_sensitivity >= 0.6",
         coupon_code: WIN10, cost: 4.0, templates: {email: winback_coupon}}
      - {id: news, kind: new_product, title: "New this month", templates: {email: winback_news}}
    channels: [email]
    costs: {email: 0.002}
    schedule: {start: "2026-12-01T00:00:00+08:00", within_days: 3, send_time: best}
    conversion: {window_days: 14}
    templates:
      winback_coupon: {channel: email, subject: "...", text: "... {{ unsubscribe_url }}"}

Why a validated model rather than a free dictionary: a campaign sends real messages to real people,
so a typo in a key (``cotrol: 0.1``) must stop it before anything is planned. Every error names the
file and the key path, and says what is allowed.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, time
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jingzhun.activation.assignment import CONTROL, ArmSplit
from jingzhun.activation.consent import CONSENT_CHANNELS
from jingzhun.activation.errors import PlanError
from jingzhun.activation.deliver import FrequencyCap
from jingzhun.activation.surveys import Questionnaire, SurveyError, questionnaire_from_dict
from jingzhun.activation.templates import MessageTemplate, TemplateSet
from jingzhun.activation.triggers import Trigger

__all__ = ["Campaign", "Offer", "Schedule", "Conversion", "Caps", "TemplateSpec", "TriggerSpec", "SurveySpec",
           "load_campaign", "campaign_from_dict", "CampaignError"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class CampaignError(PlanError):
    """A campaign definition that cannot be used: names the file and the key at fault."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Offer(_Strict):
    """An offer and the people it is for. ``when`` is an audience expression evaluated on the campaign's
    audience; the first offer whose ``when`` holds is the person's; an offer without ``when`` takes the rest."""

    id: str
    kind: str = Field(description="discount, new_product, points, win_back, ... (free text, used in reports)")
    title: str = ""
    when: str | None = None
    templates: dict[str, str] = Field(description="channel -> template name")
    coupon_code: str | None = None
    cost: float = Field(0.0, ge=0, description="cost to the business per redemption or conversion")
    value: float | None = Field(None, description="the offer's face value (10 for 10% off), shown in templates")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _checked_id(v, "offer id")

    @field_validator("templates")
    @classmethod
    def _templates(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("an offer needs at least one template, by channel: {email: my_template}")
        _check_channels(v)
        return v


class Schedule(_Strict):
    """When messages go: from ``start`` within ``within_days``, at each person's best hour (``best``) or
    at one local clock time (``"10:00"``), never inside ``quiet_hours`` (local ``[from, to)``)."""

    start: datetime | None = Field(None, description="first moment a message may go; unset: when the plan is made")
    within_days: int = Field(3, ge=1, le=60, description="whole days from start in which every message goes")
    send_time: str = Field("best", description="'best' (the send-time model) or a local clock time 'HH:MM'")
    quiet_hours: tuple[str, str] | None = ("21:00", "09:00")
    timezone: str | None = Field(None, description="IANA zone of local times; unset: the profiles' timezone")
    use_weekday: bool = Field(True, description="prefer each person's best weekday when the window holds it")

    @field_validator("send_time")
    @classmethod
    def _send_time(cls, v: str) -> str:
        if v != "best" and not _CLOCK.match(v):
            raise ValueError(f"send_time is 'best' or a clock time like '10:00', got {v!r}")
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v):
        if v is not None:
            for t in v:  # whole hours: the send-time model moves messages hour by hour (models.sendtime)
                if not (_CLOCK.match(t) and t.endswith(":00")):
                    raise ValueError(f"quiet hours are two whole hours like ['21:00', '09:00'], got {list(v)}")
        return v

    def fixed_clock(self) -> time | None:
        if self.send_time == "best":
            return None
        hours, minutes = self.send_time.split(":")
        return time(int(hours), int(minutes))


class Conversion(_Strict):
    """What counts as the campaign working: a purchase within ``window_days`` of the message."""

    window_days: float = Field(14.0, gt=0, le=365)
    min_amount: float = Field(0.0, ge=0)


class Caps(_Strict):
    per_day: int | None = Field(1, ge=1)
    per_week: int | None = Field(3, ge=1)

    def frequency_cap(self) -> FrequencyCap:
        return FrequencyCap(per_day=self.per_day, per_week=self.per_week)


class TemplateSpec(_Strict):
    channel: str
    subject: str | None = None
    text: str | None = None
    html: str | None = None

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        _check_channels([v])
        return v


class TriggerSpec(_Strict):
    """The campaign sends one message to a person each time this fires (kinds and parameters:
    docs/triggers.md); the audience is then who may receive it, not who receives it."""

    kind: str
    params: dict[str, Any] = Field(default_factory=dict)
    cooldown_days: float = Field(30.0, ge=0, le=3650)

    def trigger(self, campaign_id: str) -> Trigger:
        return Trigger(id=campaign_id, campaign=campaign_id, kind=self.kind, params=self.params,
                       cooldown_days=self.cooldown_days)


class SurveySpec(_Strict):
    """A questionnaire sent to a sample of the audience (``share`` of it, drawn by a keyed hash)."""

    share: float = Field(gt=0, le=1)
    questionnaire: dict[str, Any]

    def form(self) -> Questionnaire:
        return questionnaire_from_dict(self.questionnaire, source="survey.questionnaire")


class Campaign(_Strict):
    id: str
    name: str
    description: str = ""
    audience: str = Field(description="an audience expression or the name of a saved segment")
    exclude: tuple[str, ...] = ()
    rank_by: str | None = Field(None, description="a score (clv_12m, uplift, p_buy_90d) or a profile field; "
                                                  "highest first")
    limit: int | None = Field(None, ge=1, description="at most this many people, best ranked first")
    budget: float | None = Field(None, gt=0, description="at most this much spent on messages, best ranked first")
    arms: dict[str, float] = Field(default_factory=lambda: {CONTROL: 0.1, "A": 0.9})
    arm_offers: dict[str, str] = Field(default_factory=dict, description="arm -> offer id, for A/B tests of "
                                                                          "offers; other arms use `when`")
    offers: tuple[Offer, ...]
    channels: tuple[str, ...] = ("email",)
    costs: dict[str, float] = Field(default_factory=dict, description="cost per message sent, by channel")
    schedule: Schedule = Schedule()
    caps: Caps = Caps()
    conversion: Conversion = Conversion()
    purpose: str = "marketing"
    templates: dict[str, TemplateSpec] = Field(default_factory=dict)
    trigger: TriggerSpec | None = None
    survey: SurveySpec | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _checked_id(v, "campaign id")

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("name at least one channel")
        _check_channels(v)
        if len(set(v)) != len(v):
            raise ValueError(f"channels are listed twice: {list(v)}")
        return v

    @field_validator("costs")
    @classmethod
    def _costs(cls, v: dict[str, float]) -> dict[str, float]:
        _check_channels(v)
        bad = {k: c for k, c in v.items() if not c >= 0}
        if bad:
            raise ValueError(f"costs must be 0 or more, got {bad}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "Campaign":
        try:
            ArmSplit.of(self.arms)
        except PlanError as exc:
            raise ValueError(str(exc)) from None
        ids = [o.id for o in self.offers]
        if not ids:
            raise ValueError("a campaign needs at least one offer (an offer may be just a message: kind: message)")
        if len(set(ids)) != len(ids):
            raise ValueError(f"offer ids must be unique, got {ids}")
        defaults = [o.id for o in self.offers if o.when is None]
        if len(defaults) > 1:
            raise ValueError(f"only one offer may go without `when` (the default), got {defaults}")
        for arm, offer in self.arm_offers.items():
            if arm not in self.arms or arm == CONTROL:
                raise ValueError(f"arm_offers names arm {arm!r}; treated arms are {self._treated()}")
            if offer not in ids:
                raise ValueError(f"arm_offers gives arm {arm!r} offer {offer!r}; offers are {ids}")
        for o in self.offers:
            for channel, name in o.templates.items():
                if channel in self.channels and name not in self.templates:
                    raise ValueError(f"offer {o.id!r} uses template {name!r} on {channel}, which `templates` "
                                     f"does not define; defined: {sorted(self.templates)}")
                if name in self.templates and self.templates[name].channel != channel:
                    raise ValueError(f"offer {o.id!r} sends template {name!r} by {channel}, but the template "
                                     f"is for {self.templates[name].channel}")
        for channel in self.channels:
            if not any(channel in o.templates for o in self.offers):
                raise ValueError(f"no offer has a template for channel {channel!r}: add one under "
                                 f"offers[].templates or drop the channel")
        if self.trigger is not None:
            if self.limit is not None or self.budget is not None:
                raise ValueError("a trigger campaign sends when occasions happen: it has no limit or budget "
                                 "(its cooldown_days bounds how often one person hears from it)")
            try:
                self.trigger.trigger(self.id)
            except ValidationError as exc:
                raise ValueError("trigger: " + "; ".join(e["msg"].removeprefix("Value error, ")
                                                         for e in exc.errors())) from None
        if self.survey is not None:
            try:
                self.survey.form()
            except SurveyError as exc:
                raise ValueError(str(exc)) from None
        if self.budget is not None and not any(self.costs.get(c, 0) > 0 for c in self.channels):
            raise ValueError("a budget needs costs per message for the campaign's channels (costs: {email: 0.002})")
        return self

    def _treated(self) -> list[str]:
        return [a for a in self.arms if a != CONTROL]

    def split(self) -> ArmSplit:
        return ArmSplit.of(self.arms)

    def template_set(self) -> TemplateSet:
        return TemplateSet([MessageTemplate(name, t.channel, subject=t.subject, text=t.text, html=t.html)
                            for name, t in self.templates.items()])

    def offer(self, offer_id: str) -> Offer:
        for o in self.offers:
            if o.id == offer_id:
                return o
        raise CampaignError(f"campaign {self.id!r} has no offer {offer_id!r}")

    def to_json(self) -> str:
        """The definition as stored in ``campaigns.definition`` (keys in a stable order)."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)


def _checked_id(v: str, what: str) -> str:
    if not _ID.match(v or ""):
        raise ValueError(f"{what} {v!r}: use 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit")
    return v


def _check_channels(channels) -> None:
    bad = sorted(set(channels) - set(CONSENT_CHANNELS))
    if bad:
        raise ValueError(f"unknown channels {bad}; use {', '.join(CONSENT_CHANNELS)}")


def _where(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def campaign_from_dict(data: Any, *, source: str = "campaign") -> Campaign:
    """A :class:`Campaign` from a mapping; errors name ``source`` and the key path of every problem."""
    if not isinstance(data, dict):
        raise CampaignError(f"{source}: a campaign is a mapping of keys (id, name, audience, offers, ...), "
                            f"got {type(data).__name__}")
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {_where(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        raise CampaignError(f"{source} is not a valid campaign:\n" + "\n".join(lines)) from None
    try:
        campaign.template_set()
    except Exception as exc:  # a template that does not compile: report it as a campaign error
        raise CampaignError(f"{source}: {exc}") from None
    return campaign


def load_campaign(path: str | Path) -> Campaign:
    """Read a campaign YAML file. Template parts may be given inline or as ``file: name`` next to the YAML."""
    path = Path(path)
    if not path.exists():
        raise CampaignError(f"{path}: no such campaign file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CampaignError(f"{path} is not valid YAML: {exc}") from None
    if isinstance(data, dict):
        data = _with_files(data, path.parent, path)
    return campaign_from_dict(data, source=str(path))


def _with_files(data: dict, folder: Path, path: Path) -> dict:
    """Template parts written as ``{file: welcome.html}`` and a survey's ``questionnaire: {file: q.yaml}``
    are read from files beside the campaign."""
    def read(value, where: str) -> str:
        f = folder / str(value["file"])
        if not f.exists():
            raise CampaignError(f"{path}: {where}: file {f} not found")
        return f.read_text(encoding="utf-8")

    def is_file(value) -> bool:
        return isinstance(value, dict) and set(value) == {"file"}

    out = dict(data)
    templates = data.get("templates")
    if isinstance(templates, dict):
        out["templates"] = {}
        for name, spec in templates.items():
            if isinstance(spec, dict):
                spec = {part: read(v, f"templates.{name}.{part}") if is_file(v) else v for part, v in spec.items()}
            out["templates"][name] = spec
    survey = data.get("survey")
    if isinstance(survey, dict) and is_file(survey.get("questionnaire")):
        try:
            form = yaml.safe_load(read(survey["questionnaire"], "survey.questionnaire"))
        except yaml.YAMLError as exc:
            raise CampaignError(f"{path}: survey.questionnaire is not valid YAML: {exc}") from None
        out["survey"] = {**survey, "questionnaire": form}
    return out
