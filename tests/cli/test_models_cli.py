"""`jingzhun models fit|evaluate|show` on a small simulated shop."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.pipeline.demo import write_simulation

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("models-cli")
    world = write_simulation(root / "world", customers=1_500, seed=8)
    target = root / "shop"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    assert runner.invoke(app, ["ingest", str(world), "-p", str(target), "--json"]).exit_code == 0
    result = runner.invoke(app, ["build", "-p", str(target), "--step", "identity", "--step", "features", "--json"])
    assert result.exit_code == 0, result.output
    return target


def test_fit_writes_scores_and_show_lists_the_registry(shop):
    fitted = runner.invoke(app, ["models", "fit", "-p", str(shop), "--json"])
    assert fitted.exit_code == 0, fitted.output
    out = json.loads(fitted.output)
    assert out["btyd"]["scores"]["p_alive"] > 1000 and out["churn"]["scores"]["churn_risk"] > 1000
    listed = json.loads(runner.invoke(app, ["models", "show", "-p", str(shop), "--json"]).output)
    assert {"bgnbd", "gammagamma", "churn"} <= {m["name"] for m in listed}
    one = runner.invoke(app, ["models", "show", "bgnbd", "-p", str(shop), "--json"])
    record = json.loads(one.output)
    assert set(record["params"]["fitted"]) == {"r", "alpha", "a", "b"}
    assert record["data_fingerprint"] and record["code_version"].startswith("0.")
    missing = runner.invoke(app, ["models", "show", "nope", "-p", str(shop)])
    assert missing.exit_code == 2 and "no model 'nope'" in missing.output
    # the scores are usable in the audience language at once
    counted = runner.invoke(app, ["segment", "count", "p_alive < 0.3 and score('clv_12m') >= 0", "-p", str(shop),
                                  "--json"])
    assert counted.exit_code == 0, counted.output


def test_evaluate_writes_an_offline_report_with_its_json_twin(shop, tmp_path):
    result = runner.invoke(app, ["models", "evaluate", "--cutoff", "2024-07-01", "--out", str(tmp_path / "m"),
                                 "-p", str(shop), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    html = (tmp_path / "m.html").read_text()
    assert html.count("<svg") == 6  # conditional expectations, two tracking charts, calibration, lift, gain
    assert "<script" not in html and "Propensity calibration" in html
    assert 0.5 < summary["propensity_auc"] <= 1 and summary["holdout_purchases"]["actual"] > 0
    bad = runner.invoke(app, ["models", "evaluate", "--cutoff", "2030-01-01", "-p", str(shop)])
    assert bad.exit_code == 2 and "must end after the cut-off" in bad.output
