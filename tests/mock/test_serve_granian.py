"""`faultproof serve --server granian`: the same answers and journal, connection faults refused.

granian cannot hand the app its connection, so a fault that acts on it must be refused loudly
(a marked 501), never faked; everything else is the same mock.
"""

from __future__ import annotations

import signal

import httpx
import pytest

from faultproof.contracts import default_catalogue
from faultproof.mocks import faults
from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig

#: The catalogue's faults that act on the connection.
CONNECTION_FAULTS = sorted(
    {str(s.fault) for s in default_catalogue().faults.values()} & faults.NEEDS_SOCKET
)

RATE = {"Prefer": "code=429"}
PRODUCT = "/alana/api/v1/products/42"


def answer(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url + PRODUCT, headers={"X-API-Key": "alana_test_key", **headers})


def comparable(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (names lower-cased by httpx; Date and Server are the servers' own), body."""
    headers = {
        k: v for k, v in response.headers.items() if k not in ("date", "server", "connection")
    }
    headers.pop("x-ratelimit-reset", None)  # a clock value: compared as an integer below
    return response.status_code, headers, response.content


def test_granian_serves_what_gunicorn_serves_and_journals_it(start):
    gunicorn, gunicorn_url = start("--providers", "alana")
    granian, granian_url = start("--providers", "alana", "--server", "granian")
    try:
        for headers in (RATE, {"Prefer": "scenario=AUTH_002"}, {}, {"Prefer": "code=500"}):
            left, right = answer(gunicorn_url, **headers), answer(granian_url, **headers)
            assert comparable(left) == comparable(right), headers
        assert int(right.headers["x-ratelimit-reset"]) > 0
        entries = httpx.get(granian_url + "/__faultproof/sessions/default/journal").json()[
            "entries"
        ]
        assert [(e["status"], e["scenario"]) for e in entries] == [
            (429, "alana.RATE_001"),
            (401, "alana.AUTH_002"),
            (200, None),
            (500, "alana.SERVER_001"),
        ]
    finally:
        for proc in (gunicorn, granian):
            proc.send_signal(signal.SIGTERM)
        outputs = [proc.communicate(timeout=15)[0].decode() for proc in (gunicorn, granian)]
    assert granian.returncode == 0, outputs[1]
    assert "Traceback" not in outputs[1]


@pytest.mark.parametrize("name", CONNECTION_FAULTS)
def test_granian_refuses_connection_faults_loudly(start, name):
    proc, url = start("--providers", "alana", "--server", "granian")
    try:
        refused = answer(url, Prefer=f"scenario=fault.{name}")
        assert refused.status_code == 501
        assert refused.headers["x-faultproof-error"] == "fault-needs-socket"
        assert f"fault.{name} acts on the connection" in refused.json()["faultproof_error"]
        assert "gunicorn" in refused.json()["faultproof_error"]
        served = answer(url, Prefer="scenario=fault.html_502")
        assert served.status_code == 502 and b"Bad Gateway" in served.content
        journaled = httpx.get(url + "/__faultproof/sessions/default/journal").json()["entries"]
        assert [e["status"] for e in journaled] == [501, 502]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)


def test_a_server_without_sockets_refuses_instead_of_faking():
    """The same rule in-process: a WSGI caller with no socket gets the refusal, not a fake 200."""
    client = create_app(MockConfig(providers=("alana",))).test_client()
    assert CONNECTION_FAULTS == ["drop", "hang", "truncated_body"]
    for name in CONNECTION_FAULTS:
        refused = client.get(
            PRODUCT, headers={"X-API-Key": "alana_test_key", "Prefer": f"scenario=fault.{name}"}
        )
        assert refused.status_code == 501, name
    assert faults.refusal("slow_drip", {}) is None
    assert faults.refusal("drop", {}) is not None
