"""`jingzhun rules mine|show|audience` on a real project folder, through Typer's runner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.project import Project
from tests.rules.test_audiences import _load_shop

runner = CliRunner()


def _run(*args: str) -> dict | list:
    result = runner.invoke(app, ["rules", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_mine_show_and_audience(tmp_path):
    root = tmp_path / "shop"
    with Project.init(root) as project:
        _load_shop(project.warehouse)
    p = ["-p", str(root)]
    mined = _run("mine", "--level", "category", "--min-support", "0.1", "--min-confidence", "0.3", "--min-lift", "0",
                 "--json", *p)
    # nine baskets; lenses in 4, solution in 5, both in 2: lenses -> solution 0.5, solution -> lenses 0.4
    assert mined["baskets"] == 9 and mined["rules"] == 2 and mined["engine"] == "duckdb"
    assert [(r["antecedent"], r["consequent"]) for r in mined["top"]] == [(["lenses"], ["solution"]),
                                                                          (["solution"], ["lenses"])]
    shown = _run("show", "--level", "category", "--item", "frames", "--json", *p)
    assert shown == []  # frames are never bought with anything
    lens = _run("show", "--level", "category", "--item", "lenses", "--sort", "confidence", "--json", *p)
    pair = next(r for r in lens if r["antecedent"] == ["lenses"] and r["consequent"] == ["solution"])
    # baskets with lenses: L1 (p2), L1S1, L2S1 (p3), L2 (p5); with solution too: 2 of 4
    assert pair["confidence"] == 0.5
    audiences = _run("audience", "--level", "category", "--item", "lenses", "--as-of", "2024-07-01", "--json", *p)
    by_text = {a["audience"]: a["size"] for a in audiences["audiences"]}
    assert by_text["bought category 'lenses' but not category 'solution'"] == 1
    assert by_text["bought category 'solution' but not category 'lenses'"] == 1
    bundles = _run("show", "--level", "category", "--bundles", "--json", *p)
    assert all(set(b) >= {"items", "lift", "reason"} for b in bundles)


def test_errors_say_what_to_do(tmp_path):
    root = tmp_path / "empty"
    Project.init(root).close()
    result = runner.invoke(app, ["rules", "mine", "-p", str(root)])
    assert result.exit_code == 2 and "load orders" in result.output
    result = runner.invoke(app, ["rules", "mine", "--level", "brand", "-p", str(root)])
    assert result.exit_code == 2 and "product, category" in result.output
