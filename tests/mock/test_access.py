"""The control plane's access rule (``access.py``): Host, Origin, token, body type and size."""

from __future__ import annotations

import pytest

from faultproof.mocks import access
from faultproof.mocks.access import Asked, check, host_allowed, split_host
from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig

LOCAL = ("127.0.0.1", "8080")


def asked(method: str = "GET", peer: str = "127.0.0.1", length: int | None = None, **headers):
    """A request as the rule reads it; ``Content_Type=...`` is the header ``Content-Type``."""
    named = {"Host": "localhost", **{k.replace("_", "-"): v for k, v in headers.items()}}
    return Asked(method, named, peer, LOCAL, length)


@pytest.fixture
def client(clock):
    app = create_app(
        MockConfig(providers=("alana",), clock=clock, allow_hosts=("mock.ci.internal",))
    )
    app.testing = True
    return app.test_client()


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("localhost", ("localhost", None)),
        ("LocalHost:8080", ("localhost", "8080")),
        ("[::1]:80", ("::1", "80")),
        ("::1", ("::1", None)),
        ("mock.example.", ("mock.example", None)),
        ("[::1", None),
        ("a:b", None),
        ("", None),
    ],
)
def test_split_host(value, parsed):
    assert split_host(value) == parsed


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost", True),
        ("localhost:9999", True),
        ("127.0.0.1:8080", True),
        ("[::1]:8080", True),
        ("127.0.0.1:8080", True),
        ("mock.ci.internal", True),
        ("mock.ci.internal:8080", True),
        ("api.mocks.example", True),
        ("mocks.example", True),
        ("pinned.example:9000", True),
        ("pinned.example:9001", False),
        ("rebind.attacker.example", False),
        ("localhost.attacker.example", False),
        ("notmocks.example", False),
        ("10.0.0.7", False),
        ("", False),
    ],
)
def test_host_rule(host, allowed):
    rules = ("mock.ci.internal", ".mocks.example", "pinned.example:9000")
    assert host_allowed(host, rules, LOCAL) is allowed


def test_the_address_the_request_arrived_at_is_allowed_with_its_port_only():
    here = ("192.168.1.5", "8080")
    assert host_allowed("192.168.1.5:8080", (), here)
    assert host_allowed("192.168.1.5", (), here)
    assert not host_allowed("192.168.1.5:8081", (), here)


def test_foreign_host_is_refused_and_says_how_to_allow_it(client):
    response = client.post("/__faultproof/sessions", headers={"Host": "rebind.attacker.example"})
    assert response.status_code == 403
    assert response.headers["X-Faultproof-Error"] == "forbidden-host"
    message = response.get_json()["faultproof_error"]
    assert "'rebind.attacker.example'" in message
    assert "--allow-host rebind.attacker.example" in message


def test_base_urls_only_ever_name_an_allowed_host(client):
    created = client.post("/__faultproof/sessions", headers={"Host": "mock.ci.internal:8080"})
    assert created.status_code == 201
    assert set(created.get_json()["base_urls"].values()) == {
        f"http://mock.ci.internal:8080/s/{created.get_json()['id']}/alana"
    }


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://rebind.attacker.example:8080"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_site_requests_are_refused(client, headers):
    response = client.post("/__faultproof/sessions", headers=headers)
    assert response.status_code == 403
    assert response.headers["X-Faultproof-Error"] == "cross-site"


def test_local_origins_and_no_origin_pass(client):
    assert client.post("/__faultproof/sessions").status_code == 201
    for origin in ("http://localhost:5173", "http://127.0.0.1:8080", "http://mock.ci.internal"):
        assert client.post("/__faultproof/sessions", headers={"Origin": origin}).status_code == 201
    same = client.post("/__faultproof/sessions", headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 201


def test_a_cross_site_simple_request_body_is_refused(client):
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    plan = b'{"steps": [{"scenario": "alana.RATE_001"}]}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        response = client.put(
            f"/__faultproof/sessions/{sid}/plan",
            data=plan,
            headers={"Content-Type": content_type} if content_type else {},
        )
        assert response.status_code == 415, content_type
        assert response.headers["X-Faultproof-Error"] == "unsupported-media-type"
    assert client.get(f"/__faultproof/sessions/{sid}").get_json()["plan"] is None
    ok = client.put(
        f"/__faultproof/sessions/{sid}/plan", data=plan, content_type="application/json"
    )
    assert ok.status_code == 200


def test_a_token_applies_to_every_peer_loopback_included():
    token = "s3cret"
    assert check(asked(), (), token).status == 401
    assert check(asked(peer="::1"), (), token).kind == "unauthorized"
    assert check(asked(Authorization="Bearer wrong"), (), token).status == 401
    assert check(asked(Authorization="Bearer s3cret"), (), token) is None
    assert check(asked(X_Faultproof_Token="s3cret"), (), token) is None
    assert check(asked(peer="10.0.0.5", Authorization="bearer s3cret"), (), token) is None


def test_without_a_token_loopback_peers_only():
    assert check(asked(), (), None) is None
    refused = check(asked(peer="10.0.0.5"), (), None)
    assert (refused.status, refused.kind) == (403, "forbidden")


def test_host_is_checked_before_the_token():
    refused = check(asked(Host="evil.example", Authorization="Bearer t"), (), "t")
    assert (refused.status, refused.kind) == (403, "forbidden-host")


def test_oversized_body_is_refused_by_its_declared_length(client):
    big = access.MAX_BODY_BYTES + 1
    refused = check(
        asked("PUT", length=big, Host="localhost", Content_Type="application/json"), (), None
    )
    assert (refused.status, refused.kind) == (413, "too-large")
    assert str(access.MAX_BODY_BYTES) in refused.message
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    response = client.put(
        f"/__faultproof/sessions/{sid}/plan", data=b" " * big, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.headers["X-Faultproof-Error"] == "too-large"


def test_mock_control_sends_the_token_from_its_argument_or_the_environment(monkeypatch):
    from conftest import served_werkzeug

    from faultproof.contracts import FaultproofError
    from faultproof.contracts.control_client import MockControl

    monkeypatch.delenv("FAULTPROOF_CONTROL_TOKEN", raising=False)
    with served_werkzeug(MockConfig(providers=("alana",), control_token="t0ken")) as live:
        with pytest.raises(FaultproofError, match=r"401.*--control-token"):
            MockControl(live.url).check()
        MockControl(live.url, token="t0ken").check()
        monkeypatch.setenv("FAULTPROOF_CONTROL_TOKEN", "t0ken")
        control = MockControl(live.url)
        session_id, base_urls = control.session({"steps": [{"scenario": "alana.RATE_001"}]})
        assert base_urls["alana"] == f"{live.url}/s/{session_id}/alana"
        assert control.journal(session_id) == []  # the session's key went with it
        control.end(session_id)
