"""The quality report: readable text, JSON, and back."""

import json

from jingzhun.quality import FileReport, QualityReport, RuleCount


def _report():
    rules = [RuleCount("required", "required field empty", 120, 0, 3),
             RuleCount("duplicate_exact", "identical rows", 117, 12, 0)]
    return QualityReport(
        source="online_retail", load_id="L42",
        files=[FileReport("retail.csv", "order_lines", 120, rows_loaded=110, rows_quarantined=3, rows_skipped=7,
                          rules=rules),
               FileReport("old.csv", "order_lines", 50, rows_skipped=50, already_loaded=True)],
        checks=[RuleCount("orphan_order_lines", "order lines whose order is not in orders", 110, 2)],
    )


def test_render_is_an_aligned_table():
    text = _report().render()
    assert "retail.csv -> order_lines" in text and "read 120, loaded 110, quarantined 3, skipped 7" in text
    assert "(already loaded: skipped)" in text and "cross-table checks" in text
    table = [line for line in text.splitlines() if line.strip().startswith(("rule", "required", "duplicate_exact"))]
    assert len(table) == 4
    header = table[0]
    assert all(line.index("  ") >= 0 for line in table)
    col_end = header.index("checked") + len("checked")
    assert table[1][:col_end].endswith("120") and table[2][:col_end].endswith("117")


def test_json_round_trip():
    report = _report()
    back = QualityReport.from_dict(json.loads(report.to_json()))
    assert back == report
    assert QualityReport.from_json(report.to_json()) == report
    assert back.files[0].rules[0] == RuleCount("required", "required field empty", 120, 0, 3)
    assert all(f.balanced for f in back.files)
    assert back.rows_read == 170 and back.rows_loaded == 110 and back.rows_quarantined == 3


def test_empty_report_renders():
    assert "no files" in QualityReport("s", "L").render()
