"""Time arithmetic that gives the same integers on DuckDB and Spark.

Engines disagree on timestamp differences in days and months, so every feature works on whole epoch
seconds instead: a local day is ``(epoch seconds + offset) // 86400``, a local hour is
``(epoch seconds + offset) // 3600 % 24`` and a weekday is ``(local day + 3) % 7`` (1970-01-01 was a
Thursday; Monday = 0). The offset is the UTC offset of the chosen time zone *at as_of*, held fixed for
the whole history: a zone with daylight saving moves by an hour for part of the year (documented in
docs/features.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.types as ir

from jingzhun.errors import ConfigError

__all__ = ["Clock", "epoch_seconds", "SECONDS_PER_DAY"]

SECONDS_PER_DAY = 86_400


def epoch_seconds(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Whole seconds since 1970-01-01 UTC."""
    return ts.epoch_seconds().floor().cast("int64")


@dataclass(frozen=True)
class Clock:
    """The moment features describe, and the local time zone of hours, weekdays and days."""

    as_of: datetime  # timezone-aware, UTC
    offset_seconds: int = 0

    @classmethod
    def at(cls, as_of, timezone_name: str = "UTC") -> "Clock":
        """A clock at ``as_of`` (a datetime, pandas Timestamp or ISO text; naive means UTC)."""
        if as_of is None:
            raise ConfigError("features need an explicit as_of moment (for example '2024-12-31T00:00:00Z')")
        if isinstance(as_of, str):
            try:
                as_of = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
            except ValueError as exc:
                raise ConfigError(f"as_of {as_of!r} is not an ISO date or time: {exc}") from None
        if hasattr(as_of, "to_pydatetime"):
            as_of = as_of.to_pydatetime()
        if not isinstance(as_of, datetime):
            raise ConfigError(f"as_of must be a datetime or ISO text, got {type(as_of).__name__}")
        as_of = as_of.replace(tzinfo=timezone.utc) if as_of.tzinfo is None else as_of.astimezone(timezone.utc)
        try:
            zone = ZoneInfo(timezone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"unknown time zone {timezone_name!r}: use an IANA name such as Asia/Shanghai") from None
        offset = as_of.astimezone(zone).utcoffset()
        return cls(as_of=as_of.replace(microsecond=0), offset_seconds=int(offset.total_seconds()))

    # literals ------------------------------------------------------------------------------------
    @property
    def as_of_literal(self) -> ir.TimestampScalar:
        return ibis.literal(self.as_of, type="timestamp('UTC')")

    @property
    def as_of_epoch(self) -> int:
        return int(self.as_of.timestamp())

    def epoch_literal(self, days_before: int = 0) -> int:
        return self.as_of_epoch - days_before * SECONDS_PER_DAY

    @property
    def local_date(self) -> tuple[int, int, int]:
        """(year, month, day) of as_of in the local time zone."""
        local = datetime.fromtimestamp(self.as_of_epoch + self.offset_seconds, tz=timezone.utc)
        return local.year, local.month, local.day

    # column expressions --------------------------------------------------------------------------
    def local_seconds(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        return epoch_seconds(ts) + self.offset_seconds

    def local_day(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        return (self.local_seconds(ts) // SECONDS_PER_DAY).cast("int64")

    def local_hour(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        return ((self.local_seconds(ts) // 3600) % 24).cast("int64")

    def local_weekday(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        return ((self.local_day(ts) + 3) % 7).cast("int64")
