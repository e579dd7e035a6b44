"""Consent: who may be sent a message on which channel, for which purpose, at a given moment.

The rules (docs/delivery.md states them for users):

* A consent record names a person by one or more identifiers (user id, e-mail, phone, WeChat openid,
  device). It attaches, through ``identity_map``, to the profile of each of those identifiers;
  an identifier set aside as shared (``is_shared``) attaches nobody, since a placeholder e-mail or a
  shop tablet says nothing about one person's wishes.
* Per profile, channel and purpose, the latest record at or before the moment wins. Two records at the
  same instant that disagree count as a denial: a tie is the one case where the data cannot say, and
  a message nobody wanted is the worse mistake.
* A record on channel ``all`` applies to every channel. For one channel, the latest of the records on
  that channel and on ``all`` wins; so "no to everything" after "yes to e-mail" stops e-mail, and a
  later "yes to e-mail" reopens e-mail alone.
* No record means no consent: messaging is opt-in.

Everything here is Ibis and runs on DuckDB and PySpark alike; ``at`` is compared as a UTC timestamp.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.schema import table as spec
from jingzhun.warehouse import Warehouse

__all__ = ["CONSENT_CHANNELS", "ALL_CHANNELS", "CONSENT_IDENTIFIERS", "consent_records", "consent_state", "consented"]

CONSENT_CHANNELS = ("email", "sms", "push", "wechat", "direct_mail", "phone")
ALL_CHANNELS = "all"
# the identifier columns of `consents`; each holds the pseudonymous key of its own kind
CONSENT_IDENTIFIERS: tuple[str, ...] = tuple(c.name for c in spec("consents").columns if c.pii)


def as_utc_literal(at: datetime | pd.Timestamp | str) -> ir.TimestampScalar:
    """``at`` as a UTC timestamp literal; a naive moment is taken to be UTC already."""
    ts = pd.Timestamp(at)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ibis.literal(ts.to_pydatetime(), type="timestamp('UTC')")


def consent_records(warehouse: Warehouse, at: datetime | pd.Timestamp | str) -> ir.Table:
    """Every consent record made at or before ``at``, attached to profiles.

    Columns: profile_id, channel, purpose, status, recorded_at. A record naming two identifiers of one
    person gives one row; a record whose identifiers belong to two profiles gives a row for each.
    """
    c = warehouse.table("consents")
    c = c.filter(c.recorded_at <= as_utc_literal(at))
    per_identifier = ibis.union(
        *(
            c.filter(c[kind].notnull()).select(
                kind=ibis.literal(kind), key=c[kind], channel=c.channel, purpose=c.purpose, status=c.status,
                recorded_at=c.recorded_at,
            )
            for kind in CONSENT_IDENTIFIERS
        ),
        distinct=False,
    )
    people = warehouse.table("identity_map")
    people = people.filter(~people.is_shared)
    attached = per_identifier.join(
        people, [per_identifier.kind == people.kind, per_identifier.key == people.key]
    )
    return attached.select("profile_id", "channel", "purpose", "status", "recorded_at").distinct()


def consent_state(warehouse: Warehouse, at: datetime | pd.Timestamp | str, purpose: str | None = None) -> ir.Table:
    """The standing record per profile, channel and purpose at ``at`` (``all`` kept as its own channel).

    Columns: profile_id, channel, purpose, granted (boolean), recorded_at. ``purpose`` narrows to one
    purpose. :func:`consented` resolves ``all`` against a channel.
    """
    records = consent_records(warehouse, at)
    if purpose is not None:
        records = records.filter(records.purpose == purpose)
    return _latest(records, ("profile_id", "channel", "purpose"))


def consented(warehouse: Warehouse, profiles: ir.Table, channel: str, at: datetime | pd.Timestamp | str,
              purpose: str = "marketing") -> ir.Table:
    """The rows of ``profiles`` (any table with a ``profile_id``) whose person may be messaged on
    ``channel`` for ``purpose`` at ``at``: the latest record on that channel or on ``all`` is a grant."""
    records = consent_records(warehouse, at)
    records = records.filter(
        (records.purpose == purpose) & records.channel.isin([channel, ALL_CHANNELS])
    )
    standing = _latest(records, ("profile_id",))
    allowed = standing.filter(standing.granted).select("profile_id")
    return profiles.semi_join(allowed, profiles.profile_id == allowed.profile_id)


def _latest(records: ir.Table, by: tuple[str, ...]) -> ir.Table:
    """The latest record per group; records tied at the latest instant grant only if all of them grant.

    A max-and-join rather than a window function, so that both engines read it the same way.
    """
    last = records.group_by(list(by)).aggregate(last_at=records.recorded_at.max())
    at_last = records.join(
        last, [*(records[k] == last[k] for k in by), records.recorded_at == last.last_at]
    ).select(*by, "recorded_at", "status")
    return at_last.group_by([*by, "recorded_at"]).aggregate(
        granted=(at_last.status == "granted").all()  # every record at that instant grants
    ).select(*by, "granted", "recorded_at")
