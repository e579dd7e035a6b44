"""A report: one self-contained HTML file (inline CSS, inline SVG charts, no script, no link to fetch)
and its JSON twin holding the same numbers, so any figure in the page can be traced and reused.

    >>> report = Report("Model report", subtitle="as of 2011-09-01")
    >>> section = report.section("Calibration")
    >>> section.paragraph("Predicted against observed, by decile.")
    >>> section.table(frame)
    >>> section.chart(line_chart(...))
    >>> report.data["calibration"] = frame.to_dict("records")
    >>> report.write("out/models")   # out/models.html and out/models.json
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from jingzhun import __version__

__all__ = ["Report", "Section", "write_atomically", "to_jsonable"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 2em auto;
       max-width: 980px; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; margin-top: 2em; }
.subtitle { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } th { background: #f4f4f4; }
td.text, th.text { text-align: left; }
caption { caption-side: top; text-align: left; color: #555; padding-bottom: 4px; }
.chart { display: block; margin: 1em 0; max-width: 100%; height: auto; }
.note { color: #555; font-size: 0.9em; } footer { margin-top: 3em; color: #888; font-size: 0.8em; }
"""


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from numpy, pandas and datetime values (NaN and infinities become null)."""
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict("records")]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if pd.isna(value):
        return None
    return str(value)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cell(value: Any) -> tuple[str, bool]:
    """The cell's text and whether it is text (left-aligned) rather than a number."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "", False
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, bool):
        return ("yes" if value else "no"), True
    if isinstance(value, int):
        return f"{value:,}", False
    if isinstance(value, float):
        return (f"{value:,.4g}" if abs(value) < 1e5 else f"{value:,.0f}"), False
    return escape(str(value)), True


@dataclass
class Section:
    heading: str
    parts: list[str] = field(default_factory=list)

    def paragraph(self, text: str, *, note: bool = False) -> "Section":
        cls = ' class="note"' if note else ""
        self.parts.append(f"<p{cls}>{escape(text)}</p>")
        return self

    def table(self, frame: pd.DataFrame, *, caption: str | None = None, max_rows: int = 200) -> "Section":
        rows = [f"<caption>{escape(caption)}</caption>"] if caption else []
        rows.append("<tr>" + "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns) + "</tr>")
        for record in frame.head(max_rows).itertuples(index=False):
            cells = [_cell(v) for v in record]
            rows.append("<tr>" + "".join(f'<td class="text">{t}</td>' if is_text else f"<td>{t}</td>"
                                         for t, is_text in cells) + "</tr>")
        if len(frame) > max_rows:
            rows.append(f'<tr><td class="text" colspan="{len(frame.columns)}">... {len(frame) - max_rows:,} more rows '
                        "in the JSON twin</td></tr>")
        self.parts.append("<table>" + "".join(rows) + "</table>")
        return self

    def chart(self, svg: str) -> "Section":
        self.parts.append(svg)
        return self


@dataclass
class Report:
    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def section(self, heading: str) -> Section:
        s = Section(heading)
        self.sections.append(s)
        return s

    def html(self) -> str:
        body = [f"<h1>{escape(self.title)}</h1>"]
        if self.subtitle:
            body.append(f'<p class="subtitle">{escape(self.subtitle)}</p>')
        for s in self.sections:
            body.append(f"<section><h2>{escape(s.heading)}</h2>")
            body += s.parts
            body.append("</section>")
        body.append(f"<footer>jingzhun {escape(__version__)}; the numbers are in the JSON file beside this one."
                    "</footer>")
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{escape(self.title)}</title><style>{_CSS}</style></head><body>\n"
                + "\n".join(body) + "\n</body></html>\n")

    def write(self, stem: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``stem.html`` and ``stem.json``; returns both paths."""
        stem = Path(stem)
        html_path, json_path = stem.with_suffix(".html"), stem.with_suffix(".json")
        twin = {"title": self.title, "subtitle": self.subtitle, "jingzhun_version": __version__,
                **to_jsonable(self.data)}
        write_atomically(json_path, json.dumps(twin, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        write_atomically(html_path, self.html())
        return html_path, json_path
