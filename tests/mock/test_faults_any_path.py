"""A fault answers with its scenario's status on every path of a provider, known or not: an SDK
that calls a path the provider lacks (or breaks one of its rules) meets the same fault."""

from __future__ import annotations

import socket

import orjson
import pytest

from faultproof.contracts import PROVIDERS
from faultproof.mocks.config import MockConfig
from faultproof.mocks.faults import FALLBACK_BODY

UNKNOWN = "/faultproof-no-such-path/7"
CATALOGUE = MockConfig().catalogue
#: Body faults made without the connection, with parameters that keep them short.
BODY_FAULTS = {
    "fault.malformed_json": "",
    "fault.html_502": "",
    "fault.slow_drip": ", interval_s=0.001, chunk_bytes=4",
    "fault.delay": ", delay_s=0.001",
}


def _status(scenario: str) -> int:
    status = CATALOGUE.scenario(scenario, "alana").status
    assert status is not None
    return status


def _journal(client) -> list[dict]:
    return client.get("/__faultproof/sessions/default/journal").get_json()["entries"]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("scenario", sorted(BODY_FAULTS))
def test_a_body_fault_on_an_unknown_path_gets_the_scenario_status(make_app, provider, scenario):
    client = make_app(provider).test_client()
    assert client.get(f"/{provider}{UNKNOWN}").status_code == 404  # the provider's own answer
    response = client.get(
        f"/{provider}{UNKNOWN}", headers={"Prefer": f"scenario={scenario}{BODY_FAULTS[scenario]}"}
    )
    assert response.status_code == _status(scenario)
    assert response.headers["X-Faultproof-Scenario"] == scenario
    body = response.get_data()
    if scenario == "fault.malformed_json":
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(body)
    elif scenario != "fault.html_502":
        assert body == FALLBACK_BODY
    last = _journal(client)[-1]
    assert (last["path"], last["status"], last["scenario"]) == (
        UNKNOWN,
        _status(scenario),
        scenario,
    )


def test_a_rule_error_under_a_fault_becomes_the_fault_status(make_app):
    client = make_app("alana").test_client()
    path = "/alana/api/v1/products/42"
    assert client.get(path).status_code == 401  # no key: the provider's rule
    response = client.get(path, headers={"Prefer": "scenario=fault.delay, delay_s=0.001"})
    assert (response.status_code, response.get_data()) == (200, FALLBACK_BODY)
    assert response.content_type == "application/json"


def test_a_success_keeps_its_own_body_under_a_fault(make_app):
    client = make_app("alana").test_client()
    path = "/alana/api/v1/products/42"
    response = client.get(
        path,
        headers={"X-API-Key": "alana_test_key", "Prefer": "scenario=fault.delay, delay_s=0.001"},
    )
    assert response.status_code == 200
    assert response.get_json()["id"] == "42"


def _raw(port: int, path: str, prefer: str) -> bytes:
    """One request on a raw socket; every byte received until the server closed."""
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nPrefer: {prefer}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.mark.parametrize("provider", PROVIDERS)
def test_truncated_body_on_an_unknown_path_over_a_socket(live_all, provider):
    data = _raw(live_all.port, f"/{provider}{UNKNOWN}", "scenario=fault.truncated_body")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0].split()[1] == str(_status("fault.truncated_body"))
    assert headers["x-faultproof-scenario"] == "fault.truncated_body"
    assert 0 < len(body) < int(headers["content-length"]) == len(FALLBACK_BODY)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_drop_on_an_unknown_path_over_a_socket(live_all, provider):
    assert _raw(live_all.port, f"/{provider}{UNKNOWN}", "scenario=fault.drop") == b""
