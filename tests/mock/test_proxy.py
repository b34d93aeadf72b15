"""`faultproof proxy`: a real API behind the mock, forwarded untouched, failed on demand, graded.

The real API is a tiny upstream on a free loopback port (werkzeug's threaded server in a thread)
that echoes what it got, answers gzip bytes, a fixed body, its own 400 envelope, a chunked
stream that waits for the test between its pieces, and a request it never answers in time.
Most tests use the proxy app's test client; faults that act on the connection use a real
socket (werkzeug, and uvicorn as `faultproof serve` runs it); one test runs the command itself.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import orjson
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig
from tests.mock.conftest import SERVERS, free_port

KEY = {"X-API-Key": "alana_test_key"}
FIXED = b'{"items": [1, 2, 3, 4, 5, 6, 7, 8], "note": "a body long enough to cut"}'
ZIPPED = gzip.compress(b"compressed " * 40)
BAD_REQUEST = {"error": {"code": "SEARCH_001", "message": "Invalid query parameters"}}
#: A bound on waiting for the test (a deadlock guard, never a measurement).
GUARD_S = 30


@dataclass
class Upstream:
    """The real API: what it received, and the gate its stream and slow answer wait on."""

    url: str = ""
    seen: list[dict[str, object]] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    waited_out: list[bool] = field(default_factory=list)

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path.removeprefix("/v1")
        if path != "/stream":  # the stream proxied to a subprocess: its own test counts it
            self.seen.append(_echo(request))
        if path == "/gzip":
            answer = Response(ZIPPED, content_type="text/plain")
            answer.headers["Content-Encoding"] = "gzip"
        elif path == "/fixed":
            answer = Response(FIXED, content_type="application/json")
        elif path == "/search":
            answer = Response(orjson.dumps(BAD_REQUEST), 400, content_type="application/json")
        elif path == "/stream":
            answer = Response(self._pieces(), content_type="text/event-stream")
        elif path == "/slow":
            self.gate.wait(GUARD_S)
            answer = Response(b"late", content_type="text/plain")
        else:
            answer = Response(orjson.dumps(_echo(request)), content_type="application/json")
        return answer(environ, start_response)

    def _pieces(self) -> Iterator[bytes]:
        """A stream whose second piece waits for the test: buffered whole, it never comes."""
        yield b"data: 0\n\n"
        self.waited_out.append(not self.gate.wait(GUARD_S))
        yield b"data: 1\n\n"
        yield b"data: 2\n\n"


def _echo(request: Request) -> dict[str, object]:
    return {
        "method": request.method,
        "path": request.environ["RAW_URI"].split("?", 1)[0],
        "query": request.environ.get("QUERY_STRING", ""),
        "headers": [[name.lower(), value] for name, value in request.headers.items()],
        "body": base64.b64encode(request.get_data()).decode(),
    }


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    real = Upstream()
    server = make_server("127.0.0.1", 0, real, threaded=True)
    real.url = f"http://127.0.0.1:{server.port}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield real
    finally:
        real.gate.set()
        server.shutdown()
        thread.join(timeout=10)


def _proxy(upstream_url: str, **kwargs):
    app = create_app(MockConfig(upstream=upstream_url, providers=("alana",), **kwargs))
    app.testing = True
    return app.test_client()


def _journal(client, session: str = "default") -> list[dict]:
    entries = client.get(f"/__faultproof/sessions/{session}/journal").get_json()["entries"]
    return sorted(entries, key=lambda e: e["seq"])


def test_forwards_method_path_query_headers_and_body_untouched(upstream):
    client = _proxy(upstream.url)
    body = bytes(range(256))  # not text: forwarded as bytes
    answer = client.patch(
        "/alana/api/v1/products/a%20b?b=%2F&a=1+2&a=3&empty=",
        data=body,
        headers={**KEY, "Content-Type": "application/octet-stream", "X-Custom": "kept"},
    )
    assert answer.status_code == 200
    echoed = answer.get_json()
    assert echoed["method"] == "PATCH"
    assert echoed["path"] == "/v1/api/v1/products/a%20b"
    assert echoed["query"] == "b=%2F&a=1+2&a=3&empty="
    assert base64.b64decode(echoed["body"]) == body
    headers = dict(echoed["headers"])
    assert headers["host"] == upstream.url.split("/")[2]  # the upstream's, not the proxy's
    assert headers["x-api-key"] == "alana_test_key"
    assert headers["x-custom"] == "kept"
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-length"] == "256"
    # The raw bytes of the answer, as the upstream sent them.
    assert answer.data == orjson.dumps(echoed)
    assert answer.headers["Content-Type"] == "application/json"


def test_the_mock_own_and_hop_by_hop_headers_stay_behind(upstream):
    client = _proxy(upstream.url)
    session = client.post("/__faultproof/sessions").get_json()["id"]
    answer = client.get(
        f"/s/{session}/alana/",
        headers={**KEY, "Connection": "keep-alive, X-Hop", "X-Hop": "1", "Keep-Alive": "5"},
    )
    assert answer.status_code == 200
    names = {name for name, _ in answer.get_json()["headers"]}
    assert not {"x-hop", "keep-alive", "connection"} & names
    by_header = client.get("/alana/other", headers={"X-Faultproof-Session": session})
    names = {name for name, _ in by_header.get_json()["headers"]}
    assert not any(name.startswith("x-faultproof-") for name in names)
    assert [e["path"] for e in _journal(client, session)] == ["/", "/other"]
    assert _journal(client) == []  # both went to the session, none to the default one


def test_encoded_answers_pass_as_sent(upstream):
    answer = _proxy(upstream.url).get("/alana/gzip", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    assert answer.data == ZIPPED  # not decoded on the way
    assert answer.headers["Content-Length"] == str(len(ZIPPED))


def test_a_stream_flows_through_as_it_comes(upstream):
    answer = _proxy(upstream.url).get("/alana/stream", buffered=False)
    pieces = iter(answer.response)
    first = next(pieces)
    upstream.gate.set()  # only now does the upstream send the rest
    rest = b"".join(pieces)
    assert first == b"data: 0\n\n"
    assert rest == b"data: 1\n\ndata: 2\n\n"
    assert upstream.waited_out == [False]
    assert "Content-Length" not in answer.headers
    answer.close()


def test_a_plan_step_answers_instead_of_the_upstream(upstream):
    client = _proxy(upstream.url)
    plan = {"match": {"path": "/api/v1/*"}, "steps": [{"scenario": "alana.RATE_001"}]}
    assert client.put("/__faultproof/sessions/default/plan", json=plan).status_code == 200
    limited = client.get("/alana/api/v1/products/1", headers=KEY)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "RATE_001"
    assert limited.headers["X-Faultproof-Scenario"] == "alana.RATE_001"
    assert upstream.seen == []  # answered by the mock: the upstream never saw it
    assert client.get("/alana/api/v1/products/1", headers=KEY).status_code == 200
    assert len(upstream.seen) == 1
    assert [(e["status"], e["scenario"]) for e in _journal(client)] == [
        (429, "alana.RATE_001"),
        (200, None),
    ]


def test_triggers_answer_instead_of_the_upstream(upstream):
    client = _proxy(upstream.url)
    by_code = client.get("/alana/api/v1/products/1", headers={"Prefer": "code=429"})
    assert by_code.status_code == 429
    named = client.get("/alana/x", headers={"X-Faultproof-Scenario": "alana.AUTH_002"})
    assert named.status_code == 401
    assert named.get_json()["error"]["code"] == "AUTH_002"
    bad = client.get("/alana/x", headers={"Prefer": "scenario=NOPE"})
    assert bad.status_code == 400 and bad.headers["X-Faultproof-Error"] == "bad-trigger"
    assert upstream.seen == []
    assert [e["scenario"] for e in _journal(client)] == ["alana.RATE_001", "alana.AUTH_002", None]


def test_the_journal_redacts_credentials_the_upstream_still_gets(upstream):
    client = _proxy(upstream.url)
    secret = "sk-live-0123456789abcdef"
    answer = client.post(
        "/alana/api/v1/products", json={"name": "x"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert dict(answer.get_json()["headers"])["authorization"] == f"Bearer {secret}"
    (entry,) = _journal(client)
    assert re.fullmatch(r"Bearer \[redacted:[0-9a-f]{8}\]", entry["headers"]["Authorization"])
    assert secret not in json.dumps(entry)
    assert entry["body"] == '{"name": "x"}' and entry["status"] == 200


def test_upstream_down_is_the_mock_own_502(upstream):
    client = _proxy(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    for headers in ({}, {"Prefer": "scenario=fault.truncated_body"}):
        answer = client.get("/alana/api/v1/products/1", headers=headers)
        assert answer.status_code == 502
        assert answer.headers["X-Faultproof-Error"] == "upstream"
        assert "ConnectError" in answer.get_json()["faultproof_error"]
        assert "X-Faultproof-Scenario" not in answer.headers  # never a provider's answer
    assert [(e["status"], e["scenario"]) for e in _journal(client)] == [(502, None)] * 2


def test_an_upstream_too_slow_is_the_mock_own_502(upstream):
    client = _proxy(upstream.url, upstream_timeout_s=0.2)  # /slow waits for the test
    answer = client.get("/alana/slow")
    assert answer.status_code == 502
    assert answer.headers["X-Faultproof-Error"] == "upstream"
    assert "ReadTimeout" in answer.get_json()["faultproof_error"]


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_a_fault_acts_on_the_upstream_answer(upstream, server):
    config = MockConfig(upstream=upstream.url, providers=("alana",))
    with SERVERS[server](config) as proxy, httpx.Client(base_url=proxy.url) as client:
        plan = {"steps": [{"scenario": "fault.truncated_body"}]}
        client.put("/__faultproof/sessions/default/plan", json=plan).raise_for_status()
        with client.stream("GET", "/alana/fixed") as answer:
            assert answer.headers["Content-Length"] == str(len(FIXED))
            got = b""
            with pytest.raises(httpx.RemoteProtocolError):
                for piece in answer.iter_raw():
                    got += piece
        assert got and FIXED.startswith(got) and got != FIXED
        assert client.get("/alana/fixed").content == FIXED  # the plan's one step is taken
        entries = client.get("/__faultproof/sessions/default/journal").json()["entries"]
    assert [e["scenario"] for e in sorted(entries, key=lambda e: e["seq"])] == [
        "fault.truncated_body",
        None,
    ]


def _injected(upstream_url: str, rate: float, seed: int, requests: int = 40) -> list[str | None]:
    """What each of ``requests`` requests in a row got, by the proxy's journal."""
    config = MockConfig(
        upstream=upstream_url,
        providers=("alana",),
        inject_rate=rate,
        inject_seed=seed,
        hang_max_s=0.001,  # a drawn hang, delay or slow drip ends at once
    )
    with SERVERS["werkzeug"](config) as proxy, httpx.Client(base_url=proxy.url) as client:
        for index in range(requests):
            with contextlib.suppress(httpx.TransportError):  # a drawn drop, hang or cut body
                client.get(f"/alana/fixed?n={index}", headers=KEY)
        entries = client.get("/__faultproof/sessions/default/journal").json()["entries"]
    assert len(entries) == requests
    return [e["scenario"] for e in sorted(entries, key=lambda e: e["seq"])]


def test_rate_injection_is_reproducible_by_seed(upstream):
    first = _injected(upstream.url, 0.5, seed=7)
    assert first == _injected(upstream.url, 0.5, seed=7)
    assert first != _injected(upstream.url, 0.5, seed=8)
    drawn = {s for s in first if s}
    assert any(s.startswith("alana.") for s in drawn) and any(s.startswith("fault.") for s in drawn)
    assert None in first  # and some went through
    assert all(s is None for s in _injected(upstream.url, 0.0, seed=7))
    assert all(s is not None for s in _injected(upstream.url, 1.0, seed=7))


def test_plan_steps_and_triggers_come_before_the_rate(upstream):
    client = _proxy(upstream.url, inject_rate=1.0)
    plan = {"steps": [{"scenario": "alana.AUTH_002"}]}
    client.put("/__faultproof/sessions/default/plan", json=plan)
    assert client.get("/alana/x").status_code == 401
    assert client.get("/alana/x", headers={"Prefer": "code=429"}).status_code == 429
    assert [e["scenario"] for e in _journal(client)] == ["alana.AUTH_002", "alana.RATE_001"]


def test_the_verdicts_endpoint_grades_traffic_through_the_proxy(upstream):
    client = _proxy(upstream.url)
    plan = {"steps": [{"scenario": "alana.AUTH_002"}], "after": "repeat_last"}
    verdicts = {}
    for attempts in (1, 3):  # a client that stops, and one that retries a non-retryable 401
        session = client.post("/__faultproof/sessions").get_json()["id"]
        client.put(f"/__faultproof/sessions/{session}/plan", json=plan)
        for _ in range(attempts):
            assert client.get(f"/s/{session}/alana/api/v1/products/1").status_code == 401
        report = client.post(f"/__faultproof/sessions/{session}/verdicts").get_json()
        (result,) = report["results"]
        assert result["scenario"] == "alana.AUTH_002"
        checks = {c["id"]: c["verdict"] for c in result["checks"]}
        verdicts[attempts] = checks["stops_on_non_retryable"]
    assert verdicts == {1: "pass", 3: "fail"}


def _banner_url(proc: subprocess.Popen[str]) -> str:
    """The proxy's URL from its banner, printed once its socket is bound."""
    assert proc.stderr is not None
    banner = proc.stderr.readline()
    found = re.search(r"on (http://127\.0\.0\.1:\d+) to ", banner)
    assert found, banner
    url = found.group(1)
    deadline = time.monotonic() + GUARD_S  # a start-up allowance, not a measurement
    while True:
        try:
            httpx.get(f"{url}/__faultproof/health", timeout=2).raise_for_status()
            return url
        except httpx.TransportError:
            assert time.monotonic() < deadline and proc.poll() is None, banner
            time.sleep(0.05)


def test_the_proxy_command_forwards_streams_and_is_graded_by_judge(upstream, tmp_path):
    """`python -m faultproof proxy` (the upstream from FAULTPROOF_UPSTREAM) serves the real API
    on uvicorn, streams, injects, and `faultproof judge` grades the journal it exported."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "faultproof", "proxy", "--port", "0", "--provider", "alana"],
        env={**os.environ, "FAULTPROOF_UPSTREAM": upstream.url},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = _banner_url(proc)
        with httpx.Client(base_url=url, timeout=GUARD_S) as client:
            echoed = client.get("/alana/api/v1/products/1?q=a+b", headers=KEY).json()
            assert echoed["path"] == "/v1/api/v1/products/1" and echoed["query"] == "q=a+b"
            zipped = client.get("/alana/gzip")
            assert zipped.headers["content-encoding"] == "gzip"
            assert zipped.content == gzip.decompress(ZIPPED)  # httpx decoded the bytes sent
            with client.stream("GET", "/alana/stream") as stream:
                pieces = stream.iter_raw()
                first = b""
                while not first.endswith(b"\n\n"):
                    first += next(pieces)
                upstream.gate.set()
                rest = b"".join(pieces)
            assert (first, rest) == (b"data: 0\n\n", b"data: 1\n\ndata: 2\n\n")
            assert upstream.waited_out == [False]
            assert client.get("/alana/x", headers={"Prefer": "code=429"}).status_code == 429
            exports = []
            for attempts in (1, 3):  # the upstream's own 400: the second client retries it
                session = client.post("/__faultproof/sessions").json()["id"]
                for _ in range(attempts):
                    assert client.get(f"/s/{session}/alana/search").status_code == 400
                exports.append(client.get(f"/__faultproof/sessions/{session}/journal").json())
    finally:
        proc.terminate()
        output = proc.communicate(timeout=GUARD_S)[1]
    assert proc.returncode == 0, output
    assert "Traceback" not in output, output
    journal, report = tmp_path / "journal.json", tmp_path / "report.json"
    journal.write_text(json.dumps(exports))
    judge = ["judge", "--journal", str(journal), "--provider", "alana", "--json", str(report)]
    judged = subprocess.run(
        [sys.executable, "-m", "faultproof", *judge],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert judged.returncode == 1, judged.stdout + judged.stderr  # the retrying client failed
    results = json.loads(report.read_text())["results"]
    verdicts = [{c["id"]: c["verdict"] for c in r["checks"]} for r in results]
    assert [v["stops_on_non_retryable"] for v in verdicts] == ["pass", "fail"]


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["--upstream", "ftp://example.com"], {}, "must be an http:// or https:// URL"),
        (["--upstream", "http://"], {}, "with a host"),
        (["--upstream", "not a url"], {}, "must be an http:// or https:// URL"),
        (["--rate", "1.5"], {}, "--rate"),
        (["--rate", "nan"], {}, "--rate"),
        (["--rate", "-0.1"], {}, "--rate"),
        ([], {"FAULTPROOF_RATE": "inf"}, "--rate"),
        (["--provider", "alanna"], {}, "alana"),
        (["--upstream", ""], {}, "must be an http:// or https:// URL"),
    ],
)
def test_bad_input_exits_2_with_a_message(args, env, said):
    base = {"--upstream": "http://127.0.0.1:9", "--provider": "alana"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = [part for name, value in {**base, **given}.items() for part in (name, value)]
    result = subprocess.run(
        [sys.executable, "-m", "faultproof", "proxy", "--port", "0", *argv],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert said in result.stderr and "Traceback" not in result.stderr
    assert "proxying" not in result.stderr  # no banner for a proxy that never ran


def test_a_missing_upstream_exits_2():
    result = subprocess.run(
        [sys.executable, "-m", "faultproof", "proxy", "--provider", "alana"],
        env={k: v for k, v in os.environ.items() if k != "FAULTPROOF_UPSTREAM"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "--upstream" in result.stderr
