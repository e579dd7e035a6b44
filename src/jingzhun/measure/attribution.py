"""Attribution: how much of the conversions (or revenue) each channel earned, by seven rules side by side.

A *path* is one person's ordered touches (channel, time) before a conversion, or before the end of the
window without one. Rule-based methods share out each converting path's value among its touches:

* ``first_touch``, ``last_touch``: all to the first or last touch;
* ``linear``: equal shares;
* ``time_decay``: shares proportional to ``2 ** (-age / half_life)``, the age measured from the conversion;
* ``position_based``: 40% to the first, 40% to the last, 20% shared by the touches between (one touch:
  all of it; two touches: half each).

Data-driven methods look at converting and non-converting paths together:

* ``markov``: a first-order Markov chain over channels with start, conversion and null states; a channel's
  removal effect is the share of the conversion probability lost when its traffic goes to null; credits
  are the removal effects normalised to the total converted value (Anderl, Becker, von Wangenheim &
  Schumann 2016);
* ``shapley``: the Shapley value of the cooperative game whose worth v(S) is the converted value of the
  paths whose channels all lie in S (Zhao, Mahboobi & Bagheri 2018); the credits add up to v(all).

Both data-driven credits sum to the total converted value, as do the rule-based ones.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from jingzhun.errors import InputError

__all__ = ["Path", "paths_from_touches", "attribute", "METHODS", "MAX_SHAPLEY_CHANNELS"]

MAX_SHAPLEY_CHANNELS = 16  # 2^16 coalitions; more channels should be grouped first


@dataclass(frozen=True)
class Path:
    channels: tuple[str, ...]
    times: tuple[float, ...] | None = None  # hours before the conversion or window end, one per touch
    converted: bool = True
    value: float = 1.0  # conversions (1) or revenue


def paths_from_touches(touches: pd.DataFrame, outcomes: pd.DataFrame, *, person: str = "profile_id",
                       channel: str = "channel", time: str = "touched_at", converted: str = "converted",
                       value: str | None = None, end: str = "ended_at") -> list[Path]:
    """Paths from a frame of touches (person, channel, time) and one row per person of outcomes (person,
    converted, ended_at = the conversion time or the window's end, optionally value). Touches after a
    person's end are left out; people without touches have no path."""
    missing = [c for c in (person, channel, time) if c not in touches.columns]
    missing += [c for c in (person, converted, end) if c not in outcomes.columns]
    if missing:
        raise InputError(f"column {missing[0]!r} is missing", field=missing[0])
    merged = touches.merge(outcomes, on=person, how="inner")
    merged = merged[merged[time] <= merged[end]].sort_values([person, time], kind="stable")
    out = []
    for _, g in merged.groupby(person, sort=True):
        hours = ((g[end] - g[time]).dt.total_seconds() / 3600.0).to_numpy()
        out.append(Path(tuple(g[channel]), tuple(float(h) for h in hours), bool(g[converted].iloc[0]),
                        float(g[value].iloc[0]) if value else 1.0))
    return out


def _rule_weights(path: Path, method: str, half_life: float) -> np.ndarray:
    k = len(path.channels)
    if method == "first_touch":
        w = np.zeros(k)
        w[0] = 1.0
    elif method == "last_touch":
        w = np.zeros(k)
        w[-1] = 1.0
    elif method == "linear":
        w = np.full(k, 1.0 / k)
    elif method == "time_decay":
        if path.times is None:
            raise InputError("time decay needs the touch times of every path", field="times")
        w = np.power(2.0, -np.asarray(path.times, dtype=float) / half_life)
        w /= w.sum()
    elif method == "position_based":
        if k == 1:
            w = np.ones(1)
        elif k == 2:
            w = np.full(2, 0.5)
        else:
            w = np.full(k, 0.2 / (k - 2))
            w[0] = w[-1] = 0.4
    else:
        raise InputError(f"unknown attribution method {method!r}; methods are {', '.join(METHODS)}", field="method")
    return w


def _rule_based(paths: Sequence[Path], method: str, half_life: float) -> dict[str, float]:
    credit: dict[str, float] = defaultdict(float)
    for p in paths:
        if not p.converted:
            continue
        for ch, w in zip(p.channels, _rule_weights(p, method, half_life)):
            credit[ch] += w * p.value
    return dict(credit)


def _conversion_probability(transitions: dict[str, Counter], removed: str | None) -> float:
    """P(reaching conversion from start) of the absorbing chain, with ``removed``'s traffic sent to null."""
    states = sorted({s for s in transitions if s != "(start)"} - {removed})
    index = {s: i for i, s in enumerate(states)}
    n = len(states)
    # x_s = sum_t P(s -> t) x_t + P(s -> conversion); solve (I - Q) x = r
    q = np.zeros((n, n))
    r = np.zeros(n)

    def row(src: str) -> tuple[np.ndarray, float]:
        counts = transitions[src]
        total = sum(counts.values())
        to_states = np.zeros(n)
        to_conv = 0.0
        for dst, c in counts.items():
            if dst == "(conversion)":
                to_conv += c / total
            elif dst in index:
                to_states[index[dst]] += c / total
            # dst == removed or (null): absorbed without conversion
        return to_states, to_conv

    for s in states:
        q[index[s]], r[index[s]] = row(s)
    x = np.linalg.solve(np.eye(n) - q, r) if n else np.zeros(0)
    start_states, start_conv = row("(start)")
    return float(start_states @ x + start_conv)


def _markov(paths: Sequence[Path]) -> dict[str, float]:
    transitions: dict[str, Counter] = defaultdict(Counter)
    for p in paths:
        seq = ["(start)", *p.channels, "(conversion)" if p.converted else "(null)"]
        for a, b in zip(seq, seq[1:]):
            transitions[a][b] += 1
    base = _conversion_probability(transitions, None)
    channels = sorted({c for p in paths for c in p.channels})
    if base == 0:
        return {c: 0.0 for c in channels}
    effects = {c: 1.0 - _conversion_probability(transitions, c) / base for c in channels}
    total_effect = sum(effects.values())
    total_value = sum(p.value for p in paths if p.converted)
    return {c: (e / total_effect * total_value if total_effect > 0 else 0.0) for c, e in effects.items()}


def _shapley(paths: Sequence[Path]) -> dict[str, float]:
    channels = sorted({c for p in paths for c in p.channels})
    n = len(channels)
    if n > MAX_SHAPLEY_CHANNELS:
        raise InputError(f"Shapley attribution over {n} channels needs 2^{n} coalitions; group channels to at most "
                         f"{MAX_SHAPLEY_CHANNELS} first", field="channel")
    bit = {c: 1 << i for i, c in enumerate(channels)}
    worth_exact = np.zeros(1 << n)  # converted value of paths whose channel set is exactly the mask
    for p in paths:
        if p.converted:
            mask = 0
            for c in p.channels:
                mask |= bit[c]
            worth_exact[mask] += p.value
    # v(S) = sum over masks that are subsets of S (a sum over subsets, one pass per channel)
    worth = worth_exact.copy()
    for i in range(n):
        b = 1 << i
        for mask in range(1 << n):
            if mask & b:
                worth[mask] += worth[mask ^ b]
    fact = [math.factorial(k) for k in range(n + 1)]
    credit = {}
    for c in channels:
        b = bit[c]
        total = 0.0
        for mask in range(1 << n):
            if mask & b:
                continue
            size = bin(mask).count("1")
            total += fact[size] * fact[n - size - 1] / fact[n] * (worth[mask | b] - worth[mask])
        credit[c] = total
    return credit


METHODS = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "markov", "shapley")


def attribute(paths: Sequence[Path], methods: Sequence[str] = METHODS, *, half_life_hours: float = 168.0) -> pd.DataFrame:
    """Credit per channel (rows) and method (columns); every column sums to the total converted value."""
    if not paths:
        raise InputError("no paths to attribute", field="paths")
    for i, p in enumerate(paths):
        if not p.channels:
            raise InputError(f"path {i} has no touches", row=i, field="channels")
        if p.times is not None and len(p.times) != len(p.channels):
            raise InputError(f"path {i} has {len(p.channels)} touches but {len(p.times)} times", row=i, field="times")
    columns = {}
    for m in methods:
        if m == "markov":
            columns[m] = _markov(paths)
        elif m == "shapley":
            columns[m] = _shapley(paths)
        else:
            columns[m] = _rule_based(paths, m, half_life_hours)
    channels = sorted({c for p in paths for c in p.channels})
    frame = pd.DataFrame(columns, index=pd.Index(channels, name="channel")).fillna(0.0)
    return frame[list(methods)]
