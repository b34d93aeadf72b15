"""`faultproof run` as a user calls it: exit codes and report files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _call(args):
    """The CLI in a subprocess, with this folder importable (for ``clients:``)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    return subprocess.run(
        [sys.executable, "-m", "faultproof.mocks.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run"], "exactly one of --client-cmd"),
        (["run", "--client-cmd", "x", "--client-py", "a:b"], "exactly one of --client-cmd"),
        (["run", "--client-py", "clients:naive", "--provider", "alanna"], "Did you mean 'alana'"),
        (
            ["run", "--client-py", "clients:naive", "--scenario", "nope.*"],
            "unknown scenario pattern",
        ),
        (["run", "--client-py", "no_module:f"], "cannot import"),
    ],
)
def test_usage_errors_exit_2(args, needle):
    result = _call(args)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_failing_client_exits_1_and_writes_every_report(tmp_path):
    out = {
        fmt: tmp_path / name
        for fmt, name in (
            ("json", "r.json"),
            ("junit", "r.xml"),
            ("markdown", "r.md"),
            ("html", "r.html"),
        )
    }
    result = _call(
        [
            "run",
            "--client-py",
            "clients:naive",
            "--provider",
            "alana",
            "--scenario",
            "alana.DATA_001",
            "--scenario",
            "alana.SERVER_002",
            "--workers",
            "4",
            *[arg for fmt, path in out.items() for arg in (f"--{fmt}", str(path))],
        ]
    )
    assert result.returncode == 1, result.stderr
    assert "FAIL alana.DATA_001 [alana] parses_envelope" in result.stdout
    report = json.loads(out["json"].read_text())
    assert report["summary"]["scenarios"] == 2 and report["summary"]["failed"] == 2
    assert {r["scenario"] for r in report["results"]} == {"alana.DATA_001", "alana.SERVER_002"}
    from junitparser import JUnitXml

    xml = JUnitXml.fromfile(str(out["junit"]))
    assert sum(suite.failures for suite in xml) >= 2
    assert "parses_envelope" in out["markdown"].read_text()
    assert "<svg" in out["html"].read_text()
