"""`faultproof judge`: captured traffic graded with the runner's checks.

Three sources: a journal export round trip (the same runs graded by the runner and by the
judge must agree on every check the traffic decides), a HAR that mitmproxy (a real proxy, from
PyPI) wrote while clients ran through it against the mock, and hand-built HAR files for what a
real provider's capture looks like and for bad input. Runs use AINative's short backoff and a
one-second Retry-After, so the module costs about its slowest client run (a few seconds) plus
mitmproxy's start.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from faultproof.contracts import default_catalogue
from faultproof.contracts.adapters import PythonClient
from faultproof.contracts.capture import CaptureError
from faultproof.contracts.checks import REGISTRY
from faultproof.contracts.control_client import MockControl
from faultproof.contracts.judge import UNDECIDABLE, judge
from faultproof.contracts.runner import Graded, grade, plan_runs
from faultproof.mocks.serving.inprocess import running_mock
from tests.needs import missing

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from examples import broken_clients, reference_client  # noqa: E402

CATALOGUE = default_catalogue()
#: (client, scenario): the reference client where it passes, broken ones where they fail.
ROUND_TRIP = (
    ("examples.reference_client:client", "ainative.rate_limited"),
    ("examples.reference_client:client", "ainative.token_expired"),
    ("examples.reference_client:client", "ainative.internal_server_error"),
    ("examples.broken_clients:ignores_retry_after", "ainative.rate_limited"),
    ("examples.broken_clients:retries_non_retryable", "ainative.bad_request"),
    ("examples.broken_clients:repeats_post_after_5xx", "ainative.internal_server_error_on_create"),
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faultproof.mocks.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def mock_url():
    with running_mock() as url:
        yield url


def _run(control: MockControl, client: str, spec) -> tuple[Graded, dict]:
    """One runner run of ``spec``, and its session's journal export as the mock serves it."""
    step = {"scenario": spec.scenario.id, "params": spec.params}
    after = "ok" if spec.mode == "recovery" else "repeat_last"
    session, base_urls = control.session({"steps": [step] * spec.failures, "after": after})
    operation = spec.provider.operation_for(spec.scenario)
    run = PythonClient(client)(base_urls[spec.provider.id], spec.provider.id, operation, 20)
    export = control.http.get(f"/sessions/{session}/journal").raise_for_status().json()
    control.end(session)
    return Graded(spec, run, sorted(export["entries"], key=lambda e: e["seq"])), export


def test_journal_round_trip_agrees_with_the_runner(mock_url, tmp_path):
    control = MockControl(mock_url)
    ainative = CATALOGUE.provider("ainative")
    jobs = [
        (client, spec)
        for client, scenario_id in ROUND_TRIP
        for spec in plan_runs(CATALOGUE.scenario(scenario_id), ainative)
    ]
    with ThreadPoolExecutor(len(jobs)) as pool:
        done = list(zip(jobs, pool.map(lambda job: _run(control, *job), jobs), strict=True))
    runs: dict[tuple[str, str], list[Graded]] = {}
    for (client, spec), (graded, _) in done:
        runs.setdefault((client, spec.scenario.id), []).append(graded)
    # The runner's verdicts: every check on the run of its mode.
    by_runner = {key: grade(CATALOGUE.scenario(key[1]), ainative, g) for key, g in runs.items()}
    # The judge's conversations come back in the order their first request came.
    done.sort(key=lambda item: item[1][0].entries[0]["received_at"])
    exported = tmp_path / "journal.json"
    exported.write_bytes(json.dumps([export for _, (_, export) in done]).encode())
    report_path = tmp_path / "report.json"
    result = _cli("judge", "--journal", str(exported), "--json", str(report_path))
    assert result.returncode == 1, result.stderr  # the broken clients fail
    assert "Traceback" not in result.stderr
    judged = json.loads(report_path.read_text())["results"]
    assert len(judged) == len(done), result.stderr
    compared = failed = 0
    for ((client, spec), _), verdicts in zip(done, judged, strict=True):
        assert verdicts["scenario"] == spec.scenario.id
        mine = {c["id"]: c for c in verdicts["checks"]}
        for check in by_runner[(client, spec.scenario.id)].checks:
            if REGISTRY[check.id].mode != spec.mode or check.id in UNDECIDABLE:
                continue
            if check.id == "recovers" and mine[check.id]["verdict"] == "skip":
                assert check.verdict == "fail"  # the traffic ended on a failure
                continue
            assert mine[check.id]["verdict"] == check.verdict, (client, spec, check, mine)
            compared += 1
            failed += check.verdict == "fail"
    assert compared >= 15 and failed >= 3, (compared, failed)
    for flaw in ("honours_retry_after", "stops_on_non_retryable", "safe_retries"):
        assert f"{flaw}:" in result.stdout  # results on standard output


def _mitmdump() -> str:
    found = os.environ.get("FAULTPROOF_MITMDUMP") or shutil.which("mitmdump")
    if found and Path(found).exists():
        return found
    message = (
        "mitmdump not found: set FAULTPROOF_MITMDUMP to a mitmdump from its own virtualenv "
        "(python -m venv /tmp/mitm && /tmp/mitm/bin/pip install 'mitmproxy>=10.1'); "
        "tox's tests env does this"
    )
    missing(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "mitmdump exited at start"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("mitmdump did not listen within 30 s")


#: (client, scenario, failures before normal answers or None for every answer, expected).
THROUGH_PROXY = (
    (reference_client.client, "ainative.rate_limited", 2, "pass"),
    (broken_clients.ignores_retry_after, "ainative.rate_limited", 2, "fail"),
    (broken_clients.retries_non_retryable, "ainative.not_found", None, "fail"),
    (reference_client.client, "ainative.not_found", None, "pass"),
    (reference_client.client, "ainative.token_expired", 1, "pass"),
)


@pytest.fixture(scope="module")
def mitm_har(mock_url, tmp_path_factory):
    """A HAR mitmproxy wrote while the THROUGH_PROXY clients ran through it to the mock."""
    har = tmp_path_factory.mktemp("har") / "capture.har"
    port = _free_port()
    proc = subprocess.Popen(
        [
            _mitmdump(),
            "--mode",
            f"reverse:{mock_url}",
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            str(port),
            "--set",
            f"hardump={har}",
            "-q",
        ]
    )
    try:
        _wait_for_port(port, proc)
        control = MockControl(mock_url)

        def drive(case):
            client, scenario_id, failures, _ = case
            scenario = CATALOGUE.scenario(scenario_id)
            step = {"scenario": scenario_id, "params": {"retry_after": 1}}
            if "retry_after" not in scenario.params:
                step["params"] = {}
            plan = {"steps": [step] * (failures or 1), "after": "ok" if failures else "repeat_last"}
            _, base_urls = control.session(plan)
            operation = CATALOGUE.provider("ainative").operation_for(scenario)
            base = base_urls["ainative"].replace(mock_url, f"http://127.0.0.1:{port}")
            return client(base, operation, 20)

        with ThreadPoolExecutor(len(THROUGH_PROXY)) as pool:
            list(pool.map(drive, THROUGH_PROXY))
    finally:
        proc.send_signal(signal.SIGINT)  # mitmdump writes the HAR as it shuts down
        proc.wait(timeout=30)
    assert har.exists(), "mitmdump wrote no HAR"
    return har


def _by_scenario(path: Path, **kwargs) -> dict[str, list[dict]]:
    report = judge(path, "har", **kwargs).report.to_json()
    found: dict[str, list[dict]] = {}
    for result in report["results"]:
        found.setdefault(result["scenario"], []).append(result)
    return found


def test_mitmproxy_har_is_judged(mitm_har, tmp_path):
    data = json.loads(mitm_har.read_text())
    assert data["log"]["creator"]["name"] == "mitmproxy"
    found = _by_scenario(mitm_har)
    rate = sorted(found["ainative.rate_limited"], key=lambda r: r["verdict"])
    assert [r["verdict"] for r in rate] == ["fail", "pass"]
    failing = {c["id"]: c for c in rate[0]["checks"]}
    assert failing["honours_retry_after"]["verdict"] == "fail"
    assert "asked for 1 s" in failing["honours_retry_after"]["detail"]
    assert failing["recovers"]["verdict"] == "pass"
    assert failing["parses_envelope"]["verdict"] == "skip"
    not_found = {r["verdict"]: r for r in found["ainative.not_found"]}
    assert set(not_found) == {"pass", "fail"}
    repeats = {c["id"]: c for c in not_found["fail"]["checks"]}["stops_on_non_retryable"]
    assert repeats["verdict"] == "fail" and "sent 4 requests" in repeats["detail"]
    (refresh,) = found["ainative.token_expired"]
    assert refresh["verdict"] == "pass"
    assert [t["path"] for t in refresh["timeline"]] == [
        "/v1/auth/me",
        "/v1/auth/refresh",
        "/v1/auth/me",
    ]
    result = _cli("judge", "--har", str(mitm_har), "--markdown", str(tmp_path / "r.md"))
    assert result.returncode == 1 and "honours_retry_after" in result.stdout
    assert "5 conversations graded: 3 passed, 2 failed" in result.stdout


def test_mitmproxy_har_without_the_mock_header_is_recognised_by_its_body(mitm_har, tmp_path):
    """A real provider sends no X-Faultproof-Scenario: status and envelope must do."""
    data = json.loads(mitm_har.read_text())
    for entry in data["log"]["entries"]:
        headers = entry["response"]["headers"]
        entry["response"]["headers"] = [
            h for h in headers if h["name"].lower() != "x-faultproof-scenario"
        ]
    plain = tmp_path / "plain.har"
    plain.write_text(json.dumps(data))
    found = _by_scenario(plain)
    assert sorted(r["verdict"] for r in found["ainative.rate_limited"]) == ["fail", "pass"]
    assert sorted(r["verdict"] for r in found["ainative.not_found"]) == ["fail", "pass"]
    # AINative answers an expired and a malformed token alike: the judge says it cannot tell.
    (unknown,) = found["ainative.unrecognised_401"]
    assert unknown["verdict"] == "skip"
    assert "ainative.token_expired" in unknown["checks"][0]["detail"]


def _har(entries: list[dict]) -> dict:
    return {"log": {"version": "1.2", "creator": {"name": "test"}, "entries": entries}}


def _exchange(t: float, url: str, status: int, body: bytes = b"", headers=(), **request) -> dict:
    content = {"mimeType": "application/json"}
    if body:
        content |= {"text": base64.b64encode(body).decode(), "encoding": "base64"}
    return {
        "startedDateTime": f"2025-01-01T00:00:{t:06.3f}Z",
        "time": 10,
        "request": {
            "method": request.get("method", "GET"),
            "url": url,
            "headers": [{"name": "Authorization", "value": "Bearer s3cret"}],
        },
        "response": {
            "status": status,
            "headers": [{"name": k, "value": v} for k, v in headers],
            "content": content,
        },
    }


def test_a_real_providers_har_with_provider_flag(tmp_path):
    """No /<provider>/ prefix: --provider names it; bodies in base64; credentials redacted."""
    url = "https://api.alana.example/api/v1/products/42"
    body = json.dumps({"error": {"code": "SERVER_002", "message": "Service unavailable"}})
    unknown = json.dumps({"error": {"code": "SERVER_999", "message": "Overloaded"}})
    entries = [
        _exchange(0.0, url, 503, body.encode()),
        _exchange(0.02, url, 503, body.encode()),  # no backoff at all
        _exchange(1.0, url, 200, b'{"id": "42"}'),
        _exchange(10.0, url, 503, unknown.encode(), [("Retry-After", "2")]),
        _exchange(13.0, url, 200, b'{"id": "42"}'),
        _exchange(20.0, url, 0),  # a request that got no answer, never repeated
    ]
    har = tmp_path / "real.har"
    har.write_text(json.dumps(_har(entries)))
    with pytest.raises(CaptureError, match="pass --provider P"):
        judge(har, "har")
    judged = judge(har, "har", provider="alana")
    results = judged.report.results
    assert [r.scenario for r in results] == [
        "alana.SERVER_002",
        "alana.unrecognised_503",
        "alana.unrecognised_no_answer",
    ]
    checks = {c.id: c for c in results[0].checks}
    # Alana's backoff parameters are assumed (the seed says "exponential backoff" only): warn.
    assert checks["backs_off"].verdict == "warn"
    assert "backoff.initial_s 1 s is assumed" in checks["backs_off"].detail
    assert checks["recovers"].verdict == "pass"
    policy = {c.id: c for c in results[1].checks}
    assert policy["honours_retry_after"].verdict == "pass"
    assert "graded by the client policy" in policy["honours_retry_after"].detail
    dropped = {c.id: c.verdict for c in results[2].checks}
    assert dropped["retries_retryable"] == "fail"
    assert "recognised by its status 503 and 'SERVER_002'" in judged.notes[0]
    assert "s3cret" not in json.dumps(judged.report.to_json())


@pytest.mark.parametrize(
    ("content", "flag", "needle"),
    [
        (b"this is not json", "--har", "is not JSON"),
        (b'{"log": {"version": "1.2"}}', "--har", "is not a HAR file"),
        (json.dumps(_har([])).encode(), "--har", "has no requests"),
        (b'{"entries": []}', "--har", "pass it as --journal"),
        (json.dumps(_har([])).encode(), "--journal", "pass it as --har"),
        (b'{"entries": [{"method": "GET"}]}', "--journal", "is a required property"),
        (b'{"something": "else"}', "--journal", "is not a journal export"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path, content, flag, needle):
    path = tmp_path / "capture.json"
    path.write_bytes(content)
    result = _cli("judge", flag, str(path))
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_usage_errors_exit_2(tmp_path):
    har = tmp_path / "x.har"
    har.write_text(json.dumps(_har([_exchange(0, "http://h/alana/api/v1/products/42", 200)])))
    unknown = _cli("judge", "--har", str(har), "--provider", "alanna")
    assert unknown.returncode == 2 and "Did you mean 'alana'" in unknown.stderr
    neither = _cli("judge")
    assert neither.returncode == 2 and "exactly one of --journal" in neither.stderr
    nothing = _cli("judge", "--har", str(har))
    assert nothing.returncode == 0 and "0 conversations graded" in nothing.stdout


def test_the_judge_needs_no_flask():
    """DESIGN.md: a team that only checks captured traffic never imports Flask."""
    code = "import sys, faultproof.contracts.judge; print('flask' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_journal_as_a_plain_list_or_json_lines(tmp_path):
    """The entries alone (a list, or one JSON object per line) are a journal export too."""
    entries = [
        {"seq": n, "received_at": t, "responded_at": t + 0.01, "method": "GET", "path": "/v1/x"}
        | {"status": status, "scenario": None, "retry_after_s": None, "headers": {}}
        for n, (t, status) in enumerate([(0.0, 404), (0.5, 404), (9.0, 200)], start=1)
    ]
    listed, lines = tmp_path / "list.json", tmp_path / "lines.jsonl"
    listed.write_text(json.dumps(entries))
    lines.write_text("\n".join(json.dumps(e) for e in entries))
    for path in (listed, lines):
        with pytest.raises(CaptureError, match="names no provider"):
            judge(path, "journal")
        (result,) = judge(path, "journal", provider="ainative").report.results
        assert result.scenario == "ainative.unrecognised_404"
        assert [c.verdict for c in result.checks] == ["fail"]  # stops_on_non_retryable


def test_a_post_repeated_after_a_503_is_graded_by_safe_retries(tmp_path):
    """The 503 body is alana.SERVER_002, a scenario of a GET; the POST repeated after it may
    have created the product twice, so safe_retries applies whatever recognition picked."""
    url = "https://api.alana.example/api/v1/products"
    body = json.dumps({"error": {"code": "SERVER_002", "message": "Service unavailable"}})
    har = tmp_path / "post.har"
    har.write_text(
        json.dumps(
            _har(
                [
                    _exchange(0.0, url, 503, body.encode(), method="POST"),
                    _exchange(2.0, url, 201, b'{"id": "sku-1"}', method="POST"),
                ]
            )
        )
    )
    (result,) = judge(har, "har", provider="alana").report.results
    checks = {c.id: c for c in result.checks}
    assert result.scenario == "alana.SERVER_002"
    assert checks["safe_retries"].verdict == "fail"
    assert "repeated POST /api/v1/products after a 503" in checks["safe_retries"].detail
    assert result.verdict == "fail"
