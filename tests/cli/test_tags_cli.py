"""`jingzhun tags list|show|build` in-process against a real project holding the hand-built tag world."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.project import Project
from tests.profile.tags_world import AS_OF, load_world

runner = CliRunner()

MINE = """
tags:
  - name: big_buyer
    family: consumption
    label: {zh: 大买家, en: Big buyer}
    description: {zh: 累计消费至少 1000, en: Spent 1000 or more}
    rule: "monetary_total >= 1000"
    reason: "spent {monetary_total:.0f}"
"""


def run(*args: str):
    return runner.invoke(app, [*args])


def flat(text: str) -> str:
    """The output with the terminal's line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "shop"
    assert run("init", str(root)).exit_code == 0
    with Project.open(root) as proj:
        load_world(proj.warehouse)
    (root / "tags").mkdir()
    (root / "tags" / "mine.yaml").write_text(MINE, encoding="utf-8")
    return root


def test_build_list_show(project):
    p = str(project)
    built = run("tags", "build", "-p", p, "--json")
    assert built.exit_code == 0, built.output
    result = json.loads(built.output)
    assert result["as_of"] == AS_OF.isoformat() and result["previous_as_of"] is None
    # the world sells only beauty, apparel and sports: built-in tags about other categories are inactive
    assert result["inactive"]["parent"] == "this warehouse has no category '母婴'"
    assert "sports_not_apparel" not in result["inactive"]

    listed = json.loads(run("tags", "list", "-p", p, "--json").output)
    by_name = {t["name"]: t for t in listed}
    assert by_name["big_buyer"]["builtin"] is False and by_name["big_buyer"]["profiles"] == 3  # p1, p2, p5
    assert by_name["female"]["profiles"] == 3 and by_name["female"]["share"] == 0.5  # p1, p3, p5 of six
    assert by_name["purchase_frequency"]["values"] == {"1": 1, "2-3": 2, "4-7": 1, "8+": 1}
    assert by_name["parent"]["status"] == "inactive"
    assert [t["family"] for t in listed] == sorted((t["family"] for t in listed),
                                                   key=["basic", "interests", "social", "consumption",
                                                        "predictions"].index)

    only = json.loads(run("tags", "list", "-p", p, "--json", "--family", "predictions").output)
    assert {t["family"] for t in only} == {"predictions"}
    assert by_name["churn_risk_level"]["values"] == {"low": 1, "medium": 1, "high": 2}

    table = run("tags", "list", "-p", p, "--lang", "zh")
    assert table.exit_code == 0 and "大买家" in table.output and "基础属性" in table.output

    shown = json.loads(run("tags", "show", "big_buyer", "-p", p, "--json").output)
    assert shown["definition"]["rule"] == "monetary_total >= 1000"
    assert shown["history"] == [{"as_of": shown["history"][0]["as_of"], "gained": 3, "lost": 0, "changed": 0}]
    text = run("tags", "show", "purchase_frequency", "-p", p)
    assert text.exit_code == 0 and "labels: [null, '1', 2-3, 4-7, 8+]" in text.output and "history" in text.output

    again = json.loads(run("tags", "build", "-p", p, "--json").output)
    assert (again["gained"], again["lost"], again["changed"]) == (0, 0, 0)
    assert again["previous_as_of"] == AS_OF.isoformat()


def test_errors_say_what_to_do(project, tmp_path):
    p = str(project)
    unknown = run("tags", "show", "big_buyr", "-p", p)
    assert unknown.exit_code == 2 and "did you mean 'big_buyer'" in flat(unknown.output)
    assert run("tags", "list", "-p", p, "--family", "money").exit_code == 2
    assert run("tags", "list", "-p", p, "--lang", "fr").exit_code == 2
    later = run("tags", "build", "-p", p, "--as-of", "2024-07-31")
    assert later.exit_code == 2 and "jingzhun build --as-of" in flat(later.output)

    (project / "tags" / "mine.yaml").write_text(MINE.replace("monetary_total >= 1000", "monetry_total >= 1000"),
                                                encoding="utf-8")
    bad = run("tags", "list", "-p", p)
    assert bad.exit_code == 2
    # the long temporary path may wrap anywhere: compare without whitespace
    assert "mine.yamlline7,tag'big_buyer',field'rule'" in "".join(bad.output.split())
    assert "did you mean 'monetary_total'" in flat(bad.output)

    empty = tmp_path / "empty"
    run("init", str(empty))
    nothing = run("tags", "build", "-p", str(empty))
    assert nothing.exit_code == 2 and "run `jingzhun build` first" in flat(nothing.output)
