"""Bot detection: a planted bot is flagged, a fast human is not; the thresholds are exact."""

import pandas as pd
import pytest

from jingzhun.config import QualitySettings
from jingzhun.quality import flag_bots

BASE = pd.Timestamp("2024-05-01 08:00:00", tz="UTC")


def _events(spec):
    rows = []
    for uid, offsets_ms in spec.items():
        rows += [{"user_id": uid, "timestamp": BASE + pd.Timedelta(milliseconds=ms)} for ms in offsets_ms]
    df = pd.DataFrame(rows)
    df["_row"] = range(1, len(df) + 1)
    return df


def _bots(warehouse, df, **settings):
    t = warehouse.stage(df)
    got = warehouse.execute(flag_bots(t, settings=QualitySettings(**settings)))
    return set(got.loc[got._bot, "user_id"])


def test_planted_bot_and_fast_human(warehouse):
    df = _events({
        "bot": [i * 1_500 for i in range(31)],                 # 31 events within 45 s
        "human": [i * 2_100 for i in range(29)] + [61_000, 61_300],  # fast, with a double click
        "at-limit": [i * 1_900 for i in range(30)],            # exactly 30 in a minute: allowed
        "clicker": [200_000 + i * 100 for i in range(10)],     # 10 clicks 0.1 s apart: a burst
        "nine": [300_000 + i * 100 for i in range(9)],         # 9 such clicks: not yet
    })
    assert _bots(warehouse, df) == {"bot", "clicker"}


def test_null_ids_and_settings(warehouse):
    df = _events({None: [i * 10 for i in range(50)], "x": [i * 100 for i in range(12)]})
    assert _bots(warehouse, df) == {"x"}
    assert _bots(warehouse, df, bot_min_interval_seconds=0) == set()     # bursts off; 12/min is fine
    assert _bots(warehouse, df, bot_events_per_minute=11, bot_min_interval_seconds=0) == {"x"}


def test_burst_size_must_be_sensible(warehouse):
    with pytest.raises(ValueError):
        flag_bots(warehouse.stage(_events({"a": [0]})), burst_events=1)
