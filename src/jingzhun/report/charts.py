"""Charts as inline SVG: drawn here, in Python, so a report needs no script, no font and no network.

Each function returns one ``<svg>`` element as text, with a ``<title>`` and the plotted numbers as
``data-*`` attributes on the marks (tests and screen readers can read them back). Every text that came
from data is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["line_chart", "bar_chart", "nice_ticks", "PALETTE"]

# colour-blind-safe (Okabe & Ito)
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

_W, _H = 640, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 150, 36, 48


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [low, high] (steps of 1, 2 or 5 times a power of ten)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"cannot place ticks on [{low}, {high}]")
    if high < low:
        low, high = high, low
    if high == low:
        high = low + 1.0
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks = [round(start, 12)]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(round(start + len(ticks) * step, 12))
    return ticks


def _fmt(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


class _Frame:
    """The plotting area and its scales."""

    def __init__(self, xs: tuple[float, float], ys: tuple[float, float]) -> None:
        self.xt = nice_ticks(*xs)
        self.yt = nice_ticks(*ys)
        self.x0, self.x1 = self.xt[0], self.xt[-1]
        self.y0, self.y1 = self.yt[0], self.yt[-1]

    def x(self, v: float) -> float:
        return _LEFT + (v - self.x0) / (self.x1 - self.x0) * (_W - _LEFT - _RIGHT)

    def y(self, v: float) -> float:
        return _H - _BOTTOM - (v - self.y0) / (self.y1 - self.y0) * (_H - _TOP - _BOTTOM)

    def axes(self, x_label: str, y_label: str, x_ticks: bool = True) -> list[str]:
        out = []
        for t in self.yt:
            y = self.y(t)
            out.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
        if x_ticks:
            for t in self.xt:
                x = self.x(t)
                out.append(f'<text x="{x:.1f}" y="{_H - _BOTTOM + 16}" text-anchor="middle">{_fmt(t)}</text>')
        out.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_H - _BOTTOM}" y2="{_H - _BOTTOM}" stroke="#333"/>')
        out.append(f'<line x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{_H - _BOTTOM}" stroke="#333"/>')
        out.append(f'<text x="{(_LEFT + _W - _RIGHT) / 2:.0f}" y="{_H - 10}" text-anchor="middle">{escape(x_label)}</text>')
        out.append(f'<text transform="translate(14,{(_TOP + _H - _BOTTOM) / 2:.0f}) rotate(-90)" '
                   f'text-anchor="middle">{escape(y_label)}</text>')
        return out


def _svg(title: str, body: list[str], kind: str) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" '
            f'class="chart" data-kind="{kind}" role="img" font-family="sans-serif" font-size="11">')
    return "\n".join([head, f"<title>{escape(title)}</title>",
                      f'<text x="{_LEFT}" y="20" font-size="13" font-weight="bold">{escape(title)}</text>',
                      *body, "</svg>"])


def _legend(names: Sequence[str]) -> list[str]:
    out = []
    for i, name in enumerate(names):
        y = _TOP + 14 * i
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{_W - _RIGHT + 12}" y="{y}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{_W - _RIGHT + 26}" y="{y + 9}">{escape(str(name))}</text>')
    return out


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def line_chart(series: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, title: str, x_label: str = "",
               y_label: str = "", diagonal: bool = False) -> str:
    """Lines, one per ``name -> (xs, ys)``; points that are None or not finite are skipped.

    ``diagonal`` draws y = x (for calibration charts).
    """
    xs = [v for x, _ in series.values() for v in _finite(x)]
    ys = [v for _, y in series.values() for v in _finite(y)]
    if not xs or not ys:
        raise ValueError(f"chart {title!r} has no finite points to draw")
    if diagonal:
        lo, hi = min(xs + ys), max(xs + ys)
        frame = _Frame((lo, hi), (lo, hi))
    else:
        frame = _Frame((min(xs), max(xs)), (min(0.0, min(ys)), max(ys)))
    body = frame.axes(x_label, y_label)
    if diagonal:
        body.append(f'<line x1="{frame.x(frame.x0):.1f}" y1="{frame.y(frame.x0):.1f}" x2="{frame.x(frame.x1):.1f}" '
                    f'y2="{frame.y(frame.x1):.1f}" stroke="#999" stroke-dasharray="4 3"/>')
    for i, (name, (x, y)) in enumerate(series.items()):
        points = [(float(a), float(b)) for a, b in zip(x, y)
                  if a is not None and b is not None and math.isfinite(float(a)) and math.isfinite(float(b))]
        path = " ".join(f"{frame.x(a):.1f},{frame.y(b):.1f}" for a, b in points)
        colour = PALETTE[i % len(PALETTE)]
        data = ",".join(f"{b:.6g}" for _, b in points)
        body.append(f'<polyline class="series" data-name="{escape(str(name))}" data-values="{data}" points="{path}" '
                    f'fill="none" stroke="{colour}" stroke-width="2"/>')
    body += _legend(list(series))
    return _svg(title, body, "line")


def bar_chart(categories: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str,
              x_label: str = "", y_label: str = "") -> str:
    """Grouped bars: for each category, one bar per series (values may be negative)."""
    values = [v for vals in series.values() for v in _finite(vals)]
    if not categories or not values:
        raise ValueError(f"chart {title!r} has no bars to draw")
    frame = _Frame((0.0, float(len(categories))), (min(0.0, min(values)), max(0.0, max(values))))
    frame.x0, frame.x1 = 0.0, float(len(categories))
    body = frame.axes(x_label, y_label, x_ticks=False)
    slot = (frame.x(1) - frame.x(0)) * 0.8 / max(len(series), 1)
    zero = frame.y(0.0)
    for c, category in enumerate(categories):
        body.append(f'<text x="{frame.x(c + 0.5):.1f}" y="{_H - _BOTTOM + 16}" text-anchor="middle">'
                    f'{escape(str(category))}</text>')
        for i, (name, vals) in enumerate(series.items()):
            v = vals[c]
            if v is None or not math.isfinite(float(v)):
                continue
            x = frame.x(c) + (frame.x(1) - frame.x(0)) * 0.1 + i * slot
            top = frame.y(float(v))
            body.append(f'<rect class="bar" data-name="{escape(str(name))}" data-category="{escape(str(category))}" '
                        f'data-value="{float(v):.6g}" x="{x:.1f}" y="{min(top, zero):.1f}" width="{slot * 0.95:.1f}" '
                        f'height="{abs(zero - top):.1f}" fill="{PALETTE[i % len(PALETTE)]}"/>')
    body += _legend(list(series))
    return _svg(title, body, "bar")
