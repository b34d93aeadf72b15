"""`faultproof run` reads [tool.faultproof] from ./pyproject.toml; flags win over it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from faultproof.mocks.cli import run
from faultproof.mocks.project_config import run_defaults

ROOT = Path(__file__).resolve().parents[1]


def _project(folder: Path, table: str) -> Path:
    (folder / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.faultproof]\n" + table)
    return folder


def test_keys_are_runs_long_option_names_with_dashes_or_underscores(tmp_path):
    folder = _project(
        tmp_path, 'client_cmd = "./c"\nprovider = "alana"\nscenario = ["a.*"]\nstrict = true\n'
    )
    assert run_defaults(run, folder) == {
        "client_cmd": "./c",
        "providers": ["alana"],
        "patterns": ["a.*"],
        "strict": True,
    }
    assert run_defaults(run, tmp_path / "nowhere") == {}


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        (
            'providr = ["alana"]\n',
            "no setting 'providr'; valid: catalogue, client-cmd, client-py, provider",
        ),
        ("scenario = [{a = 1}]\n", "scenario takes a list of values"),
        ("strict = \n", "not valid TOML"),
    ],
)
def test_bad_settings_are_usage_errors_naming_what_is_valid(tmp_path, table, needle):
    with pytest.raises(click.UsageError) as raised:
        run_defaults(run, _project(tmp_path, table))
    assert needle in str(raised.value)


def test_a_run_configured_only_by_pyproject_and_a_flag_that_wins(tmp_path):
    _project(
        tmp_path,
        'client-py = "examples.reference_client:client"\nprovider = ["alana"]\n'
        'scenario = ["alana.RATE_001"]\njson = "report.json"\n',
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "faultproof", "run"]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    graded = [r["scenario"] for r in json.loads((tmp_path / "report.json").read_text())["results"]]
    assert graded == ["alana.RATE_001"]
    flagged = subprocess.run(
        [*command, "--scenario", "alana.SERVER_001"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert flagged.returncode == 0, flagged.stderr[-3000:]
    graded = [r["scenario"] for r in json.loads((tmp_path / "report.json").read_text())["results"]]
    assert graded == ["alana.SERVER_001"]
