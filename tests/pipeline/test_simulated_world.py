"""The whole foundation on the simulator: load, quality, identity, judged against the simulator's truth."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.config import Settings
from jingzhun.identity import resolve
from jingzhun.pipeline.demo import write_simulation
from jingzhun.pipeline.load import load_source
from jingzhun.pipeline.referee import identity_scores
from jingzhun.warehouse import Warehouse

SECRET = "5e" * 32


def _load_and_resolve(wh, world_dir, customers, seed):
    mapping = write_simulation(world_dir, customers=customers, seed=seed)
    settings = Settings()
    report = load_source(wh, mapping, secret=SECRET, settings=settings)
    assert all(f.rows_read == f.rows_loaded + f.rows_quarantined + f.rows_skipped for f in report.files)
    resolve(wh, settings.identity)
    return identity_scores(wh, world_dir / "truth", secret=SECRET, settings=settings)


@pytest.mark.slow
def test_identity_recovers_the_true_persons_at_100k(tmp_path):
    wh = Warehouse.duckdb(tmp_path / "w.duckdb")
    wh.ensure_schema()
    scores = _load_and_resolve(wh, tmp_path / "world", 100_000, seed=11)
    print(scores)
    assert scores["true_persons"] == 100_000
    assert scores["pairwise_precision"] >= 0.995
    assert scores["pairwise_recall"] >= 0.98
    # nobody merged through a shared device, a shop tablet or a placeholder
    assert scores["profiles_mixing_persons"] == 0
    assert scores["identifiers_missing_from_map"] == 0


def _frame(wh, name, cols):
    return wh.execute(wh.table(name).select(*cols)).sort_values(list(cols)).reset_index(drop=True)


@pytest.mark.slow
@pytest.mark.spark
def test_identity_is_identical_on_duckdb_and_pyspark(tmp_path, spark_session):
    duck = Warehouse.duckdb(tmp_path / "w.duckdb")
    spark = Warehouse.spark(spark_session, database="sim_parity")
    results = []
    for i, wh in enumerate((duck, spark)):
        wh.ensure_schema()
        results.append(_load_and_resolve(wh, tmp_path / f"world{i}", 3_000, seed=5))
    assert results[0] == results[1]
    for name, cols in {"identity_map": ("kind", "key", "profile_id", "is_shared"),
                       "quarantine": ("table_name", "row_number", "rule", "field"),
                       "customers": ("record_id", "email", "phone", "quality_flags"),
                       "events": ("message_id", "quality_flags")}.items():
        pd.testing.assert_frame_equal(_frame(duck, name, cols), _frame(spark, name, cols), check_dtype=False)


@pytest.mark.slow
def test_demo_command_runs_end_to_end(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--customers", "3000", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    for text in ("loaded", "identity resolution", "pairwise precision", "purchases by channel", "RFM grid",
                 "Champions", "lifecycle", "CLV leaderboard", "churn-risk list", "basket rules",
                 "recommendations with reasons", "campaign winback", "campaign store-coupon",
                 "measured against the control group", "vs control on conversion", "local SMTP server"):
        assert text in result.output, text
    assert "fetch_arrow_table" not in result.output
    import json

    demo = tmp_path / "demo"
    assert list((demo / "mailbox").glob("*.eml")) and list((demo / "exports").glob("smsvendor-*"))
    for name in ("campaign-winback", "campaign-store-coupon", "overview"):
        assert (demo / "reports" / f"{name}.html").exists() and (demo / "reports" / f"{name}.json").exists()
    planned = CliRunner().invoke(app, ["campaign", "plan", str(demo / "campaigns" / "winback.yaml"), "-p", str(demo),
                                       "--dry-run", "--json"])
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.output)["messages"] > 0
    status = CliRunner().invoke(app, ["campaign", "status", "winback", "-p", str(demo), "--json"])
    assert status.exit_code == 0 and json.loads(status.output)["status"] == "done"
    # the 360 view, by profile id and by a raw identifier (normalised and keyed like a load does)
    import pyarrow.csv as pacsv

    phone = next(p for p in pacsv.read_csv(tmp_path / "demo" / "world" / "customers.csv").column("phone").to_pylist()
                 if p and p not in ("00000000000", "13800000000"))
    by_phone = CliRunner().invoke(app, ["profiles", "show", "--kind", "phone", phone, "-p", str(tmp_path / "demo"), "--json"])
    assert by_phone.exit_code == 0, by_phone.output
    view = json.loads(by_phone.output)
    assert view["facts"]["customer records"] >= 1 and view["joined_by"] is not None
    assert phone not in by_phone.output  # shown masked, never raw
    # the demo's build ran the feature step: the view shows the person's features by theme
    assert view["features_as_of"] and set(view["features"]) >= {"value", "taste", "habits", "price", "place"}
    assert view["features"]["value"]["frequency"] <= view["facts"]["orders"]
    assert view["tags"] and all(t["reason"] for t in view["tags"])
    assert {s["score"] for s in view["scores"]} >= {"p_alive", "clv_12m"}
    by_id = CliRunner().invoke(app, ["profiles", "show", view["profile_id"], "-p", str(tmp_path / "demo")])
    assert by_id.exit_code == 0 and view["profile_id"] in by_id.output
    missing = CliRunner().invoke(app, ["profiles", "show", "--kind", "email", "wang.unknown.7731@qq.com", "-p", str(tmp_path / "demo")])
    assert missing.exit_code == 2 and "no profile" in missing.output
    # a second demo replaces the first; a folder that is not a project is never removed
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    refused = CliRunner().invoke(app, ["demo", "--customers", "500", "--dir", str(tmp_path / "mine")])
    assert refused.exit_code == 2 and (tmp_path / "mine" / "notes.txt").exists()
