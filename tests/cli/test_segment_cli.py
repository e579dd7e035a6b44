"""`jingzhun segment ...` through Typer's runner, on a project holding the hand-built order history of
tests/segment/buyers.py with its features built as of AS_OF."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.profile import build_features
from jingzhun.project import Project
from tests.segment.buyers import AS_OF, LATER, load_buyers

runner = CliRunner()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("segcli") / "shop"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    with Project.open(root) as proj:
        load_buyers(proj.warehouse)
        build_features(proj.warehouse, as_of=AS_OF, full=True)
    return str(root)


def _json(args: list[str]):
    result = runner.invoke(app, ["segment", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_count_save_preview_export(project, tmp_path):
    got = _json(["count", "frequency >= 2", "-p", project])
    assert got["size"] == 4 and got["as_of"] == AS_OF.isoformat()  # default: the features' moment
    saved = _json(["save", "repeat", "frequency>=2", "-p", project])
    assert saved["status"] == "created" and saved["definition"] == "frequency >= 2"
    assert _json(["count", "repeat", "-p", project])["size"] == 4
    shown = _json(["preview", "repeat", "-n", "2", "-p", project])
    assert shown["size"] == 4 and len(shown["sample"]) == 2
    texts = {m["profile_id"]: m["reasons"][0]["text"] for m in shown["sample"]}
    assert all(t == ("frequency >= 2 (3)" if p == "pActive" else "frequency >= 2 (2)") for p, t in texts.items())
    out = tmp_path / "repeat.csv"
    written = _json(["export", "repeat", "-o", str(out), "--field", "frequency", "-p", project])
    assert written["rows"] == 4
    assert out.read_text().splitlines() == ["profile_id,frequency", "pActive,3", "pLapsed,2", "pRisk,2", "pWon,2"]
    listed = _json(["list", "-p", project])
    assert [s["name"] for s in listed] == ["repeat"]


def test_snapshot_diff_overlap(project):
    _json(["save", "recent", "bought in last 60 days", "-p", project])
    first = _json(["snapshot", "recent", "-p", project])
    second = _json(["snapshot", "recent", "--as-of", LATER.isoformat(), "-p", project])
    assert (first[0]["size"], second[0]["size"], second[0]["exited"]) == (3, 2, 1)
    d = _json(["diff", "recent", "--from", "1", "--to", "2", "-p", project])
    assert d["exited_ids"] == ["pActive"] and d["entered"] == 0
    shown = _json(["show", "recent", "-p", project])
    assert [s["size"] for s in shown["snapshots"]] == [3, 2]
    both = _json(["overlap", "recent", "frequency >= 2", "-p", project])
    # recent: pNew pActive pWon; repeat buyers: pActive pWon pRisk pLapsed -> 2 in both, 5 in either
    assert both["pairs"][0]["both"] == 2 and both["pairs"][0]["jaccard"] == pytest.approx(0.4)


def test_rfm_lifecycle_cluster(project):
    rfm = _json(["rfm", "--save", "-p", project])
    sizes = {s["segment"]: s["profiles"] for s in rfm["segments"]}
    assert sizes["Loyal"] == 1 and sizes["Promising"] == 1 and sum(sizes.values()) == 5
    assert len(rfm["grid"]["rows"]) == 5 and len(rfm["saved"]) == 11
    assert _json(["count", "RFM: Lost", "-p", project])["size"] == 1
    life = _json(["lifecycle", "--new-days", "30", "--active-days", "60", "--lapse-days", "120", "-p", project])
    assert {s["stage"]: s["profiles"] for s in life["stages"]} == {
        "new": 1, "active": 1, "at risk": 1, "lapsed": 1, "won back": 1}
    clusters = _json(["cluster", "--k-max", "3", "--save", "-p", project])
    assert 2 <= clusters["k"] <= 3 and sum(c["profiles"] for c in clusters["clusters"]) == 5


def test_errors_say_what_to_do(project):
    result = runner.invoke(app, ["segment", "count", "gendr = 'F'", "-p", project])
    assert result.exit_code == 2 and "neither a saved segment nor an audience expression" in result.output
    result = runner.invoke(app, ["segment", "snapshot", "recent", "nope", "-p", project])
    assert result.exit_code == 2 and "no saved segment is named 'nope'" in result.output
    result = runner.invoke(app, ["segment", "count", "tag('x')", "--as-of", "soon", "-p", project])
    assert result.exit_code == 2 and "not an ISO date" in result.output
