"""`build` runs the feature step at a worked-out as_of, and refreshes rather than rebuilds the second time."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.config import ProfileSettings, Settings
from jingzhun.errors import ConfigError
from jingzhun.pipeline import load_source
from jingzhun.pipeline.build import build, build_as_of, data_end
from jingzhun.pipeline.demo import write_simulation
from jingzhun.project import Project

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return write_simulation(tmp_path_factory.mktemp("sim") / "world", customers=400, seed=5)


def test_data_end_is_the_local_midnight_after_the_latest_row(warehouse):
    assert data_end(warehouse, "Asia/Shanghai") is None
    import pandas as pd

    from tests.profile.conftest import frame, order

    warehouse.append("orders", frame([order("o1", "2024-03-05 17:30", amount=10.0, n_lines=1, user_id="u1")]))
    # 17:30 UTC is 01:30 on 6 March in Shanghai: the next local midnight is 7 March 00:00 +08 = 6 March 16:00 UTC
    assert data_end(warehouse, "Asia/Shanghai") == dt.datetime(2024, 3, 6, 16, 0, tzinfo=UTC)
    assert data_end(warehouse, "UTC") == dt.datetime(2024, 3, 6, 0, 0, tzinfo=UTC)
    settings = Settings(profile=ProfileSettings(as_of="2024-01-01"))
    assert build_as_of(warehouse, settings) == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert build_as_of(warehouse, settings, "2024-02-01T08:00:00+08:00") == dt.datetime(2024, 2, 1, tzinfo=UTC)
    assert pd.Timestamp(build_as_of(warehouse, Settings())) == pd.Timestamp("2024-03-06", tz="UTC")


def test_build_describes_the_data_as_of_its_end_then_refreshes(world, tmp_path):
    project = Project.init(tmp_path / "shop")
    wh = project.warehouse
    load_source(wh, world, secret=project.secret, settings=project.settings)
    first = build(wh, project.settings, project_dir=project.root)
    assert list(first.steps) == ["checks", "identity", "features", "scores", "tags"]
    expected = data_end(wh, "UTC")
    assert first.as_of == expected.isoformat()
    features = first.steps["features"]
    assert features["mode"] == "full" and features["reason"] == "no previous feature build"
    assert features["profiles"] == wh.count("profiles") == wh.count("profile_features")
    pf = wh.table("profile_features")
    as_of = wh.execute(pf.aggregate(m=pf.as_of.max())).m.iloc[0]
    assert as_of == expected
    # the scores and the tags describe the same moment; the prediction tags read the scores
    assert min(first.steps["scores"]["btyd"]["scores"].values()) > 0, first.steps["scores"]
    assert first.steps["tags"]["rows"] == wh.count("tags") > 0
    scored = wh.execute(wh.table("scores").score.value_counts())
    assert {"p_alive", "clv_12m", "churn_risk"} <= set(scored.score)
    tags = set(wh.execute(wh.table("tags").select("tag").distinct()).tag)
    assert {"alive_level", "clv_tier"} <= tags
    # nothing new: the second build recomputes nobody
    second = build(wh, project.settings, steps=["features"])
    assert second.steps["features"]["mode"] == "incremental"
    assert second.steps["features"]["recomputed"] == 0
    with pytest.raises(ConfigError, match="unknown build step"):
        build(wh, project.settings, steps=["featurs"])
    project.close()


def test_cli_build_as_of_and_full(world, tmp_path):
    target = tmp_path / "p"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    assert runner.invoke(app, ["ingest", str(world), "-p", str(target), "--json"]).exit_code == 0
    result = runner.invoke(app, ["build", "-p", str(target), "--as-of", "2024-06-30", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["as_of"] == "2024-06-30T00:00:00+00:00"
    assert out["steps"]["features"]["as_of"].startswith("2024-06-30")
    again = runner.invoke(app, ["build", "-p", str(target), "--step", "features", "--full", "--as-of", "2024-06-30",
                                "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["steps"]["features"]["mode"] == "full"
