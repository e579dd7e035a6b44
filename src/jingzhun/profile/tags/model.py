"""A tag as data: frozen, typed, round-tripping to and from YAML.

A tag has a name, a family, labels and descriptions in Chinese and English, and exactly one of three
definitions:

* ``rule``: an audience expression (docs/audience-language.md); a yes/no tag, ``value`` null;
* ``bands``: a profile field cut into labelled bands, by fixed ``cuts`` or by ``quantiles`` of the
  population; ``value`` is the band's label;
* ``score``: a model score (the ``scores`` table) cut into levels the same way; nobody carries it until
  the score exists.

Bands are closed below and open above: with cuts ``[100, 1000]`` and labels ``[low, mid, high]``, a value
under 100 is low, 100 up to but not including 1000 is mid, 1000 and more is high. A label written ``null``
leaves that band untagged (``labels: [null, high]`` tags only the top). Quantile cuts are values of the
population (the lower value at position ``floor(q * (n - 1))`` of the sorted non-null values, as numpy's
``quantile(method="lower")``), so equal values always fall in the same band.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["FAMILIES", "FAMILY_LABELS", "Text", "Banding", "Bands", "ScoreLevels", "TagDef", "TAG_NAME"]

FAMILIES = ("basic", "interests", "social", "consumption", "predictions")
FAMILY_LABELS = {
    "basic": {"zh": "基础属性", "en": "Basic attributes"},
    "interests": {"zh": "兴趣偏好", "en": "Interests"},
    "social": {"zh": "社交属性", "en": "Social"},
    "consumption": {"zh": "消费特征", "en": "Consumption"},
    "predictions": {"zh": "预测", "en": "Predictions"},
}
TAG_NAME = r"^[a-z][a-z0-9_]{0,62}$"
_FROZEN = ConfigDict(extra="forbid", frozen=True)


class Text(BaseModel):
    """The same words in Chinese and English."""

    model_config = _FROZEN

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


class Banding(BaseModel):
    """Cut-offs (fixed, or quantiles of the population) and the label of each band."""

    model_config = _FROZEN

    cuts: tuple[float, ...] | None = None
    quantiles: tuple[float, ...] | None = None
    labels: tuple[str | None, ...]

    @model_validator(mode="after")
    def _consistent(self) -> "Banding":
        if (self.cuts is None) == (self.quantiles is None):
            raise ValueError("give either cuts (fixed cut-offs) or quantiles (shares of the population), not "
                             + ("both" if self.cuts is not None else "neither"))
        points = self.cuts if self.cuts is not None else self.quantiles
        which = "cuts" if self.cuts is not None else "quantiles"
        if not points:
            raise ValueError(f"{which} is empty: give at least one cut-off")
        if any(b <= a for a, b in zip(points, points[1:])):
            raise ValueError(f"{which} must increase strictly, got {list(points)}")
        if self.quantiles is not None and not all(0 < q < 1 for q in self.quantiles):
            raise ValueError(f"quantiles are shares strictly between 0 and 1, got {list(self.quantiles)}")
        if len(self.labels) != len(points) + 1:
            raise ValueError(f"{len(points)} cut-off(s) make {len(points) + 1} bands, and {len(self.labels)} "
                             "label(s) were given: give one label per band (null for a band left untagged)")
        named = [x for x in self.labels if x is not None]
        if not named:
            raise ValueError("every label is null: at least one band must carry the tag")
        if any(not x.strip() for x in named):
            raise ValueError("a label is empty: write a word, or null to leave the band untagged")
        if len(set(named)) != len(named):
            raise ValueError(f"labels repeat: {named}")
        return self


class Bands(Banding):
    """A profile field cut into bands; ``where`` (an audience expression) limits who is banded."""

    feature: str = Field(min_length=1)
    where: str | None = None


class ScoreLevels(Banding):
    """A model score cut into levels."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class TagDef(BaseModel):
    """One tag. Exactly one of ``rule``, ``bands`` and ``score`` defines it."""

    model_config = _FROZEN

    name: str = Field(pattern=TAG_NAME)
    family: Literal["basic", "interests", "social", "consumption", "predictions"]
    label: Text
    description: Text
    rule: str | None = None
    bands: Bands | None = None
    score: ScoreLevels | None = None
    reason: Union[Text, str, None] = None
    overrides: bool = False

    @field_validator("rule")
    @classmethod
    def _rule_text(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("the rule is empty: write an audience expression, e.g. recency_days > 90")
        return value

    @model_validator(mode="after")
    def _one_definition(self) -> "TagDef":
        given = [k for k in ("rule", "bands", "score") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a tag is defined by exactly one of rule, bands or score; "
                             + (f"this one has {' and '.join(given)}" if given else "this one has none"))
        return self

    @property
    def kind(self) -> str:
        return "rule" if self.rule is not None else "bands" if self.bands is not None else "score"

    @property
    def banding(self) -> Banding | None:
        return self.bands if self.bands is not None else self.score

    def reason_template(self, language: str) -> str | None:
        if self.reason is None or isinstance(self.reason, str):
            return self.reason
        return self.reason.get(language)

    def meaning(self) -> dict:
        """What decides who carries the tag (not its words): the input of :attr:`fingerprint`.

        Expressions are in their canonical text, so rewriting a rule with other spacing or keywords
        (``且`` for ``and``) keeps its meaning."""
        from jingzhun.segment import parse

        out = self.model_dump(include={"name", "rule", "bands", "score"}, exclude_none=True)
        if self.rule is not None:
            out["rule"] = parse(self.rule).to_text()
        if self.bands is not None and self.bands.where is not None:
            out["bands"]["where"] = parse(self.bands.where).to_text()
        return out

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the tag's meaning: only a change in who carries it changes the fingerprint."""
        text = json.dumps(self.meaning(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict:
        """The definition as it is written in YAML (defaults left out, the field or score first)."""
        out = self.model_dump(exclude_none=True, exclude_defaults=True)
        for key, first in (("bands", ("feature", "where")), ("score", ("name",))):
            if key in out:
                out[key] = {**{k: out[key][k] for k in first if k in out[key]}, **out[key]}
        return out
