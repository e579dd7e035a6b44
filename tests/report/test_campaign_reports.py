"""The campaign and overview reports, written by `jingzhun report`: their numbers, charts and JSON twins."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from jingzhun.project import Project
from jingzhun.report.campaign import campaign_report
from tests.report.shop import write_reports

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return write_reports(tmp_path_factory.mktemp("reports"))


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", html, flags=re.S)]


def test_the_campaign_report_holds_the_hand_worked_kpis_and_its_charts(written):
    summary = written["campaign"]
    assert summary["linked"] == {"conversion": 0, "redemption": 0, "visit": 0}   # the overviews linked them
    assert summary["reach"] == 20 and summary["conversions"] == 6
    twin = json.loads(Path(summary["data"]).read_text(encoding="utf-8"))
    arms = {a["arm"]: a for a in twin["arms"]}
    assert arms["A"]["incremental_revenue"] == pytest.approx(140.0) and arms["B"]["cost"] == pytest.approx(2.4)
    assert set(twin["breakdowns"]) == {"channel", "offer"}
    html = Path(summary["report"]).read_text(encoding="utf-8")
    kinds = [svg.get("data-kind") for svg in _svgs(html)]
    assert kinds.count("line") == 1 and kinds.count("bar") >= 2
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    curve = twin["conversion_curve"]
    assert max(r["conversions"] for r in curve if r["arm"] == "A") == 3


def test_the_overview_lists_campaigns_and_the_models_checks_and_their_drift(written):
    twin = json.loads(Path(written["overview"]["data"]).read_text(encoding="utf-8"))
    (c1,) = twin["campaigns"]
    assert c1["reach"] == 20 and c1["revenue"] == pytest.approx(510.0)
    assert c1["incremental_revenue"] == pytest.approx(260.0)          # 140 (A) + 120 (B)
    assert [(a["name"], a["size"]) for a in twin["audiences"]] == [("vip", 120)]      # the latest snapshot
    assert written["overview"]["scores_checked"] == ["p_buy_30d"]
    history = twin["monitoring"]["history"]
    assert [h["elapsed_days"] for h in history] == [10, 30]
    html = Path(written["overview"]["report"]).read_text(encoding="utf-8")
    assert "Calibration drift" in html and len(_svgs(html)) >= 4


def test_the_truth_is_shown_beside_the_measured_effect(written):
    with Project.open(written["shop"]) as proj:
        report = campaign_report(proj.warehouse, "c1", truth=pd.DataFrame(
            {"arm": ["A", "B"], "true_incremental_conversions": [1.5, 0.2]}), truth_note="From the simulator.")
    truth = report.data["truth"]
    assert list(truth.arm) == ["A", "B"] and list(truth.true_incremental_conversions) == [1.5, 0.2]
    assert "Measured against the truth" in report.html()


def test_a_campaign_not_yet_sent_or_without_control_still_reports(tmp_path):
    from jingzhun.report.overview import overview_report
    from jingzhun.warehouse import Warehouse
    from tests.activation.conftest import T0, Population, pid
    from tests.measure.campaigns import write_campaign

    with Warehouse.duckdb(tmp_path / "w.duckdb") as wh:
        wh.ensure_schema()
        write_campaign(wh, "empty", {"name": "empty"})
        assert "No messages are recorded" in campaign_report(wh, "empty").html()
        Population(wh).add(3)
        write_campaign(wh, "solo", {"name": "no control"})
        wh.append("deliveries", pd.DataFrame([{"delivery_id": f"x{i}", "campaign_id": "solo", "profile_id": pid(i),
                                               "arm": "A", "channel": "email", "sent_at": T0, "status": "sent"}
                                              for i in range(3)]))
        html = campaign_report(wh, "solo").html()
        assert "No control group" in html and "What the campaign changed" not in html
        twin = overview_report(wh).data["campaigns"].set_index("campaign_id")
        assert twin.loc["solo", "reach"] == 3 and pd.isna(twin.loc["solo", "incremental_revenue"])


def test_an_unknown_campaign_is_a_one_line_error_naming_the_known_ones(written):
    from tests.report.shop import runner
    from jingzhun.cli.main import app

    result = runner.invoke(app, ["report", "campaign", "nope", "-p", str(written["shop"])])
    assert result.exit_code == 2 and "known: c1" in result.output
    assert "overview" in runner.invoke(app, ["report", "--help"]).output
