"""Smoke tests of the real retry stacks in examples/real_clients and examples/node_fetch_client.mjs.

Each stack runs a few alana scenarios through the Runner against an in-process mock; every run
must produce an outcome (no tool error), and one or two verdicts that the full-catalogue runs
established (examples/REAL_CLIENTS.md) must hold. Only deterministic verdicts are asserted:
never one that depends on a stack's random jitter. The stacks run concurrently (their waits are
real sleeps), so the file costs about as long as the slowest stack, not the sum.

A stack whose package is missing is skipped, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from faultproof.contracts import default_catalogue
from faultproof.contracts.adapters import PythonClient, SubprocessClient
from faultproof.contracts.control_client import MockControl
from faultproof.contracts.runner import Runner, select
from faultproof.mocks.serving.inprocess import running_mock
from tests.needs import missing

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SCENARIOS = ["alana.RATE_001", "alana.SERVER_002", "alana.DATA_001"]

#: stack -> (what it needs, the client, extra scenarios, verdicts the full runs established)
STACKS = {
    "requests_urllib3:defaults": (
        ("requests",),
        "examples.real_clients.requests_urllib3:defaults",
        [],
        {
            # urllib3's Retry() retries a status only with a Retry-After (413/429/503 then).
            ("alana.SERVER_002", "retries_retryable"): "fail",
            ("alana.RATE_001", "retries_retryable"): "pass",
            ("alana.DATA_001", "parses_envelope"): "pass",
        },
    ),
    "requests_urllib3:typical": (
        ("requests",),
        "examples.real_clients.requests_urllib3:typical",
        [],
        {
            # raise_on_status: the exhausted 503 becomes RetryError, without its body.
            ("alana.SERVER_002", "parses_envelope"): "fail",
            # urllib3 2 sleeps 0 s before the first retry: below alana's minimum wait, which the
            # seed does not give (assumed), so a warn naming it, not a fail.
            ("alana.SERVER_002", "backs_off"): "warn",
            ("alana.SERVER_002", "retries_retryable"): "pass",
        },
    ),
    "httpx_retries:client": (
        ("httpx_retries",),
        "examples.real_clients.httpx_retries:client",
        [],
        {
            ("alana.RATE_001", "honours_retry_after"): "pass",
            # total=5 retries: six requests against a policy of five attempts, a bound alana's
            # seed does not give (assumed): a warn naming it, not a fail.
            ("alana.RATE_001", "bounded_attempts"): "warn",
        },
    ),
    "tenacity_client:client": (
        ("tenacity",),
        "examples.real_clients.tenacity_client:client",
        [],
        {
            # retry_if_exception_type(HTTPStatusError) retries a 404 too.
            ("alana.DATA_001", "stops_on_non_retryable"): "fail",
            ("alana.SERVER_002", "backs_off"): "pass",
        },
    ),
    "stamina_client:client": (
        ("stamina",),
        "examples.real_clients.stamina_client:client",
        ["aironclaw.redis_unavailable"],
        {
            ("alana.DATA_001", "stops_on_non_retryable"): "pass",
            # attempts=3 against aironclaw's documented two.
            ("aironclaw.redis_unavailable", "bounded_attempts"): "fail",
        },
    ),
    "backoff_client:client": (
        ("backoff", "requests"),
        "examples.real_clients.backoff_client:client",
        [],
        {
            # The README's fatal_code gives up on every 4xx, 429 included.
            ("alana.RATE_001", "retries_retryable"): "fail",
            ("alana.SERVER_002", "retries_retryable"): "pass",
        },
    ),
    "node_fetch": (
        ("node",),
        f"node {ROOT / 'examples' / 'node_fetch_client.mjs'}",
        ["alana.STREAM_ERROR"],
        {
            ("alana.RATE_001", "honours_retry_after"): "pass",
            ("alana.SERVER_002", "backs_off"): "pass",
            ("alana.STREAM_ERROR", "detects_stream_error"): "fail",
        },
    ),
}


def _missing(needs: tuple[str, ...]) -> str | None:
    """Why a stack cannot run here, or None."""
    for need in needs:
        if need == "node":
            if not shutil.which("node"):
                return "node is not installed"
        elif importlib.util.find_spec(need) is None:
            return f"{need} is not installed (pip install -e '.[real-clients]')"
    return None


def _need_or_skip(stack: str) -> None:
    reason = _missing(STACKS[stack][0])
    if reason:
        missing(f"{stack}: {reason}")


@pytest.fixture(scope="module")
def reports():
    """Every available stack over its scenarios, the stacks side by side."""
    catalogue = default_catalogue()
    available = {}
    for stack, (need, spec, extra, _) in STACKS.items():
        if _missing(need):
            continue
        client = SubprocessClient(spec) if "node" in need else PythonClient(spec)
        patterns = SCENARIOS + extra
        providers = sorted({p.split(".")[0] for p in patterns})
        available[stack] = (client, select(catalogue, providers, patterns))
    with running_mock() as url, ThreadPoolExecutor(max_workers=len(available) or 1) as pool:
        futures = {
            stack: pool.submit(Runner(client, MockControl(url), catalogue, workers=8).run, pairs)
            for stack, (client, pairs) in available.items()
        }
        yield {stack: future.result() for stack, future in futures.items()}


@pytest.mark.parametrize("stack", list(STACKS))
def test_real_stack_smoke(stack, reports):
    _need_or_skip(stack)
    report = reports[stack]
    _, _, extra, expected = STACKS[stack]
    assert {r.scenario for r in report.results} == set(SCENARIOS + extra)
    problems = [(r.scenario, r.error) for r in report.results if r.error or r.outcome is None]
    assert not problems, problems
    verdicts = {(r.scenario, c.id): (c.verdict, c.detail) for r in report.results for c in r.checks}
    for key, want in expected.items():
        got, detail = verdicts[key]
        assert got == want, (stack, key, got, detail)
