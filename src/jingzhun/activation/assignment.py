"""Arms of a campaign: a control group held out and A/B variants, assigned deterministically.

Each person's bucket is a number in [0, 1) computed from a keyed hash:

    bucket = first 8 hex digits of SHA-256(secret | "arm" | campaign id | profile id) / 16^8

and the arms cut [0, 1) into consecutive intervals by their shares, in the order given (``control``
is an arm like any other). So:

* the same person in the same campaign always lands in the same arm, on any engine and in any run;
* a person's arm does not depend on who else is in the audience: when the audience grows, everyone
  already assigned keeps their arm, and newcomers fall into arms in the same proportions;
* different campaigns split people independently (the campaign id is part of the hash), so a
  person is not in the control group of every campaign;
* the project secret keys the hash, so nobody outside can predict who will be held out.

32 bits of hash give a bucket resolution of 2.3e-10, far finer than any share anyone sets. The hash
is computed in Ibis (``hexdigest('sha256')``, identical on DuckDB and PySpark; the hex digits are read
by their character codes, since neither engine offers a portable hex-to-integer cast), and
:func:`bucket_for` is the same function in plain Python, which the tests hold equal to it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.activation.consent import as_utc_literal
from jingzhun.activation.errors import PlanError
from jingzhun.warehouse import Warehouse

__all__ = ["CONTROL", "Arm", "ArmSplit", "bucket_for", "bucket_expr", "arm_for", "assignment_expr", "assign"]

CONTROL = "control"
_HEX_DIGITS = 8
_SCALE = float(16 ** _HEX_DIGITS)


@dataclass(frozen=True)
class Arm:
    name: str
    share: float


@dataclass(frozen=True)
class ArmSplit:
    """Arms and their shares, in order; the shares add up to 1.

    ``ArmSplit.of({"control": 0.1, "A": 0.45, "B": 0.45})`` holds out 10% and splits the rest in two.
    Changing the shares of a running campaign moves people between arms, so do it only between
    campaigns; :func:`assign` keeps the arms already written whatever the split says.
    """

    arms: tuple[Arm, ...]

    def __post_init__(self) -> None:
        if not self.arms:
            raise PlanError("an arm split needs at least one arm")
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise PlanError(f"arm names must be unique, got {names}")
        for a in self.arms:
            if not a.name or not isinstance(a.name, str):
                raise PlanError(f"every arm needs a name, got {a.name!r}")
            if not (isinstance(a.share, (int, float)) and math.isfinite(a.share) and a.share > 0):
                raise PlanError(f"arm {a.name!r}: share must be a number above 0, got {a.share!r}")
        total = math.fsum(a.share for a in self.arms)
        if abs(total - 1.0) > 1e-9:
            raise PlanError(f"arm shares must add up to 1, they add up to {total:g}: {dict(self.items())}")

    @classmethod
    def of(cls, shares: Mapping[str, float] | Sequence[tuple[str, float]]) -> "ArmSplit":
        pairs = shares.items() if isinstance(shares, Mapping) else shares
        return cls(tuple(Arm(str(name), float(share)) for name, share in pairs))

    def items(self) -> list[tuple[str, float]]:
        return [(a.name, a.share) for a in self.arms]

    def upper_bounds(self) -> list[tuple[str, float]]:
        """Each arm with the upper end of its interval; the last arm runs to 1 whatever rounding says."""
        bounds, edge = [], 0.0
        for a in self.arms[:-1]:
            edge += a.share
            bounds.append((a.name, edge))
        return bounds


def bucket_for(campaign_id: str, profile_id: str, secret: str) -> float:
    """One person's bucket in [0, 1) for one campaign (the plain-Python twin of :func:`bucket_expr`)."""
    digest = hashlib.sha256(f"{secret}|arm|{campaign_id}|{profile_id}".encode("utf-8")).hexdigest()
    return int(digest[:_HEX_DIGITS], 16) / _SCALE


def bucket_expr(campaign_id: str, profile_id: ir.StringValue, secret: str) -> ir.FloatingValue:
    """Every person's bucket in [0, 1) for one campaign, as an Ibis expression."""
    digest = (ibis.literal(f"{secret}|arm|{campaign_id}|") + profile_id).hexdigest("sha256")
    value = None
    for i in range(_HEX_DIGITS):
        code = digest.substr(i, 1).ascii_str().cast("int64")
        digit = code - 48 - ibis.ifelse(code >= 97, 39, 0)  # '0'-'9' are 48-57, 'a'-'f' are 97-102
        term = digit * (16 ** (_HEX_DIGITS - 1 - i))
        value = term if value is None else value + term
    return value.cast("float64") / _SCALE


def arm_for(bucket: float, split: ArmSplit) -> str:
    """The arm whose interval holds ``bucket``."""
    for name, upper in split.upper_bounds():
        if bucket < upper:
            return name
    return split.arms[-1].name


def assignment_expr(audience: ir.Table, campaign_id: str, split: ArmSplit, secret: str) -> ir.Table:
    """campaign_id, profile_id, arm for every distinct profile of ``audience`` (a table with profile_id)."""
    people = audience.select("profile_id").distinct()
    bucket = bucket_expr(campaign_id, people.profile_id, secret)
    bounds = split.upper_bounds()
    last = split.arms[-1].name
    arm = ibis.cases(*((bucket < upper, name) for name, upper in bounds), else_=last) if bounds else ibis.literal(last)
    return people.select(campaign_id=ibis.literal(campaign_id), profile_id=people.profile_id, arm=arm.cast("string"))


def assign(warehouse: Warehouse, campaign_id: str, audience: ir.Table, split: ArmSplit, secret: str,
           at: datetime | pd.Timestamp | str | None = None) -> ir.Table:
    """Write the arms of the audience's people not yet assigned in this campaign; return all its assignments.

    People already in ``assignments`` for the campaign keep their row (and arm) untouched, so running
    this again on a grown audience adds only the newcomers.
    """
    if not campaign_id:
        raise PlanError("a campaign id is needed to assign arms")
    moment = as_utc_literal(at if at is not None else pd.Timestamp.now(tz="UTC"))
    current = warehouse.table("assignments")
    current = current.filter(current.campaign_id == campaign_id)
    fresh = assignment_expr(audience, campaign_id, split, secret)
    fresh = fresh.anti_join(current, fresh.profile_id == current.profile_id).mutate(assigned_at=moment)
    with warehouse.transaction():
        warehouse.append("assignments", warehouse.stage(fresh))
    t = warehouse.table("assignments")
    return t.filter(t.campaign_id == campaign_id)
