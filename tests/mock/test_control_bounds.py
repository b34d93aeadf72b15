"""Sessions are not a directory, and the control plane's input is bounded (issue 14)."""

from __future__ import annotations

import base64
import io
import subprocess

import httpx
import orjson
import pytest
from click.testing import CliRunner

from faultproof.mocks import cli as cli_module
from faultproof.mocks import sessions
from faultproof.mocks.access import MAX_BODY_BYTES
from faultproof.mocks.cli import MAX_JOURNAL_LIMIT, cli
from faultproof.mocks.control_input import MAX_DEPTH, MAX_STEPS, depth
from faultproof.mocks.session_keys import KEY_HEADER

PRODUCT = "/alana/api/v1/products/42"
KEY = {"X-API-Key": "alana_test_key"}


@pytest.fixture
def client(make_app):
    return make_app("alana").test_client()


def _plan(client, session_id: str, body: bytes):
    return client.put(
        f"/__faultproof/sessions/{session_id}/plan", data=body, content_type="application/json"
    )


def test_the_default_session_cannot_be_deleted_and_stays_intact(client):
    assert client.get(PRODUCT, headers=KEY).status_code == 200
    refused = client.delete("/__faultproof/sessions/default")
    assert refused.status_code == 409
    assert refused.headers["X-Faultproof-Error"] == "default-session"
    assert "cannot be deleted" in refused.get_json()["faultproof_error"]
    journal = client.get("/__faultproof/sessions/default/journal").get_json()
    assert [e["path"] for e in journal["entries"]] == ["/api/v1/products/42"]


def test_a_204_has_no_content_type(client):
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    cleared = client.delete(f"/__faultproof/sessions/{sid}/plan")
    assert (cleared.status_code, cleared.data) == (204, b"")
    assert "Content-Type" not in cleared.headers
    deleted = client.delete(f"/__faultproof/sessions/{sid}")
    assert deleted.status_code == 204
    assert "Content-Type" not in deleted.headers


def test_the_control_plane_does_not_answer_inside_a_session(client):
    first = client.post("/__faultproof/sessions").get_json()["id"]
    other = client.post("/__faultproof/sessions").get_json()["id"]
    for path in (f"/sessions/{other}/journal", "/health", f"/sessions/{other}"):
        response = client.get(f"/s/{first}/__faultproof{path}")
        assert response.status_code == 404, path
        assert response.headers["X-Faultproof-Error"] == "not-in-session"
        assert f"use /__faultproof{path}" in response.get_json()["faultproof_error"]
    assert client.delete(f"/s/{first}/__faultproof/sessions/{other}").status_code == 404
    assert client.get(f"/__faultproof/sessions/{other}").status_code == 200


def test_session_ids_are_listed_only_to_token_holders(make_app):
    open_client = make_app("alana").test_client()
    open_client.post("/__faultproof/sessions")
    assert open_client.get("/__faultproof/sessions").get_json() == {"count": 1}
    token = {"Authorization": "Bearer t0ken"}
    guarded = make_app("alana", control_token="t0ken").test_client()
    sid = guarded.post("/__faultproof/sessions", headers=token).get_json()["id"]
    assert guarded.get("/__faultproof/sessions", headers=token).get_json() == {
        "count": 1,
        "sessions": [sid],
    }
    assert guarded.get("/__faultproof/sessions").status_code == 401


def test_session_ids_carry_128_random_bits_from_secrets(monkeypatch):
    drawn = []
    real = sessions.secrets.token_urlsafe

    def counted(nbytes):
        drawn.append(nbytes)
        return real(nbytes)

    monkeypatch.setattr(sessions.secrets, "token_urlsafe", counted)
    session_id = sessions.new_id()
    assert drawn == [16]
    assert len(base64.urlsafe_b64decode(session_id + "==")) * 8 >= 128


def test_a_plan_of_too_many_steps_is_a_400_naming_the_limit(client):
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    body = orjson.dumps({"steps": [{"scenario": "alana.RATE_001"}] * (MAX_STEPS + 1)})
    refused = _plan(client, sid, body)
    assert refused.status_code == 400
    assert f"at most {MAX_STEPS} steps" in refused.get_json()["faultproof_error"]
    assert client.get(f"/__faultproof/sessions/{sid}").get_json()["plan"] is None
    at_limit = orjson.dumps({"steps": [{"scenario": "alana.RATE_001"}] * MAX_STEPS})
    assert _plan(client, sid, at_limit).status_code == 200


def test_a_deep_plan_is_a_400_naming_the_limit(client):
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    deep = b'{"steps": [{"scenario": "alana.RATE_001", "params": ' + b'{"a":' * 200
    deep += b"1" + b"}" * 200 + b"}]}"
    refused = _plan(client, sid, deep)
    assert refused.status_code == 400
    assert f"deeper than {MAX_DEPTH} levels" in refused.get_json()["faultproof_error"]


def test_a_chunked_body_past_the_limit_is_a_413(client):
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    body = io.BytesIO(b'{"steps": ["' + b"x" * MAX_BODY_BYTES + b'"]}')
    refused = client.put(
        f"/__faultproof/sessions/{sid}/plan",
        input_stream=body,
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert refused.status_code == 413
    assert str(MAX_BODY_BYTES) in refused.get_json()["faultproof_error"]


def test_depth_counts_levels_of_objects_and_arrays():
    assert (depth(1), depth([]), depth({"a": [1, {"b": []}]})) == (0, 1, 4)


def test_journal_limit_has_an_upper_bound_at_start():
    result = CliRunner().invoke(cli, ["serve", "--journal-limit", str(MAX_JOURNAL_LIMIT + 1)])
    assert result.exit_code == 2
    assert f"1<=x<={MAX_JOURNAL_LIMIT}" in result.output


@pytest.fixture
def serve_options(monkeypatch):
    """What ``faultproof serve`` hands to ``mock_config``, the server never started."""
    seen: dict = {}

    def stop(**options):
        seen.update(options)
        raise SystemExit(0)

    monkeypatch.setattr(cli_module, "mock_config", stop)
    return seen


def test_allow_host_and_webhook_allow_reach_the_config(monkeypatch, serve_options):
    seen = serve_options
    monkeypatch.setenv("FAULTPROOF_ALLOW_HOST", "env.example, .ci.example")
    args = ["serve", "--allow-host", "a.example,b.example:8080", "--webhook-allow", "hooks:9000"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert seen["allow_hosts"] == ["a.example", "b.example:8080", "127.0.0.1"]
    assert seen["webhook_allow"] == ["hooks:9000"]
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert seen["allow_hosts"] == ["env.example", ".ci.example", "127.0.0.1"]


def test_journal_limit_bound_is_a_usage_error_from_the_real_command():
    from conftest import SERVE

    result = subprocess.run(
        [*SERVE, "--journal-limit", "10000000"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "--journal-limit" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("options", "auth"),
    [({"control_token": "t0ken"}, {"Authorization": "Bearer t0ken"}), ({"session_keys": True}, {})],
    ids=["with-a-token", "session-keys-flag"],
)
def test_a_session_answers_only_to_its_key(make_app, options, auth):
    client = make_app("alana", **options).test_client()
    created = client.post("/__faultproof/sessions", headers=auth).get_json()
    sid, own = created["id"], {**auth, KEY_HEADER: created["key"]}
    other = client.post("/__faultproof/sessions", headers=auth).get_json()
    plan = b'{"steps": [{"scenario": "alana.RATE_001"}]}'
    for headers in (auth, {**auth, KEY_HEADER: other["key"]}, {**auth, KEY_HEADER: "0" * 32}):
        for method, path in (
            ("GET", f"/sessions/{sid}"),
            ("GET", f"/sessions/{sid}/journal"),
            ("DELETE", f"/sessions/{sid}/plan"),
            ("DELETE", f"/sessions/{sid}"),
        ):
            refused = client.open(f"/__faultproof{path}", method=method, headers=headers)
            assert refused.status_code == 403, (method, path)
            assert refused.headers["X-Faultproof-Error"] == "session-key"
        refused = client.put(
            f"/__faultproof/sessions/{sid}/plan",
            data=plan,
            headers=headers,
            content_type="application/json",
        )
        assert refused.status_code == 403
    assert client.get(f"/__faultproof/sessions/{sid}/journal", headers=own).status_code == 200
    assert client.get("/__faultproof/sessions/default/journal", headers=auth).status_code == 200
    assert client.delete(f"/__faultproof/sessions/{sid}", headers=own).status_code == 204


def test_sessions_need_no_key_by_default(client):
    created = client.post("/__faultproof/sessions").get_json()
    assert "key" not in created
    assert client.get(f"/__faultproof/sessions/{created['id']}/journal").status_code == 200


def test_session_keys_flag_reaches_the_config(serve_options):
    seen = serve_options
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert seen["session_secret"] is None
    assert CliRunner().invoke(cli, ["serve", "--session-keys"]).exit_code == 0
    assert len(seen["session_secret"]) == 64


def test_chunked_plans_are_read_and_bounded_under_uvicorn():
    from conftest import served_uvicorn

    from faultproof.mocks.config import MockConfig

    with served_uvicorn(MockConfig(providers=("alana",))) as live:
        control = f"{live.url}/__faultproof/sessions"
        sid = httpx.post(control).json()["id"]
        json = {"Content-Type": "application/json"}
        plan = b'{"steps": [{"scenario": "alana.RATE_001"}]}'
        answer = httpx.put(f"{control}/{sid}/plan", content=iter([plan]), headers=json)
        assert answer.status_code == 200, answer.text
        big = iter([b'{"steps": ["', b"x" * MAX_BODY_BYTES, b'"]}'])
        assert httpx.put(f"{control}/{sid}/plan", content=big, headers=json).status_code == 413
