"""The official ``mcp`` SDK client, graded through the Runner on Alloy's MCP scenarios.

examples/real_clients/mcp_sdk.py drives ``mcp.Client`` as a user does. The verdicts asserted
rest on the SDK's source, not on timing: ``StreamableHTTPTransport._handle_post_request``
turns any answer of 400 or more whose body is a JSON-RPC error into that error, raised as
``MCPError`` once, so the SDK never retries (``retries_retryable`` fails on a 429, the check
``bounded_attempts`` passes with one attempt), never refreshes a token URL, and reports the
documented code and message (``parses_envelope`` passes).

A missing SDK goes through tests/needs.missing(): skipped on a laptop, failed in CI.
"""

from __future__ import annotations

import importlib.util

import pytest

from faultproof.contracts import default_catalogue
from faultproof.contracts.adapters import PythonClient
from faultproof.contracts.control_client import MockControl
from faultproof.contracts.runner import Runner, select
from faultproof.mocks.serving.inprocess import running_mock
from tests.needs import missing

#: (scenario, check) -> the verdicts the SDK's source allows
EXPECTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("alloy.RATE_LIMITED", "parses_envelope"): ("pass",),
    ("alloy.RATE_LIMITED", "retries_retryable"): ("fail",),
    ("alloy.RATE_LIMITED", "bounded_attempts"): ("pass",),
    ("alloy.ACTION_NOT_FOUND", "parses_envelope"): ("pass",),
    ("alloy.ACTION_NOT_FOUND", "stops_on_non_retryable"): ("pass",),
    ("alloy.forbidden_private_mode", "parses_envelope"): ("pass",),
    ("alloy.token_expired", "refreshes_token"): ("fail",),
    # 500 is retryable by an assumed policy field: a warning, never a pass
    ("alloy.internal_error", "retries_retryable"): ("warn",),
    ("alloy.internal_error", "parses_envelope"): ("pass",),
}


@pytest.fixture(scope="module")
def report():
    if importlib.util.find_spec("mcp") is None:
        missing("the official MCP SDK is not installed: pip install 'mcp>=2.3'")
    catalogue = default_catalogue()
    scenarios = sorted({scenario for scenario, _ in EXPECTED})
    with running_mock() as url:
        client = PythonClient("examples.real_clients.mcp_sdk:client")
        runner = Runner(client, MockControl(url), catalogue, workers=4)
        yield runner.run(select(catalogue, ["alloy"], scenarios))


def test_mcp_sdk_verdicts(report):
    problems = [(r.scenario, r.error) for r in report.results if r.error or r.outcome is None]
    assert not problems, problems
    verdicts = {(r.scenario, c.id): (c.verdict, c.detail) for r in report.results for c in r.checks}
    wrong = [
        (key, verdicts[key]) for key, allowed in EXPECTED.items() if verdicts[key][0] not in allowed
    ]
    assert not wrong, wrong


def test_the_sdk_reports_each_documented_code(report):
    codes = {r.scenario: r.outcome.code for r in report.results}
    assert codes == {s: default_catalogue().scenario(s).code for s in codes}
