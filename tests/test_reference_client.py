"""The reference client (examples/reference_client.py) against a live mock, graded by the checks.

Every case installs a plan in its own session (``recovery``: the scenario once, then normal
answers; ``persistent``: the scenario forever), drives the client through the scenario's
operation, reads the journal and grades it with the checks of that mode. The cases run
concurrently against one threaded server, so the module costs about its slowest case. Waits
are shortened through scenario parameters (``retry_after`` 1, ``max_s`` 5, ``interval_s`` 0.2).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.serving import make_server

from faultproof.contracts import Operation, default_catalogue
from faultproof.contracts.checks import REGISTRY, CheckContext, run_check
from faultproof.contracts.control_client import MockControl
from faultproof.contracts.verdict import CheckResult, Outcome
from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `examples` is a folder of the project, not an installed package
    sys.path.insert(0, str(ROOT))
reference = importlib.import_module("examples.reference_client")
policy_rules = importlib.import_module("examples.reference_policy")
http_layer = importlib.import_module("examples.reference_http")

CATALOGUE = default_catalogue()


@dataclass(frozen=True)
class Case:
    """One graded run: a scenario, the mode of its run, and small parameters."""

    scenario: str
    mode: str
    provider: str | None = None  # for generic faults
    operation: str | None = None  # another operation than the scenario's
    params: dict[str, Any] = field(default_factory=dict)
    timeout_s: float = 10.0
    expect: dict[str, Any] = field(default_factory=dict)  # fields the outcome must have
    requests: int | None = None  # exact number of journal entries

    @property
    def id(self) -> str:
        where = f"@{self.provider}" if self.provider else ""
        op = f"/{self.operation}" if self.operation else ""
        return f"{self.scenario}{where}{op}-{self.mode}"


R1 = {"retry_after": 1}
OK = {"ok": True}
CASES = [
    # 429 with Retry-After: seconds, HTTP-date, body only; too long to wait; on a POST
    Case("alana.RATE_001", "recovery", params=R1, expect=OK, requests=2),
    Case("alana.RATE_001", "persistent", params=R1, requests=5, expect={"code": "RATE_001"}),
    Case("alana.RATE_001_http_date", "recovery", params=R1, expect=OK),
    Case("airbyte.rate_limited_http_date", "recovery", params=R1, expect=OK),
    Case("alloy.rate_limited_http_date", "recovery", params=R1, expect=OK),
    Case("ainative.rate_limited", "recovery", params=R1, expect=OK),
    Case("ainative.rate_limited_body_only", "recovery", params=R1, expect=OK),
    Case("aironclaw.proxy_rate_limited", "recovery", params=R1, expect=OK),
    Case("airbyte.rate_limited_long_wait", "persistent", requests=1, expect={"status": 429}),
    Case("airbyte.rate_limited_on_create", "recovery", params=R1, expect=OK, requests=2),
    Case("airbyte.rate_limited_no_retry_after", "recovery", expect=OK),
    # 5xx and 408: recovery with backoff, bounded persistence
    Case("alana.SERVER_001", "recovery", expect=OK),
    Case("ainative.internal_server_error", "persistent", requests=4, expect={"status": 500}),
    Case("ainative.internal_server_error_plain", "persistent", requests=4, expect={"code": None}),
    Case("airbyte.request_timeout", "recovery", expect=OK),
    Case("alloy.internal_error", "recovery", expect=OK),
    Case("aironclaw.redis_unavailable", "persistent", requests=2, expect={"status": 503}),
    Case("aironclaw.mcp_not_found_after_create", "recovery", expect=OK),
    # non-retryable answers
    Case("alana.AUTH_002", "persistent", expect={"code": "AUTH_002", "request_id": "req_abc123"}),
    Case("alana.DATA_001", "persistent", expect={"code": "DATA_001"}),
    Case("alana.DATA_003", "persistent", expect={"code": "DATA_003"}),
    Case("ainative.validation_error_email", "persistent", expect={"status": 422}),
    Case("airbyte.invalid_grant", "persistent", expect={"code": "invalid_grant"}),
    Case("airbyte.validation_error", "persistent", expect={"code": "Bad Request"}),
    Case(
        "aironclaw.invalid_pat", "persistent", expect={"message": "Invalid personal access token"}
    ),
    Case("aironclaw.mcp_not_found", "persistent", requests=1),
    Case("aironclaw.twofa_challenge_rate_limited", "persistent", requests=1),
    Case("alloy.CREDENTIAL_NOT_FOUND", "persistent", expect={"code": "CREDENTIAL_NOT_FOUND"}),
    Case("alloy.jsonrpc_method_not_found", "persistent", expect={"code": "INVALID_REQUEST"}),
    Case("alloy.auth_invalid_key", "persistent", expect={"code": "UNAUTHORIZED"}),
    Case("alloy.needs_refinement", "persistent", expect=OK, requests=1),
    # expired credentials: refreshed once; a refresh that fails reports the original 401
    Case("ainative.token_expired", "recovery", expect=OK),
    Case("airbyte.token_expired", "recovery", expect=OK),
    Case("alloy.token_expired", "recovery", expect=OK),
    Case("alloy.token_regenerated", "recovery", expect=OK),
    Case("ainative.invalid_token_format", "persistent", expect={"status": 401}),
    Case("airbyte.refresh_token_missing", "persistent", expect={"status": 401}),
    Case("alloy.server_deleted", "persistent", expect={"message": "Server not found or deleted"}),
    # an NDJSON stream that ends with an error line
    Case("alana.STREAM_ERROR", "persistent", expect={"status": 200, "code": "STREAM_ERROR"}),
    # a POST without an Idempotency-Key is not repeated after a 5xx, a drop or a truncation
    Case("alana.SERVER_001_on_create", "persistent", requests=1, expect={"status": 500}),
    Case("airbyte.internal_server_error_on_create", "persistent", requests=1),
    Case("alloy.internal_error_execute_action", "persistent", requests=1),
    Case("ainative.query_timeout", "persistent", requests=1, expect={"status": 504}),
    Case("aironclaw.key_create_failed", "persistent", requests=1),
    Case("fault.drop", "persistent", "alana", "create_product", requests=1),
    Case("fault.truncated_body", "persistent", "alana", "create_product", requests=1),
    # generic transport faults on a GET
    Case("fault.hang", "persistent", "alana", params={"max_s": 5}, timeout_s=2.0),
    Case("ainative.slow_response_timeout", "persistent", params={"max_s": 5}, timeout_s=2.0),
    Case("fault.slow_drip", "persistent", "ainative", params={"interval_s": 0.2}, timeout_s=2.0),
    Case("fault.drop", "recovery", "alana", expect=OK),
    Case("fault.drop", "persistent", "ainative", requests=4, expect={"transport": "connection"}),
    Case("airbyte.connection_refused", "recovery", expect=OK),
    Case("aironclaw.empty_response", "recovery", expect=OK),
    Case("fault.truncated_body", "persistent", "ainative", expect={"transport": "protocol"}),
    Case("fault.malformed_json", "persistent", "alana", expect={"transport": "protocol"}),
    Case("fault.html_502", "recovery", "alana", expect=OK),
    Case("fault.html_502", "persistent", "ainative", requests=4, expect={"status": 502}),
    Case("fault.delay", "recovery", "airbyte", params={"delay_s": 0.5}, expect=OK),
]


@dataclass
class Run:
    """What one case produced."""

    outcome: Outcome | None
    entries: list[dict[str, Any]]
    elapsed_s: float
    killed: bool
    results: list[CheckResult]


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    """All five providers on a real loopback socket (werkzeug's threaded server)."""
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # resets are the point here
    app = create_app(MockConfig(hang_max_s=5.0))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def session(url: str, scenario: str, params: dict[str, Any], mode: str) -> dict[str, Any]:
    created = httpx.post(f"{url}/__faultproof/sessions", timeout=30).json()
    plan = {
        "steps": [{"scenario": scenario, "params": params}],
        "after": "ok" if mode == "recovery" else "repeat_last",
    }
    answer = httpx.put(f"{url}/__faultproof/sessions/{created['id']}/plan", json=plan, timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(created)


def journal(url: str, session_id: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{url}/__faultproof/sessions/{session_id}/journal", timeout=30)
    return list(answer.json()["entries"])


def drive(url: str, case: Case) -> Run:
    scenario = CATALOGUE.scenario(case.scenario)
    provider = CATALOGUE.provider(case.provider or str(scenario.provider))
    operation = (
        provider.operations[case.operation] if case.operation else provider.operation_for(scenario)
    )
    created = session(url, scenario.id, case.params, case.mode)
    box: dict[str, Outcome] = {}
    base_url = created["base_urls"][provider.id]

    def call() -> None:
        box["outcome"] = reference.client(base_url, operation, timeout_s=case.timeout_s)

    started = time.monotonic()
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(case.timeout_s + 3)
    elapsed = time.monotonic() - started
    entries = MockControl(url).settled_journal(created["id"], 10)
    ctx = CheckContext(
        scenario=scenario,
        provider=provider,
        operation=operation,
        entries=entries,
        outcome=box.get("outcome"),
        elapsed_s=elapsed,
        time_limit_s=case.timeout_s,
        killed=thread.is_alive(),
    )
    checks = [c for c in scenario.checks if REGISTRY[c].mode == case.mode]
    results = [run_check(c, ctx) for c in checks]
    return Run(box.get("outcome"), entries, elapsed, thread.is_alive(), results)


@pytest.fixture(scope="module")
def runs(mock_url: str) -> dict[str, Run]:
    with ThreadPoolExecutor(max_workers=16) as pool:
        done = pool.map(lambda case: (case.id, drive(mock_url, case)), CASES)
        return dict(done)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_every_applicable_check_passes(case: Case, runs: dict[str, Run]) -> None:
    run = runs[case.id]
    timeline = [(e["method"], e["path"], e["status"], e["scenario"]) for e in run.entries]
    failed = [r.to_json() for r in run.results if r.verdict == "fail"]
    assert not failed, f"{failed}\ntimeline: {timeline}\noutcome: {run.outcome}"
    assert any(r.verdict == "pass" for r in run.results), [r.to_json() for r in run.results]
    assert run.outcome is not None
    got = run.outcome.to_json()
    for key, value in case.expect.items():
        assert got.get(key) == value, f"{key}: {got}"
    if case.requests is not None:
        assert len(run.entries) == case.requests, timeline


def test_a_hang_ends_as_a_timeout_within_the_limit(runs: dict[str, Run]) -> None:
    """The client gives up by itself (no wall-clock bound here: times_out grades the time with
    its load-proof margin in test_every_applicable_check_passes)."""
    for case_id in ("fault.hang@alana-persistent", "fault.slow_drip@ainative-persistent"):
        run = runs[case_id]
        assert run.outcome == Outcome(ok=False, status=None, transport="timeout")
        assert not run.killed


def test_the_body_retry_after_is_honoured(runs: dict[str, Run]) -> None:
    """The journal sees no Retry-After header here, so honours_retry_after cannot tell."""
    first, second = runs["ainative.rate_limited_body_only-recovery"].entries
    assert second["received_at"] - first["responded_at"] >= 1.0 - 0.05


def test_a_refresh_renews_the_credential_once(runs: dict[str, Run]) -> None:
    paths = {
        "ainative.token_expired-recovery": "/v1/auth/refresh",
        "airbyte.token_expired-recovery": "/api/v1/oauth/token",
        "alloy.token_expired-recovery": "/api/servers/srv_demo",
    }
    for case_id, path in paths.items():
        entries = runs[case_id].entries
        assert [e["path"] for e in entries].count(path) == 1, entries
        first, last = entries[0], entries[-1]
        assert (first["status"], last["status"]) == (401, 200), entries
        assert first["method"] == last["method"]
        assert first["headers"].get("Authorization") != last["headers"].get("Authorization") or (
            first["path"] != last["path"]
        )


def test_the_subprocess_protocol(mock_url: str) -> None:
    created = session(mock_url, "alana.RATE_001", R1, "recovery")
    operation = CATALOGUE.provider("alana").operations["get_product"]
    env = {
        **os.environ,
        "FAULTPROOF_BASE_URL": created["base_urls"]["alana"],
        "FAULTPROOF_PROVIDER": "alana",
        "FAULTPROOF_OPERATION": json.dumps(operation.to_json()),
        "FAULTPROOF_TIMEOUT_S": "10",
    }
    done = subprocess.run(
        [sys.executable, "-m", "examples.reference_client"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["ok"] is True and outcome["status"] == 200
    assert outcome["data"]["id"] == "42"
    assert len(journal(mock_url, created["id"])) == 2


def test_the_subprocess_counts_its_limit_from_its_first_request(mock_url: str) -> None:
    """A start-up slower than the whole limit is not taken from the budget: the hung request is
    still held for most of the limit. A lower bound with half the limit to spare, so load
    cannot fail it."""
    created = session(mock_url, "fault.hang", {"max_s": 5}, "persistent")
    operation = CATALOGUE.provider("alana").operations["get_product"]
    env = {
        **os.environ,
        "FAULTPROOF_BASE_URL": created["base_urls"]["alana"],
        "FAULTPROOF_PROVIDER": "alana",
        "FAULTPROOF_OPERATION": json.dumps(operation.to_json()),
        "FAULTPROOF_TIMEOUT_S": "1.5",
    }
    slow_start = "import runpy, time; time.sleep(2); runpy.run_module('examples.reference_client', run_name='__main__')"
    done = subprocess.run(
        [sys.executable, "-c", slow_start],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome == {"ok": False, "status": None, "transport": "timeout"}
    # The mock completes the entry once it notices the client left (within 50 ms).
    hung = MockControl(mock_url).settled_journal(created["id"], 10)[0]
    assert hung["responded_at"] - hung["received_at"] >= 1.5 / 2


# ------------------------------------------------------------------ the rules, without a server


def reply(status: int | None, headers: dict[str, str] | None = None, body: Any = None) -> Any:
    raw = json.dumps(body).encode() if body is not None else b""
    return http_layer.Reply(status=status, headers=httpx.Headers(headers or {}), body=raw)


@pytest.mark.parametrize("provider_id", sorted(CATALOGUE.providers))
def test_backoff_is_never_below_nominal_and_never_shrinks(provider_id: str) -> None:
    policy = CATALOGUE.provider(provider_id).policy
    for seed in range(20):
        backoff = policy_rules.Backoff(policy, random.Random(seed))
        waits = [backoff.wait(n) for n in range(1, policy.max_attempts + 3)]
        for n, wait in enumerate(waits, start=1):
            nominal = policy.backoff.nominal(n)
            assert wait >= min(max(nominal, policy.min_wait_s), policy.max_wait_s)
            assert wait <= max(nominal * (1 + policy.backoff.jitter_ratio), policy.min_wait_s)
        assert waits == sorted(waits)


def test_named_waits_follow_the_policy_sources() -> None:
    alana = CATALOGUE.provider("alana").policy
    ainative = CATALOGUE.provider("ainative").policy
    airbyte = CATALOGUE.provider("airbyte").policy
    assert policy_rules.named_wait(alana, reply(429, {"Retry-After": "2"})) == 2.0
    assert policy_rules.named_wait(alana, reply(429, {"Retry-After": "1.5"})) == 1.5
    date = formatdate(time.time() + 5, usegmt=True)
    assert 3.5 < policy_rules.named_wait(airbyte, reply(429, {"Retry-After": date})) <= 5
    for garbage in ("soon", "-3", "", "Tue, 1 Jan 2030 00:00:00"):
        assert policy_rules.named_wait(airbyte, reply(429, {"Retry-After": garbage})) is None
    body = {"detail": "Rate limit exceeded", "retry_after": 3}
    assert policy_rules.named_wait(ainative, reply(429, {}, body)) == 3.0
    assert policy_rules.named_wait(ainative, reply(429, {"Retry-After": "1"}, body)) == 1.0
    reset = {"X-RateLimit-Reset": str(int(time.time()) + 4), "X-RateLimit-Remaining": "0"}
    assert 2.5 < policy_rules.named_wait(alana, reply(429, reset)) <= 4
    assert policy_rules.named_wait(alana, reply(500, reset)) is None  # sent on every response
    assert policy_rules.named_wait(airbyte, reply(429, reset)) is None  # not Airbyte's source


def test_idempotency_comes_from_the_catalogue() -> None:
    alloy = CATALOGUE.provider("alloy")
    assert policy_rules.is_idempotent(alloy, alloy.operations["tools_list"])
    assert not policy_rules.is_idempotent(alloy, alloy.operations["execute_action"])
    ainative = CATALOGUE.provider("ainative")
    assert not policy_rules.is_idempotent(ainative, ainative.operations["query"])
    unknown = Operation("x", "POST", "/v1/other", idempotent=True)
    assert not policy_rules.is_idempotent(ainative, unknown)
    keyed = Operation("x", "POST", "/v1/other", headers={"Idempotency-Key": "k1"})
    assert policy_rules.is_idempotent(ainative, keyed)
    from_env = reference.operation_from_env(alloy.operations["execute_action"].to_json())
    assert not policy_rules.is_idempotent(alloy, from_env)


def test_per_operation_departures_from_the_retryable_statuses() -> None:
    aironclaw = CATALOGUE.provider("aironclaw")
    assert 404 in policy_rules.retryable_statuses(aironclaw, "get_mcp_after_create")
    assert 404 not in policy_rules.retryable_statuses(aironclaw, "get_mcp")
    assert 429 not in policy_rules.retryable_statuses(aironclaw, "twofa_challenge")
    assert 429 in policy_rules.retryable_statuses(aironclaw, "proxy_mcp")
    airbyte = CATALOGUE.provider("airbyte")
    assert 401 not in policy_rules.retryable_statuses(airbyte, "list_workspaces")
