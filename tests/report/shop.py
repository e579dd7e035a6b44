"""A project holding the hand-built campaign of tests/measure/campaigns.py and a scored model, with both
reports written through the CLI (for the report tests and the browser test)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.project import Project
from tests.activation.conftest import T0, pid
from tests.measure.campaigns import build_c1, day

runner = CliRunner()


def make_shop(root: Path) -> Path:
    """A project with campaign c1 delivered and a propensity model's p_buy_30d scores made at T0."""
    shop = root / "shop"
    assert runner.invoke(app, ["init", str(shop)]).exit_code == 0
    with Project.open(shop) as proj:
        wh = proj.warehouse
        build_c1(wh, root)
        wh.append("models", pd.DataFrame([{
            "model_id": "m1", "name": "propensity", "kind": "PropensityModel", "params": "{}",
            "data_fingerprint": "f", "code_version": "test", "metrics": "{}", "as_of": T0, "path": "",
            "trained_at": T0}]))
        wh.append("scores", pd.DataFrame({"profile_id": [pid(i) for i in range(20)], "score": "p_buy_30d",
                                          "value": [(i % 10) / 10 + 0.05 for i in range(20)], "model_id": "m1",
                                          "computed_at": T0}))
        wh.append("segments", pd.DataFrame([{"segment_id": "seg_vip", "name": "vip", "definition": "clv_12m > 500",
                                             "kind": "audience", "fingerprint": "f", "created_at": T0}]))
        wh.append("segment_snapshots", pd.DataFrame([
            {"segment_id": "seg_vip", "snapshot_at": T0 - pd.Timedelta(days=d), "as_of": T0 - pd.Timedelta(days=d),
             "fingerprint": "f", "size": size, "entered": None, "exited": None} for d, size in ((7, 90), (0, 120))]))
    return shop


def write_reports(root: Path) -> dict:
    """Both reports written by the CLI: the overview checked twice (days 10 and 30) so drift shows."""
    shop = make_shop(root)
    out = {}
    for at in (day(10), day(30)):
        result = runner.invoke(app, ["report", "overview", "-p", str(shop), "--at", at.isoformat(), "--json",
                                     "-o", str(root / "out" / "overview")])
        assert result.exit_code == 0, result.output
        out["overview"] = json.loads(result.output)
    result = runner.invoke(app, ["report", "campaign", "c1", "-p", str(shop), "--at", day(30).isoformat(), "--json",
                                 "-o", str(root / "out" / "campaign-c1")])
    assert result.exit_code == 0, result.output
    out["campaign"] = json.loads(result.output)
    out["shop"] = shop
    return out
