"""The runner: adapters, run planning, and a real run against an in-process mock."""

from __future__ import annotations

import sys

import clients
import pytest

from faultproof.contracts import FaultproofError, UnknownIdError, default_catalogue
from faultproof.contracts.adapters import (
    PythonClient,
    SubprocessClient,
    load_callable,
    parse_outcome,
)
from faultproof.contracts.runner import (
    MockControl,
    Runner,
    plan_runs,
    select,
    small_params,
    time_limit,
)
from faultproof.mocks.serving.inprocess import running_mock

CATALOGUE = default_catalogue()
ALANA = CATALOGUE.provider("alana")
OP = ALANA.operations["get_product"]


@pytest.fixture(scope="module")
def mock_url():
    with running_mock() as url:
        yield url


def test_parse_outcome_takes_the_last_json_line():
    assert parse_outcome('log line\n{"ok": true, "status": 200, "data": 1}\n').status == 200
    for bad in ("", "not json", '{"status": 200}', "[1, 2]"):
        with pytest.raises(ValueError):
            parse_outcome(bad)


def test_subprocess_client_reports_crashes_garbage_and_hangs():
    crash = SubprocessClient(f"{sys.executable} -c 'raise SystemExit(3)'")(
        "http://127.0.0.1:9", "alana", OP, 5
    )
    assert crash.outcome is None and "exit status 3" in crash.error
    garbage = SubprocessClient("echo hello")("http://127.0.0.1:9", "alana", OP, 5)
    assert "not JSON" in garbage.error
    hung = SubprocessClient("sleep 60")("http://127.0.0.1:9", "alana", OP, 0.2)
    assert hung.killed and hung.elapsed_s < 10


def test_subprocess_client_gets_the_protocol_variables():
    script = (
        "import json, os; print(json.dumps({'ok': True, 'status': 200, 'data': "
        "[os.environ['FAULTPROOF_BASE_URL'], os.environ['FAULTPROOF_PROVIDER'], "
        "json.loads(os.environ['FAULTPROOF_OPERATION'])['name'], os.environ['FAULTPROOF_TIMEOUT_S']]}))"
    )
    run = SubprocessClient(f'{sys.executable} -c "{script}"')("http://x/s/1/alana", "alana", OP, 7)
    assert run.outcome.data == ["http://x/s/1/alana", "alana", "get_product", "7"]


def test_python_client_adapter():
    crash = PythonClient("clients:crashes")("http://127.0.0.1:9", "alana", OP, 5)
    assert crash.error == "raised RuntimeError: boom"
    hung = PythonClient("clients:sleeps")("http://127.0.0.1:9", "alana", OP, 0.1)
    assert hung.killed
    assert "not an Outcome" in PythonClient("clients:returns_garbage")("x", "alana", OP, 5).error
    for spec, needle in (
        ("nocolon", "module:function"),
        ("no_such_module:f", "cannot import"),
        ("clients:nope", "no callable"),
    ):
        with pytest.raises(FaultproofError, match=needle):
            load_callable(spec)


def test_run_planning():
    rate = CATALOGUE.scenario("alana.RATE_001")
    modes = {spec.mode for spec in plan_runs(rate, ALANA)}
    assert modes == {"recovery", "persistent"}
    assert small_params(rate, ALANA, "recovery") == {"retry_after": 1}
    assert {spec.mode for spec in plan_runs(CATALOGUE.scenario("alana.DATA_001"), ALANA)} == {
        "persistent"
    }
    refresh = CATALOGUE.scenario("ainative.token_expired")
    assert [
        s.failures
        for s in plan_runs(refresh, CATALOGUE.provider("ainative"))
        if s.mode == "recovery"
    ] == [1]
    long_wait = CATALOGUE.scenario("airbyte.rate_limited_long_wait")
    airbyte = CATALOGUE.provider("airbyte")
    assert small_params(long_wait, airbyte, "persistent")["retry_after"] > airbyte.policy.max_wait_s
    hang = CATALOGUE.scenario("fault.hang")
    assert time_limit(hang, ALANA, "persistent", {}) < 10
    assert (
        time_limit(CATALOGUE.scenario("alana.SERVER_002"), ALANA, "persistent", {}) > 15
    )  # 1+2+4+8 s of backoff


def test_selection():
    pairs = select(CATALOGUE, ["alana"], ["fault.*"])
    assert {s.id for s, _ in pairs} == {
        f"fault.{n}"
        for n in (
            "hang",
            "drop",
            "truncated_body",
            "malformed_json",
            "html_502",
            "slow_drip",
            "delay",
        )
    }
    everything = select(CATALOGUE)
    assert not any(s.kind == "webhook" for s, _ in everything)
    assert len({(s.id, p.id) for s, p in everything}) == len(everything)
    with pytest.raises(UnknownIdError, match="Valid"):
        select(CATALOGUE, ["alana"], ["nope.*"])


def test_naive_client_graded_over_a_real_mock(mock_url):
    pairs = select(CATALOGUE, ["alana"], ["alana.DATA_001", "alana.SERVER_002", "fault.html_502"])
    seen = []
    report = Runner(
        PythonClient("clients:naive"),
        MockControl(mock_url),
        CATALOGUE,
        workers=4,
        on_result=seen.append,
    ).run(pairs)
    assert len(seen) == 3 and not report.passed
    verdicts = {(r.scenario, c.id): c.verdict for r in report.results for c in r.checks}
    assert verdicts[("alana.DATA_001", "stops_on_non_retryable")] == "pass"
    assert verdicts[("alana.DATA_001", "parses_envelope")] == "fail"
    assert verdicts[("alana.SERVER_002", "retries_retryable")] == "fail"
    assert verdicts[("fault.html_502", "handles_non_json")] == "pass"
    data = report.to_json()
    assert data["summary"] == {
        "scenarios": 3,
        "passed": 0,
        "failed": 3,
        "skipped": 0,
        "warned": 0,
        "flaky": 0,
    }
    timeline = data["results"][0]["timeline"]
    assert timeline[0]["t"] == 0 and timeline[0]["path"] == "/api/v1/products/42"


def test_unreachable_mock_is_a_tool_error():
    with pytest.raises(FaultproofError, match="no faultproof mock answers"):
        Runner(PythonClient("clients:naive"), MockControl("http://127.0.0.1:9"), CATALOGUE).run([])


def test_a_timing_failure_that_does_not_reproduce_is_flaky(mock_url):
    """The first attempt ignores Retry-After, the rerun honours it: flaky, both kept."""
    clients.CALLS["impatient_at_first"] = 0
    pairs = select(CATALOGUE, ["alana"], ["alana.RATE_001"])
    report = Runner(
        PythonClient("clients:impatient_at_first"), MockControl(mock_url), CATALOGUE, workers=1
    ).run(pairs)
    (result,) = report.results
    assert result.verdict == "flaky"
    assert report.meta["reruns"] == 1 and clients.CALLS["impatient_at_first"] == 4
    first = {c.id: c.verdict for c in result.first_attempt.checks}
    assert first["honours_retry_after"] == "fail"
    assert {c.id: c.verdict for c in result.checks}["honours_retry_after"] == "pass"
    assert result.first_attempt.timeline and result.timeline


def test_a_timing_failure_that_reproduces_fails_and_others_are_not_rerun(mock_url):
    pairs = select(CATALOGUE, ["alana"], ["alana.RATE_001", "alana.DATA_001"])
    report = Runner(
        PythonClient("clients:impatient"), MockControl(mock_url), CATALOGUE, workers=4
    ).run(pairs)
    verdicts = {r.scenario: r for r in report.results}
    rate, data = verdicts["alana.RATE_001"], verdicts["alana.DATA_001"]
    assert rate.verdict == "fail" and rate.first_attempt is not None
    assert {c.id: c.verdict for c in rate.checks}["honours_retry_after"] == "fail"
    # DATA_001 fails nothing timed: graded once, no rerun.
    assert data.first_attempt is None and report.meta["reruns"] == 1


def test_a_hung_request_is_graded_once_the_mock_has_finished_it(mock_url):
    """The runner waits for the in-flight hang, so the timeline ends with the hung request."""
    pairs = select(CATALOGUE, ["alana"], ["fault.hang"])
    client = SubprocessClient(f"{sys.executable} -m examples.reference_client")
    report = Runner(client, MockControl(mock_url), CATALOGUE, workers=1).run(pairs)
    (result,) = report.results
    # The reference client spends its whole budget on the one hung request.
    assert [entry.status for entry in result.timeline] == [None]
