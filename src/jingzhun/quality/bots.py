"""Bot and abnormal-frequency detection over a batch of events.

An id (user_id, anonymous_id or device_id, each on its own) looks automated when, within the batch,

* more than ``settings.bot_events_per_minute`` of its events fall within one 60-second span, or
* it has a *burst*: at least ``burst_events`` consecutive events each closer than
  ``settings.bot_min_interval_seconds`` to the one before (a person double-clicks; a script fires
  dozens of clicks a few milliseconds apart).

Every event of such an id in the batch is flagged ``bot``; flagged events are kept, and later layers
leave them out of profiles and counts.

Both tests are window functions over the event time in epoch milliseconds (an integer on every
engine: DuckDB's epoch is fractional and would be rounded by a cast, so it is floored first):
a range window ``[t, t + 59.999 s]`` counts the events of the next minute after each event, and a
running sum over "gap at least the minimum interval" numbers the bursts. Ties in time are ordered by
``_row`` so that the burst numbering is the same on every engine.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from jingzhun.config import QualitySettings

__all__ = ["BOT_ID_COLUMNS", "epoch_millis", "flag_bots"]

BOT_ID_COLUMNS = ("user_id", "anonymous_id", "device_id")
_WINDOW_MS = 60_000


def epoch_millis(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Milliseconds since 1970-01-01 UTC, identical on DuckDB and Spark."""
    return ts.epoch_seconds().floor().cast("int64") * 1000 + ts.millisecond().cast("int64")


def _key(t: ir.Table, col: str) -> list[ir.Value]:
    return [t[col], t["__bot_ok"]]


def flag_bots(events: ir.Table, *, settings: QualitySettings = QualitySettings(), burst_events: int = 10,
              eligible: str | None = None, into: str = "_bot", time_column: str = "timestamp",
              id_columns: tuple[str, ...] = BOT_ID_COLUMNS) -> ir.Table:
    """``events`` with a boolean column ``into``: true on every event of an id that looks automated.

    ``eligible`` names a boolean column: only those rows are looked at (and can be flagged); the
    rules pass "not quarantined", so a duplicate set aside cannot make a person look like a bot.
    Columns of ``id_columns`` absent from ``events`` are skipped; a null id is nobody.
    """
    if burst_events < 2:
        raise ValueError("burst_events must be at least 2")
    min_gap_ms = int(round(settings.bot_min_interval_seconds * 1000))
    t = events.mutate(__bot_ms=epoch_millis(events[time_column]))
    ok = t[eligible].fill_null(False) if eligible else ibis.literal(True)
    t = t.mutate(__bot_ok=ok & t["__bot_ms"].notnull())
    flags = []
    for col in (c for c in id_columns if c in events.columns):
        per_minute = ibis.range_window(group_by=_key(t, col), order_by=t["__bot_ms"], preceding=0,
                                       following=_WINDOW_MS - 1)
        prev = t["__bot_ms"].lag().over(ibis.window(group_by=_key(t, col), order_by=[t["__bot_ms"], t._row]))
        t = t.mutate(**{
            f"__bot_n_{col}": t._row.count().over(per_minute),
            f"__bot_new_{col}": ibis.ifelse(prev.notnull() & ((t["__bot_ms"] - prev) < min_gap_ms), 0, 1),
        })
        running = ibis.window(group_by=_key(t, col), order_by=[t["__bot_ms"], t._row], rows=(None, 0))
        t = t.mutate(**{f"__bot_burst_{col}": t[f"__bot_new_{col}"].sum().over(running)})
        t = t.mutate(**{f"__bot_len_{col}": t._row.count().over(
            ibis.window(group_by=[*_key(t, col), t[f"__bot_burst_{col}"]]))})
        suspicious = (t[f"__bot_n_{col}"] > settings.bot_events_per_minute) | (t[f"__bot_len_{col}"] >= burst_events)
        t = t.mutate(**{f"__bot_ev_{col}": ibis.ifelse(suspicious, 1, 0)})
        t = t.mutate(**{f"__bot_id_{col}": t[f"__bot_ev_{col}"].max().over(ibis.window(group_by=_key(t, col)))})
        flags.append(f"__bot_id_{col}")
    bot = ibis.literal(False)
    for name in flags:
        col = name[len("__bot_id_"):]
        bot = bot | (t[col].notnull() & t["__bot_ok"] & (t[name] == 1))
    t = t.mutate(**{into: bot})
    return t.select(*events.columns, into)
