"""Surveys: a questionnaire sent to a sample of an audience, its answers recorded and summarised.

A :class:`Questionnaire` is data (YAML or a mapping), its texts in Chinese and English::

    id: vip-satisfaction
    title: {zh: 会员满意度调查, en: Member satisfaction}
    questions:
      - {id: overall, kind: rating, text: {zh: 总体满意度, en: Overall satisfaction}}
      - id: channel
        kind: single
        text: {zh: 您最常在哪里购物？, en: Where do you shop most?}
        options: [{id: store, text: {zh: 门店, en: In store}}, {id: app, text: App}]
      - {id: improve, kind: text, text: {zh: 有什么建议？, en: What should we improve?}, required: false}

Kinds: ``single`` (one option), ``multiple`` (one or more options), ``rating`` (a whole number 1 to 5),
``text`` (free text up to ``max_length`` characters).

The flow: :func:`sample` draws the people (a keyed hash, so the same people every time); the planner
sends each of them a message at their best time; the message's template links to the questionnaire
with ``{{ survey('vip-satisfaction') }}`` (a signed link naming the delivery and the questionnaire);
the service shows the form and hands the answers to :func:`record_answers`, which validates them and
writes one ``responses`` row (``survey_answer``, the answers as JSON in ``detail``); :func:`summary`
gives the response rate and the answers per question.

A delivery answers once: a second submission is refused (:class:`SurveyError`) and the first stands.
Refused rather than versioned because a link can be forwarded or replayed, and a questionnaire
counts people, not submissions.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import ibis.expr.types as ir
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jingzhun.activation.assignment import bucket_expr
from jingzhun.activation.errors import ActivationError
from jingzhun.activation.links import SURVEY, verify_token
from jingzhun.warehouse import Warehouse

__all__ = ["SurveyError", "Text", "Option", "Question", "Questionnaire", "questionnaire_from_dict",
           "load_questionnaire", "sample", "record_answers", "summary", "SurveySummary", "SURVEY_ANSWER"]

SURVEY_ANSWER = "survey_answer"
RATING = (1, 5)


class SurveyError(ActivationError):
    """A questionnaire that cannot be used, or answers that do not fit it (``question`` names which)."""

    def __init__(self, message: str, *, question: str | None = None) -> None:
        self.question = question
        super().__init__(message)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Frozen):
    """A text in Chinese and English; one given alone serves both."""

    zh: str | None = None
    en: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, value):
        return {"zh": value, "en": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _some(self) -> "Text":
        if not (self.zh or self.en):
            raise ValueError("a text needs zh or en")
        return self

    def get(self, language: str = "zh") -> str:
        return (self.zh if language == "zh" else self.en) or self.en or self.zh or ""


class Option(_Frozen):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    text: Text


class Question(_Frozen):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    kind: Literal["single", "multiple", "rating", "text"]
    text: Text
    options: tuple[Option, ...] = ()
    required: bool = True
    max_length: int = Field(2000, ge=1, le=100_000)

    @model_validator(mode="after")
    def _options(self) -> "Question":
        ids = [o.id for o in self.options]
        if self.kind in ("single", "multiple") and len(ids) < 2:
            raise ValueError(f"a {self.kind} choice question needs at least 2 options")
        if self.kind not in ("single", "multiple") and ids:
            raise ValueError(f"a {self.kind} question has no options")
        if len(set(ids)) != len(ids):
            raise ValueError(f"option ids repeat: {ids}")
        return self

    def allowed(self) -> str:
        """What an answer to this question may be, in words."""
        if self.kind == "rating":
            return f"a whole number from {RATING[0]} to {RATING[1]}"
        if self.kind == "text":
            return f"text of at most {self.max_length} characters"
        ids = ", ".join(o.id for o in self.options)
        return f"one of {ids}" if self.kind == "single" else f"a list of one or more of {ids}"


class Questionnaire(_Frozen):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: Text
    questions: tuple[Question, ...] = Field(min_length=1)

    @field_validator("questions")
    @classmethod
    def _unique(cls, v: tuple[Question, ...]) -> tuple[Question, ...]:
        ids = [q.id for q in v]
        if len(set(ids)) != len(ids):
            raise ValueError(f"question ids repeat: {ids}")
        return v

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise SurveyError(f"questionnaire {self.id!r} has no question {question_id!r}", question=question_id)

    def check(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The answers, checked and normalised (unanswered optional questions left out); SurveyError else."""
        if not isinstance(answers, Mapping):
            raise SurveyError(f"answers are a mapping of question id to answer, got {type(answers).__name__}")
        known = {q.id for q in self.questions}
        unknown = sorted(set(map(str, answers)) - known)
        if unknown:
            raise SurveyError(f"questionnaire {self.id!r} has no question {', '.join(map(repr, unknown))}; "
                              f"its questions are {', '.join(q.id for q in self.questions)}", question=unknown[0])
        out = {}
        for q in self.questions:
            value = answers.get(q.id)
            if _blank(value):
                if q.required:
                    raise SurveyError(f"question {q.id!r} ({q.text.get('en')}) needs an answer: {q.allowed()}",
                                      question=q.id)
                continue
            out[q.id] = _checked(q, value)
        return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, (list, tuple))
                                                                               and not value)


def _checked(q: Question, value: Any) -> Any:
    def refuse(why: str) -> SurveyError:
        return SurveyError(f"question {q.id!r} ({q.text.get('en')}): {why}; give {q.allowed()}", question=q.id)

    if q.kind == "rating":
        ok = isinstance(value, int) and not isinstance(value, bool) or (isinstance(value, float) and value.is_integer())
        if not ok or not RATING[0] <= value <= RATING[1]:
            raise refuse(f"{value!r} is not allowed")
        return int(value)
    if q.kind == "text":
        if not isinstance(value, str):
            raise refuse(f"{value!r} is not text")
        text = value.strip()
        if len(text) > q.max_length:
            raise refuse(f"the answer has {len(text)} characters")
        return text
    options = {o.id for o in q.options}
    if q.kind == "single":
        if not isinstance(value, str) or value not in options:
            raise refuse(f"{value!r} is not an option")
        return value
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise refuse(f"{value!r} is not a list of options")
    wrong = [v for v in value if v not in options]
    if wrong:
        raise refuse(f"{', '.join(map(repr, wrong))} {'is' if len(wrong) == 1 else 'are'} not an option")
    if len(set(value)) != len(value):
        raise refuse("an option is chosen twice")
    return [o.id for o in q.options if o.id in value]  # in the questionnaire's order


def questionnaire_from_dict(data: Any, *, source: str = "questionnaire") -> Questionnaire:
    """A :class:`Questionnaire` from a mapping; errors name ``source`` and the key path of every problem."""
    if not isinstance(data, Mapping):
        raise SurveyError(f"{source}: a questionnaire is a mapping (id, title, questions), got {type(data).__name__}")
    try:
        return Questionnaire.model_validate(dict(data))
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg'].removeprefix('Value error, ')}"
                 for e in exc.errors()]
        raise SurveyError(f"{source} is not a valid questionnaire:\n" + "\n".join(lines)) from None


def load_questionnaire(path: str | Path) -> Questionnaire:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SurveyError(f"{path}: cannot read the questionnaire: {exc}") from None
    return questionnaire_from_dict(data, source=str(path))


# -- who is asked ------------------------------------------------------------------------------------

def sample(warehouse: Warehouse, audience: ir.Table, share: float, campaign_id: str, secret: str) -> ir.Table:
    """profile_id of a deterministic ``share`` of the audience's people (``0.01``: 1 in 100).

    The draw is the arms' keyed bucket (:func:`jingzhun.activation.assignment.bucket_expr`) for the
    campaign id with ``/survey`` appended: the same people every run and on either engine, nobody's
    draw depends on who else is in the audience, and it is independent of the campaign's arms (with
    the campaign id alone, a 1% sample would be the first 1% of the buckets: all in the control group).
    """
    if not (isinstance(share, (int, float)) and math.isfinite(share) and 0 < share <= 1):
        raise SurveyError(f"a survey's share is above 0 and at most 1 (0.01 for 1%), got {share!r}")
    if not campaign_id:
        raise SurveyError("a survey sample needs the campaign id")
    people = audience.select("profile_id").distinct()
    return people.filter(bucket_expr(f"{campaign_id}/survey", people.profile_id, secret) < float(share))


# -- answers -------------------------------------------------------------------------------------------

def record_answers(warehouse: Warehouse, token: str, answers: Mapping[str, Any], secret: str, *,
                   questionnaire: Questionnaire, at: datetime | pd.Timestamp | None = None) -> dict[str, Any]:
    """Check ``answers`` against the questionnaire the signed survey link names and record them.

    Writes one ``responses`` row (``survey_answer``; ``detail`` = JSON ``{"questionnaire": id,
    "answers": {...}}``) and returns the normalised answers. Nothing is written when the token does not
    verify, is not a survey link of this questionnaire, names no delivery, was answered already, or an
    answer does not fit its question (the error names the question and what it allows).
    """
    link = verify_token(token, secret)
    if link.kind != SURVEY:
        raise SurveyError(f"this is a {link.kind} link, not a survey link")
    if link.target != questionnaire.id:
        raise SurveyError(f"the link is for questionnaire {link.target!r}, not {questionnaire.id!r}")
    checked = questionnaire.check(answers)
    moment = pd.Timestamp(at if at is not None else pd.Timestamp.now(tz="UTC"))
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    d = warehouse.table("deliveries")
    found = warehouse.execute(d.filter(d.delivery_id == link.delivery_id).select("profile_id").limit(1))
    if found.empty:
        raise SurveyError(f"the link names delivery {link.delivery_id!r}, which is not in `deliveries`")
    r = warehouse.table("responses")
    done = r.filter(r.delivery_id == link.delivery_id, r.response == SURVEY_ANSWER).count()
    if warehouse.execute(done):
        raise SurveyError(f"delivery {link.delivery_id!r} has answered questionnaire {questionnaire.id!r} "
                          "already; the first answer stands")
    detail = json.dumps({"questionnaire": questionnaire.id, "answers": checked}, ensure_ascii=False, sort_keys=True)
    row = pd.DataFrame({"delivery_id": [link.delivery_id], "profile_id": [found.profile_id.iloc[0]],
                        "response": [SURVEY_ANSWER], "responded_at": [moment], "detail": [detail]})
    with warehouse.transaction():
        warehouse.append("responses", row)
    return checked


# -- what they said ------------------------------------------------------------------------------------

@dataclass
class SurveySummary:
    questionnaire: str
    sent: int
    answered: int
    questions: list[dict] = field(default_factory=list)

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None

    def to_dict(self) -> dict:
        return {"questionnaire": self.questionnaire, "sent": self.sent, "answered": self.answered,
                "response_rate": self.response_rate, "questions": self.questions}


def summary(warehouse: Warehouse, campaign_id: str, questionnaire: Questionnaire) -> SurveySummary:
    """Response rate (answers / messages sent in the campaign) and, per question, how it was answered.

    Choice questions give a count per option (a multiple-choice answer counts once for each option
    chosen), ratings a count per value and the mean, text questions the number answered. The answers
    of one campaign are few (a sample of an audience), so they are read and tallied in Python.
    """
    d = warehouse.table("deliveries")
    mine = d.filter(d.campaign_id == campaign_id)
    sent = int(warehouse.execute(mine.filter(mine.status == "sent").count()))
    r = warehouse.table("responses")
    rows = r.filter(r.response == SURVEY_ANSWER).semi_join(mine, "delivery_id")
    details = warehouse.execute(rows.select("detail")).detail
    answers = [a["answers"] for a in map(json.loads, details) if a.get("questionnaire") == questionnaire.id]
    return SurveySummary(questionnaire.id, sent, len(answers), [_tally(q, answers) for q in questionnaire.questions])


def _tally(q: Question, answers: list[dict]) -> dict:
    given = [a[q.id] for a in answers if q.id in a]
    out = {"id": q.id, "kind": q.kind, "text": q.text.model_dump(), "answered": len(given)}
    if q.kind in ("single", "multiple"):
        counts = Counter(v for g in given for v in ([g] if q.kind == "single" else g))
        out["counts"] = {o.id: counts.get(o.id, 0) for o in q.options}
    elif q.kind == "rating":
        counts = Counter(given)
        out["counts"] = {v: counts.get(v, 0) for v in range(RATING[0], RATING[1] + 1)}
        out["mean"] = sum(given) / len(given) if given else None
    return out
