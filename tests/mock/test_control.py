"""The control plane: who may use it, and what bad input gets."""

from __future__ import annotations

import pytest

from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig

REMOTE = {"REMOTE_ADDR": "10.0.0.5"}


@pytest.fixture
def client(clock):
    app = create_app(MockConfig(providers=("alana", "ainative"), clock=clock))
    app.testing = True
    return app.test_client()


def test_loopback_only_by_default(client):
    assert client.get("/__faultproof/health").status_code == 200
    assert (
        client.get("/__faultproof/health", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    )
    refused = client.post("/__faultproof/sessions", environ_base=REMOTE)
    assert refused.status_code == 403
    assert "--control-token" in refused.get_json()["faultproof_error"]
    # The provider surfaces stay open, as the real ones are.
    assert (
        client.get(
            "/alana/api/v1/products/42",
            headers={"X-API-Key": "alana_test_key"},
            environ_base=REMOTE,
        ).status_code
        == 200
    )


def test_token_when_configured(clock):
    app = create_app(MockConfig(providers=("alana",), clock=clock, control_token="s3cret"))
    client = app.test_client()
    assert client.post("/__faultproof/sessions", environ_base=REMOTE).status_code == 401
    assert (
        client.post(
            "/__faultproof/sessions", environ_base=REMOTE, headers={"Authorization": "Bearer wrong"}
        ).status_code
        == 401
    )
    assert (
        client.post(
            "/__faultproof/sessions",
            environ_base=REMOTE,
            headers={"Authorization": "Bearer s3cret"},
        ).status_code
        == 201
    )
    assert (
        client.get(
            "/__faultproof/health", environ_base=REMOTE, headers={"X-Faultproof-Token": "s3cret"}
        ).status_code
        == 200
    )
    # A token applies to every peer: loopback too (a reverse proxy on this host is loopback).
    refused = client.get("/__faultproof/health")
    assert refused.status_code == 401
    assert refused.headers["X-Faultproof-Error"] == "unauthorized"
    assert (
        client.get("/__faultproof/health", headers={"X-Faultproof-Token": "s3cret"}).status_code
        == 200
    )


GOOD = {"steps": [{"scenario": "alana.RATE_001", "params": {"retry_after": 1}}]}


@pytest.mark.parametrize(
    ("body", "needle", "lists_valid"),
    [
        (b"{not json", "not valid JSON", False),
        (b"[]", "JSON object", False),
        (b'{"steps": []}', "non-empty list", False),
        (b'{"steps": [{"scenario": "alana.RATE_01"}]}', "Did you mean 'alana.RATE_001'", True),
        (b'{"steps": [{"scenario": 42}]}', "'scenario' id", False),
        (
            b'{"steps": [{"scenario": "alana.RATE_001", "params": {"retry_aftr": 1}}]}',
            "retry_after",
            True,
        ),
        (
            b'{"steps": [{"scenario": "alana.RATE_001", "params": {"retry_after": "soon"}}]}',
            "takes a finite number from",
            True,
        ),
        (
            b'{"steps": [{"scenario": "alana.RATE_001"}], "after": "forever"}',
            "'after' must be one of",
            True,
        ),
        (
            b'{"steps": [{"scenario": "alana.RATE_001"}], "match": {"verb": "GET"}}',
            "unknown match fields",
            True,
        ),
        (
            b'{"steps": [{"scenario": "alana.RATE_001"}], "match": {"method": "FETCH"}}',
            "not an HTTP method",
            True,
        ),
        (
            b'{"steps": [{"scenario": "alana.RATE_001"}], "match": {"path": "api/*"}}',
            "starting with '/'",
            False,
        ),
        (
            b'{"steps": [{"scenario": "alana.RATE_001"}], "match": {"provider": "alloy"}}',
            "not served",
            True,
        ),
        (b'{"steps": [{"scenario": "alloy.RATE_LIMITED"}]}', "served by this mock", True),
        (b'{"steps": [{"scenario": "ainative.webhook_signed"}]}', "served by this mock", True),
        (b'{"step": []}', "unknown plan fields", True),
    ],
)
def test_bad_plans_are_refused_and_nothing_is_half_applied(client, body, needle, lists_valid):
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    assert client.put(f"/__faultproof/sessions/{sid}/plan", json=GOOD).status_code == 200
    response = client.put(
        f"/__faultproof/sessions/{sid}/plan", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.get_json()
    assert needle in error["faultproof_error"]
    assert bool(error.get("valid")) == lists_valid
    assert (
        client.get(f"/__faultproof/sessions/{sid}").get_json()["plan"]["steps"][0]["scenario"]
        == "alana.RATE_001"
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sessions/nope"),
        ("DELETE", "/sessions/nope"),
        ("PUT", "/sessions/nope/plan"),
        ("DELETE", "/sessions/nope/plan"),
        ("GET", "/sessions/nope/journal"),
        ("POST", "/sessions/nope/webhooks"),
    ],
)
def test_unknown_sessions_are_404(client, method, path):
    response = client.open(
        "/__faultproof" + path, method=method, json={"steps": [{"scenario": "alana.RATE_001"}]}
    )
    assert response.status_code == 404
    assert "unknown" in response.get_json()["faultproof_error"]


def test_unknown_control_paths_and_methods(client):
    assert client.get("/__faultproof/nope").status_code == 404
    assert client.patch("/__faultproof/sessions").status_code == 405
    assert client.get("/__faultproof/openapi/nope.json").get_json()["valid"] == [
        "alana",
        "ainative",
    ]
