"""What segments are evaluated over at a moment: the profile features as of then, and the audience context.

``profile_features`` describes the moment of its last build. A segment evaluated at that moment reads
it as it is; a segment evaluated at any other moment (a snapshot of last month, a diff between two
dates) gets the features computed point in time from the history before that moment
(:func:`jingzhun.profile.features.features_as_of`), so that ``recency_days > 90`` at a past as_of means
what it meant then.

Point-in-time features are costly (the whole feature build over the history), so they are computed only
when an audience reads a feature field, and kept (staged) for the warehouse session, keyed by as_of,
time zone and the number of rows in ``loads`` and ``runs``: a new load or build computes them again.
"""

from __future__ import annotations

import datetime as dt
import logging
import weakref

import ibis.expr.types as ir
import pandas as pd

from jingzhun.errors import ConfigError
from jingzhun.profile.features import features_as_of
from jingzhun.profile.refresh import last_state
from jingzhun.segment.context import _CUSTOMER_FIELDS, AudienceContext, as_utc, context_from_warehouse

__all__ = ["features_at", "built_as_of", "default_as_of", "segment_context"]

log = logging.getLogger(__name__)

_POINT_IN_TIME: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def built_as_of(warehouse) -> dt.datetime | None:
    """The moment ``profile_features`` describes (None when it was never built)."""
    pf = warehouse.table("profile_features")
    value = warehouse.execute(pf.as_of.max())
    if value is None or pd.isna(value):
        return None
    return as_utc(value)


def default_as_of(warehouse) -> dt.datetime:
    """The moment a segment is evaluated at when none is named: that of the latest feature build."""
    when = built_as_of(warehouse)
    if when is None:
        raise ConfigError("no profile features have been built, so there is no default moment to evaluate a "
                          "segment at: run `jingzhun build`, or name one with --as-of")
    return when


def _same_moment(a: dt.datetime | None, b: dt.datetime) -> bool:
    # feature builds keep whole seconds (Clock.at drops microseconds)
    return a is not None and a.replace(microsecond=0) == b.replace(microsecond=0)


def _data_mark(warehouse) -> tuple[int, int]:
    return warehouse.count("loads"), warehouse.count("runs")


def features_at(warehouse, as_of, *, timezone: str | None = None) -> ir.Table:
    """The profile features as of ``as_of``: the stored table when it describes that moment, else
    computed point in time (staged for the session), in the time zone of the last build."""
    as_of = as_utc(as_of)
    if _same_moment(built_as_of(warehouse), as_of):
        return warehouse.table("profile_features")
    tz = timezone or (last_state(warehouse) or {}).get("timezone") or "UTC"
    key = (as_of.replace(microsecond=0), tz, _data_mark(warehouse))
    cache = _POINT_IN_TIME.setdefault(warehouse, {})
    kept = cache.get(key)
    if kept is not None and warehouse.has_table(kept.get_name()):
        return kept
    log.info("profile_features describe another moment; computing features as of %s (%s)", as_of, tz)
    cache[key] = features_as_of(warehouse, as_of, timezone=tz)
    return cache[key]


def segment_context(warehouse, as_of, *, fields=None, catalog=None) -> AudienceContext:
    """The audience context at ``as_of`` whose feature fields describe that same moment.

    ``fields`` names the fields that will be read (None: any); when none of them is a profile feature,
    the stored features are left in place rather than recomputed for a moment nobody reads them at.
    """
    as_of = as_utc(as_of)
    ctx = context_from_warehouse(warehouse, as_of=as_of, catalog=catalog)
    stored = warehouse.table("profile_features")
    own = set(warehouse.table("profiles").columns) | set(_CUSTOMER_FIELDS) | {"age"}
    swapped = [c for c in ctx.base.columns if c in stored.columns and c not in own]
    if fields is not None:
        swapped = [c for c in swapped if c in set(fields)]
    if not swapped or _same_moment(built_as_of(warehouse), as_of):
        return ctx
    feats = features_at(warehouse, as_of)
    feats = feats.select(_f_pid=feats.profile_id, **{c: feats[c] for c in swapped})
    kept = ctx.base.select(*[c for c in ctx.base.columns if c not in swapped])
    joined = kept.left_join(feats, kept.profile_id == feats._f_pid)
    base = joined.select(*[joined[c] for c in ctx.base.columns])
    return AudienceContext(base=base, as_of=as_of, events=ctx.events, purchases=ctx.purchases, tags=ctx.tags,
                           scores=ctx.scores, stores=ctx.stores, catalog=catalog)
