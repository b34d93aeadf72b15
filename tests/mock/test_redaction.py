"""Secrets never reach the journal in clear: each known leak, and any secret-named field.

Each test drives the real mock (``app.test_client()``), reads the session's journal as the
control plane serves it, and asserts the secret is nowhere in that JSON while its fingerprint
is, so a judge can still compare it."""

from __future__ import annotations

import json
import string
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faultproof.contracts import default_catalogue
from faultproof.contracts.judge import judge
from faultproof.contracts.redaction import GENERIC, Redaction, fingerprint
from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig

CATALOGUE = default_catalogue()
MCP = {"Authorization": "Bearer alloy_test_key", "x-alloy-userid": "user_demo"}


@pytest.fixture
def client(make_app):
    return make_app().test_client(use_cookies=False)  # a Cookie header as sent, not the jar's


def _journal(client: Any, sid: str) -> str:
    response = client.get(f"/__faultproof/sessions/{sid}/journal")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _sent(client: Any, provider: str, path: str, method: str = "POST", **kwargs: Any) -> str:
    """The journal text of a new session after one request to ``provider``."""
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    response = client.open(f"/s/{sid}/{provider}{path}", method=method, **kwargs)
    assert response.status_code < 500, response.get_data(as_text=True)
    return _journal(client, sid)


def _hidden(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text
        assert fingerprint(secret) in text


def _operation(provider: str, name: str) -> dict[str, Any]:
    op = CATALOGUE.provider(provider).operations[name]
    return {"path": op.path, "method": op.method, "headers": dict(op.headers), "json": op.json}


def test_ainative_login_password(client):
    text = _sent(client, "ainative", **_operation("ainative", "login"))
    _hidden(text, "SecurePass123!")
    assert "user@example.com" in text  # the username is no secret: kept for the judge


def test_ainative_login_password_form_encoded(client):
    form = {"username": "user@example.com", "password": "Form-Pass-981!"}
    text = _sent(client, "ainative", "/v1/auth/login-json", data=form)
    _hidden(text, "Form-Pass-981!")


def test_airbyte_refresh_token_and_client_secret_json(client):
    text = _sent(client, "airbyte", **_operation("airbyte", "refresh_token"))
    _hidden(text, "ab_test_refresh_token", "ab_test_client_secret")
    assert "ab_test_client_id" in text


def test_airbyte_refresh_token_and_client_secret_form_encoded(client):
    form = {
        "grant_type": "refresh_token",
        "refresh_token": "ab_test_refresh_token",
        "client_id": "ab_test_client_id",
        "client_secret": "ab_test_client_secret",
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    text = _sent(client, "airbyte", "/api/v1/oauth/token", data=urlencode(form), headers=headers)
    _hidden(text, "ab_test_refresh_token", "ab_test_client_secret")
    assert "grant_type=refresh_token" in text


def test_airbyte_access_key_secret(client):
    text = _sent(client, "airbyte", **_operation("airbyte", "create_connector"))
    _hidden(text, "aks_test_456", "ak_test_123", "ab_test_access_token")


def test_alloy_credential_secret(client):
    text = _sent(client, "alloy", **_operation("alloy", "create_credential_api_key"))
    _hidden(text, "ss_test_secret", "ss_test_key", "tok_demo_valid", "alloy_test_key")
    assert "shipStation-oas" in text


def test_aironclaw_2fa_code(client):
    text = _sent(client, "aironclaw", **{**_operation("aironclaw", "twofa_challenge")})
    assert '\\"code\\":\\"123456\\"' not in text
    assert fingerprint("123456") in text
    _hidden(text, "sess_test_7d2e9a41c0b5")
    assert "aironclaw_session=[redacted:" in text  # the cookie's name kept


def test_a_code_elsewhere_is_no_secret(client):
    text = _sent(client, "aironclaw", "/api/keys", json={"code": "plain-code-77"})
    assert "plain-code-77" in text


def test_an_api_key_query_parameter(client):
    text = _sent(client, "alana", "/api/v1/products/42?api_key=qk_live_5e6f7a&page=2", "GET")
    _hidden(text, "qk_live_5e6f7a")
    assert json.loads(text)["entries"][0]["query"]["page"] == "2"


def test_an_unknown_secret_header(client):
    headers = {"X-Auth-Token": "xat_9b8c7d6e5f", "X-Custom-Secret": "xcs_1a2b3c4d5e"}
    text = _sent(client, "alana", "/api/v1/products/42", "GET", headers=headers)
    _hidden(text, "xat_9b8c7d6e5f", "xcs_1a2b3c4d5e")


@pytest.mark.parametrize(
    "path",
    [
        "/mcp/srv_demo/tok_demo_valid",
        "//mcp/srv_demo/tok_demo_valid",
        "/MCP/srv_demo/tok_demo_valid",
        "/mcp//srv_demo//tok_demo_valid/",
        "/./mcp/srv_demo/./tok_demo_valid",
        "/other/../mcp/srv_demo/tok_demo_valid/tools",
    ],
)
def test_alloy_token_paths_however_spelled(client, path):
    body = {"jsonrpc": "2.0", "method": "tools/list", "id": 1}
    text = _sent(client, "alloy", path, json=body, headers=MCP)
    _hidden(text, "tok_demo_valid")
    assert "srv_demo" in text


def test_what_a_judge_compares_is_kept(client):
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    for token in ("old_token_4d5e6f", "old_token_4d5e6f", "new_token_7a8b9c"):
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "idem-42-abc"}
        client.get(f"/s/{sid}/alana/api/v1/products/42", headers=headers)
    entries = json.loads(_journal(client, sid))["entries"]
    auth = [e["headers"]["Authorization"] for e in entries]
    assert auth[0] == auth[1] != auth[2]  # reused on a retry, changed after a refresh
    assert {e["headers"]["Idempotency-Key"] for e in entries} == {"idem-42-abc"}


def test_a_judged_har_keeps_fingerprints_only(tmp_path):
    url = "https://mock.example/alloy/MCP/srv_demo/tok_har_5f6e7d?api_key=qk_har_1a2b3c"
    body = json.dumps({"params": {"arguments": {"fields": {"region": "eu_har_9z8y"}}}})
    entry = {
        "startedDateTime": "2025-01-01T00:00:00.000Z",
        "time": 10,
        "request": {
            "method": "POST",
            "url": url,
            "headers": [{"name": "X-Auth-Token", "value": "xat_har_4c5d6e"}],
            "postData": {"mimeType": "application/json", "text": body},
        },
        "response": {"status": 200, "headers": [], "content": {"mimeType": "application/json"}},
    }
    har = tmp_path / "captured.har"
    har.write_text(
        json.dumps({"log": {"version": "1.2", "creator": {"name": "t"}, "entries": [entry]}})
    )
    judged = judge(har, "har")
    text = json.dumps(judged.report.to_json()) + repr(judged)
    for secret in ("tok_har_5f6e7d", "qk_har_1a2b3c", "xat_har_4c5d6e", "eu_har_9z8y"):
        assert secret not in text


def test_redaction_leaves_a_body_without_secrets_byte_for_byte():
    raw = b'{ "name": "widget",  "count": 3 }'
    assert GENERIC.body(raw) is raw
    assert GENERIC.body(b"name=widget&count=3") == b"name=widget&count=3"
    assert GENERIC.body(b"{broken json, no secret") == b"{broken json, no secret"


def test_unparsable_json_still_loses_its_secrets():
    raw = b'{"password": "pw_broken_77", "x": '
    assert b"pw_broken_77" not in GENERIC.body(raw)
    assert fingerprint("pw_broken_77").encode() in GENERIC.body(raw)


def test_counts_and_non_credential_keys_stay():
    raw = json.dumps({"max_tokens": 100, "primary_key": "id", "token_count": 3}).encode()
    assert json.loads(GENERIC.body(raw)) == {
        "max_tokens": 100,
        "primary_key": "id",
        "token_count": 3,
    }


SECRET_NAMES = [
    "authorization",
    "password",
    "passwd",
    "api_key",
    "apikey",
    "api-key",
    "x-api-key",
    "x-auth-token",
    "access_token",
    "refreshToken",
    "client_secret",
    "secret",
    "private_key",
    "access_key",
    "session_key",
    "cookie",
    "x-csrf-token",
]
#: A marker prefix keeps a drawn secret from spelling a word the journal holds anyway.
SECRET = st.text(string.ascii_letters + string.digits + "-_.~", min_size=8, max_size=40).map(
    lambda text: "zQ9" + text
)
NAME = st.sampled_from(SECRET_NAMES).flatmap(
    lambda n: st.sampled_from([n, n.upper(), n.title(), n.replace("-", "_"), n.replace("_", "-")])
)
_APP = create_app(MockConfig())
_APP.testing = True


def _nested(key: str, value: str, depth: int) -> Any:
    body: Any = {key: value, "other": "kept"}
    for level in range(depth):
        body = {"level": level, "items": [body]} if level % 2 else {"wrap": body}
    return body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=SECRET,
    name=NAME,
    where=st.sampled_from(["header", "query", "json", "form"]),
    depth=st.integers(0, 5),
    provider=st.sampled_from(sorted(CATALOGUE.providers)),
)
def test_a_secret_in_any_secret_named_place_never_reaches_the_journal(
    secret, name, where, depth, provider
):
    client = _APP.test_client(use_cookies=False)
    kwargs: dict[str, Any] = {}
    path = "/anything/here"
    if where == "header":
        kwargs["headers"] = {name: secret}
    elif where == "query":
        path += "?" + urlencode({name: secret})
    elif where == "json":
        kwargs["json"] = _nested(name, secret, depth)
    else:
        kwargs["data"] = {name: secret, "other": "kept"}
    text = _sent(client, provider, path, **kwargs)
    assert secret not in text
    assert fingerprint(secret) in text


@given(secret=SECRET, name=NAME)
def test_redaction_is_idempotent(secret, name):
    redaction = Redaction()
    once = redaction.headers({name: secret})
    assert redaction.headers(once) == once
    assert secret not in str(once)
