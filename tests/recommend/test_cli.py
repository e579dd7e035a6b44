"""`jingzhun recommend` against a project holding the hand-worked shop (tests/recommend/shop.py)."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.project import Project
from tests.recommend.shop import load_shop

runner = CliRunner()


def _project(tmp_path):
    root = tmp_path / "shop"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    with Project.open(root) as project:
        load_shop(project.warehouse)
    return root


def test_fit_for_export_and_evaluate(tmp_path):
    root = _project(tmp_path)
    result = runner.invoke(app, ["recommend", "fit", "--model", "popularity", "--as-of", "2024-03-01T00:00:00Z",
                                 "-p", str(root), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["profiles"] == 4 and summary["rows"] > 0 and summary["sources"]["restock"] == 1
    with Project.open(root) as project:
        wh = project.warehouse
        stored = wh.execute(wh.table("recommendations"))
        registry = wh.execute(wh.table("models"))
    assert len(stored) == summary["rows"] and set(stored.model_id) == {summary["model_id"]}
    assert list(registry.model_id) == [summary["model_id"]] and registry.kind[0] == "PopularityRecommender"

    one = runner.invoke(app, ["recommend", "for", "pA", "-p", str(root), "--json"])
    assert one.exit_code == 0, one.output
    listed = json.loads(one.output)["recommendations"]
    assert "P1" not in [r["product_id"] for r in listed]  # bought, durable
    assert runner.invoke(app, ["recommend", "for", "pA", "-p", str(root)]).exit_code == 0

    out = tmp_path / "recs.csv"
    exported = runner.invoke(app, ["recommend", "export", "--out", str(out), "-p", str(root)])
    assert exported.exit_code == 0, exported.output
    assert len(pd.read_csv(out)) == summary["rows"]

    evaluated = runner.invoke(app, ["recommend", "evaluate", "--cutoff", "2024-02-15T00:00:00Z", "--models",
                                    "popularity,item_knn", "-p", str(root), "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert [m["model"] for m in json.loads(evaluated.output)["models"]] == ["popularity", "item_knn"]


def _said(result) -> str:
    return " ".join(result.output.split())  # the console wraps long lines


def test_errors_say_what_to_do(tmp_path):
    root = _project(tmp_path)
    result = runner.invoke(app, ["recommend", "for", "pA", "-p", str(root)])
    assert result.exit_code == 2 and "jingzhun recommend fit" in _said(result)
    result = runner.invoke(app, ["recommend", "export", "--out", str(tmp_path / "x.txt"), "-p", str(root)])
    assert result.exit_code == 2 and ".csv or .parquet" in _said(result)
    result = runner.invoke(app, ["recommend", "fit", "--model", "magic", "-p", str(root)])
    assert result.exit_code == 2 and "unknown recommender" in _said(result)
