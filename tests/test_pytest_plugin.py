"""The pytest plugin: per-scenario parametrization, fixtures, assertions, xdist, bad markers."""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

import pytest

from faultproof.contracts import default_catalogue
from faultproof.contracts.runner import plan_runs
from faultproof.mocks.serving.inprocess import running_mock

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pytest_suite" / "test_client_resilience.py"


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A user's repository: the project root importable (for ``examples``), nothing else."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.syspath_prepend(str(ROOT))
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    return pytester


def expected_ids(provider: str, glob: str) -> list[str]:
    """What the marker should expand to, computed from the catalogue directly."""
    catalogue = default_catalogue()
    ids = []
    for scenario in catalogue.provider(provider).scenarios.values():
        if not scenario.checks or not fnmatch.fnmatchcase(scenario.id, f"{provider}.{glob}"):
            continue
        runs = plan_runs(scenario, catalogue.provider(provider))
        ids += [scenario.id if len(runs) == 1 else f"{scenario.id}:{r.mode}" for r in runs]
    return ids


def test_the_marker_makes_one_test_id_per_scenario_run(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest

        @pytest.mark.faultproof(provider="alana", scenario="AUTH_*")
        def test_it(faultproof_session):
            pass
        """
    )
    result = suite.runpytest("--collect-only", "-q")
    collected = [
        line.split("[", 1)[1].rstrip("]") for line in result.outlines if "::test_it[" in line
    ]
    want = expected_ids("alana", "AUTH_*")
    assert collected == want
    assert len(want) >= 3


def test_the_session_plays_the_scenario_and_is_isolated(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import httpx, pytest

        SEEN = []

        @pytest.mark.faultproof(provider="alana", scenario=["AUTH_001", "NOT_FOUND_*"])
        def test_it(faultproof_session, faultproof_scenario):
            op = faultproof_session.operation
            answer = httpx.get(faultproof_session.base_url + op.path, headers=dict(op.headers))
            assert answer.status_code == faultproof_scenario.scenario.status
            journal = faultproof_session.journal()
            assert [e["scenario"] for e in journal] == [faultproof_scenario.scenario.id]
            assert faultproof_session.id not in SEEN
            SEEN.append(faultproof_session.id)
        """
    )
    result = suite.runpytest("-v")
    result.assert_outcomes(
        passed=len(expected_ids("alana", "AUTH_001")) + len(expected_ids("alana", "NOT_FOUND_*"))
    )


def test_a_failing_check_fails_the_test_with_its_evidence(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest
        from examples.broken_clients import ignores_retry_after
        from faultproof.contracts.assertions import assert_honours_retry_after

        @pytest.mark.faultproof(provider="ainative", scenario="rate_limited", mode="recovery")
        def test_it(faultproof_session):
            ignores_retry_after(faultproof_session.base_url, faultproof_session.operation)
            assert_honours_retry_after(faultproof_session.journal())
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*honours_retry_after: retried * after a 429*", "*timeline of ainative.rate_limited*"]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('provider="alana", scenario="NOPE_*"', "*matches no scenario*valid ids: alana.AUTH_001*"),
        ('provider="acme"', "*unknown provider 'acme'*alana*"),
        (
            'provider="alana", mode="sometimes"',
            "*mode 'sometimes' is not one of recovery, persistent*",
        ),
        ('"alana"', "*takes keyword arguments provider, scenario, mode*"),
    ],
)
def test_a_bad_marker_is_a_clear_collection_error(
    suite: pytest.Pytester, marker: str, message: str
) -> None:
    suite.makepyfile(
        f"""
        import pytest

        @pytest.mark.faultproof({marker})
        def test_it(faultproof_session):
            pass
        """
    )
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([message])
    assert "Traceback" not in result.stdout.str()


def test_the_marker_needs_the_session_fixture(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest

        @pytest.mark.faultproof(provider="alana")
        def test_it():
            pass
        """
    )
    result = suite.runpytest()
    result.stdout.fnmatch_lines(["*request one of them*"])


def test_faultproof_url_uses_a_running_mock(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        def test_it(faultproof_server, faultproof_session, pytestconfig):
            assert faultproof_server.url == pytestconfig.getoption("faultproof_url")
            assert faultproof_session.base_urls["alana"].startswith(faultproof_server.url + "/s/")
        """
    )
    with running_mock() as url:
        suite.runpytest(f"--faultproof-url={url}").assert_outcomes(passed=1)


def test_faultproof_token_reaches_a_mock_with_a_control_token(suite: pytest.Pytester) -> None:
    from faultproof.mocks.config import MockConfig

    suite.makepyfile(
        """
        def test_it(faultproof_session):
            assert faultproof_session.journal() is not None
        """
    )
    with running_mock(MockConfig(control_token="t0ken")) as url:
        suite.runpytest(f"--faultproof-url={url}").assert_outcomes(errors=1)
        suite.runpytest(f"--faultproof-url={url}", "--faultproof-token=t0ken").assert_outcomes(
            passed=1
        )


def test_the_example_suite_passes_under_xdist_with_a_mock_per_worker(
    suite: pytest.Pytester, tmp_path: Path
) -> None:
    """The README's example suite, as a user runs it: two workers, each its own mock and port."""
    shutil.copy(EXAMPLE, suite.path / EXAMPLE.name)
    record = tmp_path / "servers"
    record.mkdir()
    suite.makeconftest(
        f"""
        import os, pathlib

        import pytest

        @pytest.fixture(autouse=True)
        def _record(faultproof_server):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            (pathlib.Path({str(record)!r}) / worker).write_text(faultproof_server.url)
        """
    )
    result = suite.runpytest_subprocess("-n", "2", "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 10 and "failed" not in outcomes, result.stdout.str()
    urls = {p.name: p.read_text() for p in record.iterdir()}
    assert sorted(urls) == ["gw0", "gw1"]
    assert len(set(urls.values())) == 2


WARNING_SUITE = """
import faultproof.contracts.assertions as assertions
from faultproof.contracts.assertions import Journal, assert_check
from faultproof.contracts.verdict import CheckResult
from tests.test_assertions import rate_journal

def test_it(monkeypatch):
    monkeypatch.setattr(
        assertions, "run_check", lambda c, ctx: CheckResult(c, "warn", "assumed 1 s backoff")
    )
    assert_check(rate_journal(1.05), "honours_retry_after")
"""


@pytest.mark.parametrize(
    ("args", "ini", "outcome"),
    [
        ((), "", "passed"),
        (("--faultproof-strict",), "", "failed"),
        ((), "faultproof_strict = true\n", "failed"),
        (("-W", "error::faultproof.contracts.assertions.FaultproofWarning"), "", "failed"),
        (
            ("-W", "default::faultproof.contracts.assertions.FaultproofWarning"),
            "filterwarnings = error\n",
            "passed",
        ),
    ],
)
def test_a_warned_check_passes_with_a_warning_unless_strict(
    suite: pytest.Pytester, args: tuple[str, ...], ini: str, outcome: str
) -> None:
    suite.makeini(f"[pytest]\naddopts = -p no:cacheprovider\n{ini}")
    suite.makepyfile(WARNING_SUITE)
    # In a subprocess: in process, the inner run would inherit this run's filterwarnings = error.
    result = suite.runpytest_subprocess(*args)
    result.assert_outcomes(**{outcome: 1}, warnings=1 if outcome == "passed" else 0)
    result.stdout.fnmatch_lines(["*FaultproofWarning*honours_retry_after: assumed 1 s backoff*"])
