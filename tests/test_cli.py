"""`faultproof scenarios` and `faultproof schema`, in process and as the installed script."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from faultproof.contracts import PROVIDERS, default_catalogue
from faultproof.contracts.verdict import CheckResult, RunReport, ScenarioResult
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


# --- exit codes of run and judge: warn and flaky fail only under --strict --------------------


def _result(verdict: str, *, first: ScenarioResult | None = None) -> ScenarioResult:
    check = CheckResult("backs_off", verdict, f"{verdict}: first wait 0.45 s, assumed 1 s")  # type: ignore[arg-type]
    return ScenarioResult("alana.SERVER_002", "alana", (check,), first_attempt=first)


RESULTS = {
    "pass": (_result("pass"),),
    "warn": (_result("pass"), _result("warn")),
    "flaky": (_result("pass", first=_result("fail")),),
    "fail": (_result("warn"), _result("fail")),
}


class _FakeControl:
    """A mock that is there: ``check`` passes."""

    def check(self) -> None:
        pass


@pytest.fixture
def canned(monkeypatch):
    """``run`` and ``judge`` grade nothing: they report the canned results chosen by kind."""
    from faultproof.contracts import judge as judge_module
    from faultproof.mocks import run_command

    chosen: dict[str, tuple[ScenarioResult, ...]] = {}

    class FakeRunner:
        def __init__(self, *args, **kwargs):
            self.control = None

        def run(self, pairs):
            return RunReport("fake", 1.0, chosen["results"])

    def fake_judge(path, fmt, provider=None):
        report = RunReport("captured", 1.0, chosen["results"], meta={"requests": 3})
        return judge_module.Judgement(report, ())

    monkeypatch.setattr(run_command, "Runner", FakeRunner)
    monkeypatch.setattr(run_command, "MockControl", lambda url, token=None: _FakeControl())
    monkeypatch.setattr(run_command, "probe", lambda client, control, provider: None)
    monkeypatch.setattr(judge_module, "judge", fake_judge)
    return chosen


def _command(verb: str, tmp_path) -> list[str]:
    if verb == "judge":
        journal = tmp_path / "journal.json"
        journal.write_text('{"entries": []}')
        return ["judge", "--journal", str(journal)]
    return ["run", "--client-py", "tests.judge.clients:naive", "--mock-url", "http://127.0.0.1:9"]


@pytest.mark.parametrize("verb", ["run", "judge"])
@pytest.mark.parametrize(
    ("kind", "plain", "strict"),
    [("pass", 0, 0), ("warn", 0, 1), ("flaky", 0, 1), ("fail", 1, 1)],
)
def test_exit_code_with_and_without_strict(canned, run, tmp_path, verb, kind, plain, strict):
    canned["results"] = RESULTS[kind]
    args = _command(verb, tmp_path)
    assert run(*args).exit_code == plain
    assert run(*args, "--strict").exit_code == strict


@pytest.mark.parametrize("verb", ["run", "judge"])
def test_terminal_summary_counts_warned_and_flaky(canned, run, tmp_path, verb):
    canned["results"] = RESULTS["warn"] + RESULTS["flaky"] + RESULTS["fail"]
    out = run(*_command(verb, tmp_path)).output
    assert "1 passed, 1 failed, 2 warned, 1 flaky, 0 skipped" in out
    assert "WARN alana.SERVER_002" in out and "backs_off: warn: first wait 0.45 s" in out
    assert "FLAKY alana.SERVER_002" in out
    assert "failed on the first attempt (fail: first wait 0.45 s, assumed 1 s)" in out
    assert "(fails under --strict)" not in out
    assert "(fails under --strict)" in run(*_command(verb, tmp_path), "--strict").output


def test_strict_reports_show_warns_as_failures(canned, run, tmp_path):
    from junitparser import JUnitXml

    canned["results"] = RESULTS["warn"]
    xml_path, json_path = tmp_path / "r.xml", tmp_path / "r.json"
    args = [*_command("judge", tmp_path), "--junit", str(xml_path), "--json", str(json_path)]
    assert run(*args, "--strict").exit_code == 1
    assert JUnitXml.fromfile(str(xml_path)).failures == 1
    assert json.loads(json_path.read_text())["strict"] is True


def test_run_sends_the_control_token_to_a_running_mock(canned, run, monkeypatch):
    from faultproof.mocks import run_command

    canned["results"] = RESULTS["pass"]
    tokens = []
    monkeypatch.setattr(
        run_command, "MockControl", lambda url, token=None: tokens.append(token) or _FakeControl()
    )
    assert run(*_command("run", None), "--control-token", "t0ken").exit_code == 0
    monkeypatch.setenv("FAULTPROOF_CONTROL_TOKEN", "from-env")
    assert run(*_command("run", None)).exit_code == 0
    assert tokens == ["t0ken", "from-env"]


def test_every_serve_option_comes_from_the_environment_and_flags_win():
    from click.testing import CliRunner

    from faultproof.mocks.cli import cli, serve

    for param in serve.params:
        if param.opts and param.opts[0].startswith("--") and param.name != "help":
            assert param.envvar and param.envvar.startswith("FAULTPROOF_"), param.name
    runner = CliRunner()
    bad_state = runner.invoke(cli, ["serve"], env={"FAULTPROOF_STATE": "bogus"})
    assert bad_state.exit_code == 2 and "'bogus'" in bad_state.output
    bad_limit = runner.invoke(cli, ["serve"], env={"FAULTPROOF_JOURNAL_LIMIT": "0"})
    assert bad_limit.exit_code == 2 and "--journal-limit" in bad_limit.output
    # the flag wins: the environment's bad port is never read, the flag's bad state is
    flag_wins = runner.invoke(
        cli, ["serve", "--port", "0", "--state", "nope"], env={"FAULTPROOF_PORT": "x"}
    )
    assert flag_wins.exit_code == 2 and "'nope'" in flag_wins.output
    assert "--port" not in flag_wins.output


def test_python_dash_m_faultproof_is_the_same_command_and_the_version_is_the_package_s():
    import subprocess
    import sys
    from importlib.metadata import version

    import faultproof

    assert faultproof.__version__ == version("faultproof")
    done = subprocess.run(
        [sys.executable, "-m", "faultproof", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert version("faultproof") in done.stdout
    rules = subprocess.run(
        [sys.executable, "-m", "faultproof", "rules", "--provider", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert rules.returncode == 2 and "Valid: ainative" in rules.stderr


def _complete(words: str) -> list[str]:
    import os
    import subprocess

    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    env["_FAULTPROOF_COMPLETE"] = "bash_complete"
    done = subprocess.run(
        ["faultproof"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return [line.split(",", 1)[1] for line in done.stdout.splitlines()]


def test_shell_completion_offers_provider_and_scenario_ids():
    from faultproof.contracts import PROVIDERS, default_catalogue

    assert _complete("faultproof schema a") == [p for p in PROVIDERS if p.startswith("a")]
    rate = [s.id for s in default_catalogue().scenarios("alana") if s.id.startswith("alana.RATE")]
    assert _complete("faultproof run --scenario alana.RATE") == rate
    listed = _complete("faultproof serve --providers alana,ai")
    assert listed == [f"alana,{p}" for p in PROVIDERS if p.startswith("ai")]


def test_the_container_files_name_only_real_serve_settings():
    """The Dockerfile and compose.yaml configure serve through FAULTPROOF_<OPTION> variables:
    each must be one serve reads (a typo would be ignored silently inside a container)."""
    import re
    from pathlib import Path

    import yaml

    from faultproof.mocks.cli import serve

    root = Path(__file__).resolve().parents[1]
    known = {p.envvar for p in serve.params if getattr(p, "envvar", None)}
    dockerfile = (root / "Dockerfile").read_text()
    named = set(re.findall(r"\bFAULTPROOF_[A-Z_]+", dockerfile))
    compose = yaml.safe_load((root / "compose.yaml").read_text())
    named |= set(compose["x-mock"]["environment"])
    assert named and named <= known, sorted(named - known)
    assert 'ENTRYPOINT ["faultproof", "serve"]' in dockerfile
    assert {"FAULTPROOF_HOST", "FAULTPROOF_CONTROL_TOKEN", "FAULTPROOF_STATE"} <= named
