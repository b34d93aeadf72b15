"""CORS on the provider surfaces as Prism answers it, never on the control plane (issue 15.7)."""

from __future__ import annotations

import functools
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from faultproof.mocks.config import MockConfig
from tests.mock.conftest import SERVERS
from tests.test_html_chromium import _browse, _chromium

PRODUCT = "/alana/api/v1/products/42"
KEY = {"X-API-Key": "alana_test_key"}
PAGE = "http://localhost:5173"
PREFLIGHT = {
    "Origin": PAGE,
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "x-api-key, prefer",
}


def test_a_preflight_is_answered_204_and_not_journaled(make_app):
    client = make_app("alana").test_client()
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    response = client.options(f"/s/{sid}{PRODUCT}?__code=429", headers=PREFLIGHT)
    assert response.status_code == 204 and response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == PAGE
    assert response.headers["Access-Control-Allow-Headers"] == "x-api-key, prefer"
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["X-Faultproof-Cors"] == "preflight"
    client.get(f"/s/{sid}{PRODUCT}", headers=KEY)
    journal = client.get(f"/__faultproof/sessions/{sid}/journal").get_json()
    assert [e["method"] for e in journal["entries"]] == ["GET"] and journal["dropped"] == 0


def test_answers_to_a_page_are_readable_with_their_headers_exposed(make_app):
    client = make_app("alana").test_client()
    for headers in ({**KEY, "Prefer": "code=429"}, KEY):  # a canned answer, then a view's
        response = client.get(PRODUCT, headers={**headers, "Origin": PAGE})
        assert response.headers["Access-Control-Allow-Origin"] == PAGE
        assert response.headers["Vary"] == "Origin"
        exposed = response.headers["Access-Control-Expose-Headers"].split(", ")
        assert "X-RateLimit-Remaining" in exposed and "Content-Type" not in exposed
    assert "Retry-After" in exposed or response.status_code == 200
    in_session = client.post("/__faultproof/sessions").get_json()["id"]
    answer = client.get(f"/s/{in_session}{PRODUCT}", headers={**KEY, "Origin": PAGE})
    assert answer.headers["Access-Control-Allow-Origin"] == PAGE


def test_no_origin_no_cors_headers(make_app):
    response = make_app("alana").test_client().get(PRODUCT, headers={**KEY, "Prefer": "code=429"})
    assert not [name for name, _ in response.headers.items() if name.startswith("Access-Control")]


@pytest.mark.parametrize("path", ["/__faultproof/health", "/__faultproof/journal", "/nope/x"])
def test_the_control_plane_and_unknown_paths_never_send_cors(make_app, path):
    client = make_app("alana").test_client()
    for response in (
        client.get(path, headers={"Origin": PAGE}),
        client.options(path, headers=PREFLIGHT),
    ):
        assert "Access-Control-Allow-Origin" not in response.headers, response.status_code
        assert response.status_code != 204


def test_no_cors_turns_it_off(make_app):
    client = make_app("alana", cors=False).test_client()
    response = client.options(PRODUCT, headers=PREFLIGHT)
    assert response.status_code != 204 and "Access-Control-Allow-Origin" not in response.headers
    answer = client.get(PRODUCT, headers={**KEY, "Origin": PAGE, "Prefer": "code=429"})
    assert answer.status_code == 429 and "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_a_faults_head_is_readable_by_a_page_on_every_server(server):
    config = MockConfig(providers=("alana",), hang_max_s=5.0)
    with (
        SERVERS[server](config) as live,
        socket.create_connection(("127.0.0.1", live.port)) as conn,
    ):
        conn.settimeout(10)
        conn.sendall(
            f"GET {PRODUCT} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: alana_test_key\r\n"
            f"Origin: {PAGE}\r\nPrefer: scenario=fault.truncated_body\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            assert chunk, head
            head += chunk
    assert f"access-control-allow-origin: {PAGE}".encode() in head.lower()


#: Fetches from a page of another origin: one call the browser must preflight (a custom
#: header), one to the control plane, which the browser must refuse to let the page read.
FETCHES = """<!doctype html><body><script>
const mock = new URL(location).searchParams.get('mock');
async function call(path, headers) {
  try {
    const r = await fetch(mock + path, {headers});
    return {status: r.status, retry: r.headers.get('Retry-After'),
            scenario: r.headers.get('X-Faultproof-Scenario'), body: await r.json()};
  } catch (e) { return {blocked: String(e)}; }
}
(async () => {
  const provider = await call('PRODUCT', {'X-API-Key': 'alana_test_key', 'Prefer': 'code=429'});
  const control = await call('/__faultproof/health', {});
  document.body.dataset.result = JSON.stringify({provider, control});
})();
</script></body>""".replace("PRODUCT", PRODUCT)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _page_server(folder: Path) -> Iterator[int]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _in_chromium(tmp_path: Path, cors: bool) -> dict:
    binary = _chromium()
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(FETCHES)
    config = MockConfig(providers=("alana",), cors=cors)
    with SERVERS["uvicorn"](config) as live, _page_server(tmp_path / "site") as page_port:
        done = _browse(
            binary,
            tmp_path / "profile",
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"http://127.0.0.1:{page_port}/index.html?mock=http://127.0.0.1:{live.port}",
        )
    marker = 'data-result="'
    assert marker in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    raw = done.stdout.split(marker, 1)[1].split('"', 1)[0]
    return json.loads(raw.replace("&quot;", '"').replace("&amp;", "&"))


def test_a_page_in_headless_chromium_reads_the_mock_but_not_its_control_plane(tmp_path):
    result = _in_chromium(tmp_path, cors=True)
    provider = result["provider"]
    assert provider["status"] == 429, result
    assert provider["retry"] is not None and provider["scenario"] == "alana.RATE_001"
    assert provider["body"]["error"]["code"] == "RATE_001" or provider["body"], result
    assert "blocked" in result["control"], result


def test_with_no_cors_chromium_blocks_the_page(tmp_path):
    result = _in_chromium(tmp_path, cors=False)
    assert "blocked" in result["provider"] and "blocked" in result["control"], result
