"""Transport faults observed from real sockets: what bytes arrive, and what httpx raises."""

from __future__ import annotations

import socket
import threading

import httpx
import orjson
import pytest

PATH = "/alana/api/v1/products/42"
KEY = {"X-API-Key": "alana_test_key"}


def raw(server, prefer: str, timeout: float = 5.0) -> tuple[list[bytes], BaseException | None]:
    """Send one request on a raw socket; every chunk received until EOF, and how it ended."""
    request = (
        f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: alana_test_key\r\n"
        f"Prefer: {prefer}\r\nConnection: close\r\n\r\n"
    ).encode()
    chunks: list[bytes] = []
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(request)
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError as exc:
            return chunks, exc
    return chunks, None


def split(chunks: list[bytes]) -> tuple[dict[str, str], bytes]:
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")[1:]
    return {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}, body


def test_normal_answer_over_the_socket(live_server):
    response = httpx.get(live_server.url + PATH, headers=KEY)
    assert response.status_code == 200
    assert response.json()["id"] == "42"


def test_drop_fin_closes_without_a_byte(live_server):
    chunks, error = raw(live_server, "scenario=fault.drop")
    assert chunks == [] and error is None
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(live_server.url + PATH, headers={**KEY, "Prefer": "scenario=fault.drop"})


def test_drop_rst_resets_the_connection(live_server):
    chunks, error = raw(live_server, "scenario=fault.drop, mode=rst")
    assert chunks == []
    assert isinstance(error, ConnectionResetError)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(
            live_server.url + PATH, headers={**KEY, "Prefer": "scenario=fault.drop, mode=rst"}
        )


def test_truncated_body_is_shorter_than_its_content_length(live_server):
    chunks, _ = raw(live_server, "scenario=fault.truncated_body")
    headers, body = split(chunks)
    assert 0 < len(body) < int(headers["content-length"])
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(
            live_server.url + PATH, headers={**KEY, "Prefer": "scenario=fault.truncated_body"}
        )


def test_malformed_json_is_labelled_json_and_does_not_parse(live_server):
    response = httpx.get(
        live_server.url + PATH, headers={**KEY, "Prefer": "scenario=fault.malformed_json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


def test_html_502_is_a_proxy_page(live_server):
    response = httpx.get(
        live_server.url + PATH, headers={**KEY, "Prefer": "scenario=fault.html_502"}
    )
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert b"<html>" in response.content


def test_slow_drip_sends_the_real_body_in_pieces(live_server):
    chunks, error = raw(live_server, "scenario=fault.slow_drip, interval_s=0.02, chunk_bytes=16")
    headers, body = split(chunks)
    assert error is None
    assert len(body) == int(headers["content-length"])
    assert orjson.loads(body)["id"] == "42"
    assert len(chunks) > 3


def test_delay_then_the_normal_answer(live_server):
    response = httpx.get(
        live_server.url + PATH, headers={**KEY, "Prefer": "scenario=fault.delay, delay_s=0.2"}
    )
    assert response.status_code == 200
    assert response.json()["id"] == "42"


def test_hang_sends_nothing_and_blocks_nobody(live_server):
    result: dict[str, object] = {}

    def hang() -> None:
        result["chunks"], result["error"] = raw(
            live_server, "scenario=fault.hang, max_s=3", timeout=0.5
        )

    thread = threading.Thread(target=hang)
    thread.start()
    health = httpx.get(live_server.url + "/__faultproof/health", timeout=2)
    assert health.status_code == 200
    thread.join(timeout=10)
    assert result["chunks"] == []
    assert isinstance(result["error"], (TimeoutError, socket.timeout))
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(
            live_server.url + PATH, headers={**KEY, "Prefer": "scenario=fault.hang"}, timeout=0.3
        )


def test_hang_is_released_when_its_bound_passes(live_server):
    chunks, error = raw(live_server, "scenario=fault.hang, max_s=0.3")
    assert chunks == [] and error is None


def test_a_server_without_sockets_refuses_instead_of_faking():
    """`app.test_client()` (or a WSGI server that hides its socket) cannot make a fault that acts
    on the connection: a marked 501 naming where it can be made, never a fake 200."""
    from faultproof.contracts import default_catalogue
    from faultproof.mocks import faults
    from faultproof.mocks.app import create_app
    from faultproof.mocks.config import MockConfig

    connection_faults = {str(s.fault) for s in default_catalogue().faults.values()}
    assert sorted(connection_faults & faults.NEEDS_SOCKET) == ["drop", "hang", "truncated_body"]
    client = create_app(MockConfig(providers=("alana",))).test_client()
    for name in sorted(connection_faults & faults.NEEDS_SOCKET):
        refused = client.get(PATH, headers={**KEY, "Prefer": f"scenario=fault.{name}"})
        assert refused.status_code == 501, name
        assert "faultproof serve" in refused.json["faultproof_error"], name
    assert faults.refusal("slow_drip", {}) is None
    assert faults.refusal("drop", {}) is not None


def test_alana_mid_stream_error_arrives_after_the_first_lines(live_server):
    """Alana's NDJSON stream that ends in an error line, read as a streaming client reads it."""
    lines = []
    headers = {**KEY, "Accept": "application/x-ndjson", "Prefer": "scenario=STREAM_ERROR"}
    with httpx.stream(
        "GET", f"{live_server.url}/alana/api/v1/products", headers=headers, timeout=10
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert response.headers["x-faultproof-scenario"] == "alana.STREAM_ERROR"
        lines = [orjson.loads(line) for line in response.iter_lines() if line.strip()]
    assert len(lines) >= 2 and all("id" in line for line in lines[:-1])
    assert lines[-1] == {"error": "Upstream catalog service unavailable", "code": "STREAM_ERROR"}
