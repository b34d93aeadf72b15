"""`faultproof scenarios` and `faultproof schema`, in process and as the installed script."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from faultproof.contracts import PROVIDERS, default_catalogue
from faultproof.mocks.cli import cli


@pytest.fixture
def run():
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args))


def test_scenarios_table_lists_everything(run):
    result = run("scenarios")
    assert result.exit_code == 0
    total = len(default_catalogue().scenarios())
    assert f"{total} scenarios" in result.output
    for s in default_catalogue().scenarios():
        assert s.id in result.output


def test_scenarios_json_matches_design(run):
    result = run("scenarios", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert isinstance(data, list)
    assert len(data) == len(default_catalogue().scenarios())
    for item in data:
        assert {
            "id",
            "provider",
            "status",
            "code",
            "message",
            "retryable",
            "checks",
            "source",
        } <= set(item)
        assert item["source"]["kind"] in ("documented", "assumed")
        assert "seed" in item["source"]
    assert {i["provider"] for i in data} == {*PROVIDERS, None}


def test_provider_filter_keeps_faults(run):
    data = json.loads(run("scenarios", "--provider", "ainative", "--json").output)
    assert {i["provider"] for i in data} == {"ainative", None}
    assert any(i["id"] == "fault.hang" for i in data)


def test_unknown_provider_exits_2_naming_valid_ids(run):
    result = run("scenarios", "--provider", "alanna")
    assert result.exit_code == 2
    assert "Did you mean 'alana'" in result.output
    for provider in PROVIDERS:
        assert provider in result.output


@pytest.mark.parametrize("provider", PROVIDERS)
def test_schema_prints_the_json_schema(run, provider):
    result = run("schema", provider)
    assert result.exit_code == 0
    assert json.loads(result.output)["$id"].endswith(f"{provider}.json")


def test_schema_unknown_provider_exits_2(run):
    assert run("schema", "nope").exit_code == 2


def test_console_script_runs():
    script = subprocess.run(
        [sys.executable, "-m", "faultproof.mocks.cli", "scenarios", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert script.returncode == 0, script.stderr
    assert json.loads(script.stdout)
    bad = subprocess.run(
        [sys.executable, "-m", "faultproof.mocks.cli", "scenarios", "--provider", "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "Valid:" in bad.stderr
