"""report layer: self-contained HTML reports with inline SVG charts and a JSON twin (no network needed).

See docs/reports.md.
"""

from jingzhun.report.charts import bar_chart, line_chart, nice_ticks
from jingzhun.report.page import Report, Section, to_jsonable, write_atomically

__all__ = ["Report", "Section", "bar_chart", "line_chart", "nice_ticks", "to_jsonable", "write_atomically"]
