"""The CLI, run in-process through Typer's runner against real project folders."""

import json
import os
import stat

from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.config import SECRET_FILE, load_settings
from jingzhun.project import Project

runner = CliRunner()


def test_init_creates_a_project_and_keeps_its_secret(tmp_path):
    target = tmp_path / "shop"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert "ready" in result.output
    secret_file = target / SECRET_FILE
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    secret = secret_file.read_text()
    assert (target / "data" / "warehouse.duckdb").exists()
    assert SECRET_FILE in (target / ".gitignore").read_text()
    # a second init keeps settings and secret
    again = runner.invoke(app, ["init", str(target)])
    assert again.exit_code == 0, again.output
    assert secret_file.read_text() == secret
    assert load_settings(target).name == "shop"
    with Project.open(target) as project:
        assert project.warehouse.version() >= 1


def test_commands_outside_a_project_say_what_to_do(tmp_path):
    result = runner.invoke(app, ["quality", "-p", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "jingzhun init" in result.output


def test_help_and_version():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "demo" in result.output and "ingest" in result.output
    assert runner.invoke(app, ["--version"]).output.startswith("jingzhun ")


def test_build_records_runs(tmp_path):
    runner.invoke(app, ["init", str(tmp_path / "p")])
    result = runner.invoke(app, ["build", "--step", "checks", "-p", str(tmp_path / "p"), "--json"])
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.output)["run_id"]
    with Project.open(tmp_path / "p") as project:
        runs = project.warehouse.execute(project.warehouse.table("runs"))
    assert list(runs.run_id) == [run_id] and list(runs.status) == ["ok"]
