"""The AIronClaw surface: happy paths, every documented error by its rule, limits, bad input."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from faultproof.contracts import default_catalogue
from faultproof.contracts.schemas import first_error
from faultproof.mocks.app import load_surface

CATALOGUE = default_catalogue().provider("aironclaw")
OPS = CATALOGUE.operations
SURFACE = load_surface("aironclaw")
BASE = "/aironclaw"
PAT = {"Authorization": "Bearer aic_pat_test_4f1c2a9b7e3d"}
SESSION = {"Cookie": "aironclaw_session=sess_test_7d2e9a41c0b5"}
MFA = {"Cookie": "aironclaw_session=sess_test_mfa_5b0e3c92d4a7"}
CLIENT = {"Authorization": "Bearer ack_test_client_9b2e5c7a"}
MCP = "3f6c1e2a-8b4d-4c7e-9f10-2a5b6c7d8e9f"
OTHER_MCP = "e7f8a9b0-c1d2-4e3f-8a4b-5c6d7e8f9a0b"
LLM = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
RESOURCE = "5d7e9f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a"
KEY = "b2d4f6a8-1c3e-4a5b-8d7f-9e0a1b2c3d4e"
LEGACY_KEY = "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"
OTHER_KEY = "c0ffee00-1111-4222-8333-444455556666"
PAT_KEY = "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
NO_LIMITS = {"proxy_ban": {"ban_after_n_exceeded": 1000}}


@pytest.fixture
def build(make_app) -> Callable[..., Any]:
    """A test client of a fresh AIronClaw mock; ``Cookie`` headers are sent as given."""

    def client(**rules: Any) -> Any:
        app = make_app("aironclaw", rules={f"aironclaw.{k}": v for k, v in rules.items()})
        return app.test_client(use_cookies=False)

    return client


@pytest.fixture
def client(build) -> Any:
    return build()


def send(client: Any, op: str, **over: Any) -> Any:
    """Drive a catalogue operation, with parts replaced: path, json, data, query, headers, ip."""
    operation = OPS[op]
    headers = {**operation.headers, **over.get("headers", {})}
    headers = {k: v for k, v in headers.items() if v is not None}
    query = over.get("query", operation.query)
    kwargs: dict[str, Any] = {"headers": headers, "query_string": query}
    if "data" in over:
        kwargs["data"] = over["data"]
    elif over.get("json", operation.json) is not None:
        kwargs["json"] = over.get("json", operation.json)
    if "ip" in over:
        kwargs["environ_base"] = {"REMOTE_ADDR": over["ip"]}
    return client.open(BASE + over.get("path", operation.path), method=operation.method, **kwargs)


def assert_envelope(response: Any, scenario: str | None = None, status: int | None = None) -> None:
    body = response.get_json()
    pointer = None
    if scenario:
        found = CATALOGUE.scenarios[f"aironclaw.{scenario}"]
        assert response.status_code == found.status, response.data
        assert response.headers["X-Faultproof-Scenario"] == found.id
        pointer = found.body_schema
    if status:
        assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    assert first_error(CATALOGUE.schema, body, pointer) is None, body


# ---- happy paths ------------------------------------------------------------------------------

BEFORE = {"twofa_disable": [("twofa_setup", {})]}


def _route_for(app_client: Any, method: str, path: str) -> Any:
    adapter = app_client.application.url_map.bind("localhost")
    endpoint, _ = adapter.match(BASE + path, method=method)
    return next(r for r in SURFACE.routes if f"aironclaw.{r.name}_{method.lower()}" == endpoint)


@pytest.mark.parametrize("op", list(OPS))
def test_every_operation_answers_its_happy_path(build, op):
    client = build()
    for name, over in BEFORE.get(op, []):
        assert send(client, name, **over).status_code < 300
    response = send(client, op)
    route = _route_for(client, OPS[op].method, OPS[op].path)
    assert response.status_code == route.ok_status, response.data
    assert "X-Faultproof-Scenario" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert Draft202012Validator(route.ok).is_valid(response.get_json()), response.data


def test_route_schemas_are_valid_json_schemas():
    for route in SURFACE.routes:
        for schema in [route.ok, route.body or {}, *route.query.values()]:
            Draft202012Validator.check_schema(schema)
        assert route.summary


# ---- every documented error by its rule -------------------------------------------------------

Step = tuple[str, dict[str, Any]]
NOPE = "00000000-0000-4000-8000-000000000000"
PROXY_ONE = {"proxy_rate_limit": {"limit": 1}, **NO_LIMITS}

# scenario -> (operation, overrides, steps before, rule overrides)
RULES: dict[str, tuple[str, dict[str, Any], list[Step], dict[str, Any]]] = {
    "invalid_json_body": ("create_mcp", {"data": "{name: docs"}, [], {}),
    "mcp_name_url_required": ("create_mcp", {"json": {"name": "docs-search"}}, [], {}),
    "key_name_required": ("create_key", {"json": {"name": "  "}}, [], {}),
    "invalid_jwks": ("create_mcp", {"json": {"name": "a", "url": "https://a.example/mcp",
                                             "auth": {"jwksJson": {"keys": [{}]}}}}, [], {}),
    "invalid_rule": ("put_rules", {"json": {"rules": [{"type": "rate_limit", "limit": 0,
                                                       "window_s": 60}]}}, [], {}),
    "invalid_key_name": ("create_key", {"json": {"name": "ci agent!"}}, [], {}),
    "resource_uri_in_use": ("create_resource", {"json": {"uri": "docs://index"}}, [], {}),
    "invalid_before": ("delete_logs", {"query": {"before": "2026-01-15"}}, [], {}),
    "tool_not_found": ("patch_key", {"json": {"permissions": {MCP: {"tools": ["search_docs",
                                                                            "drop_db"]}}}}, [], {}),
    "not_authenticated": ("list_mcp", {"headers": {"Authorization": None}}, [], {}),
    "invalid_pat": ("list_mcp", {"headers": {"Authorization": "Bearer aic_pat_revoked"}}, [], {}),
    "mfa_required": ("rotate_token", {"headers": MFA}, [], {}),
    "key_forbidden": ("patch_key", {"path": f"/api/keys/{OTHER_KEY}"}, [], {}),
    "pat_not_accepted": ("rotate_token", {"headers": {**PAT, "Cookie": None}}, [], {}),
    "mcp_limit_reached": ("create_mcp", {}, [], {"mcp_quota": 1}),
    "api_key_limit_reached": ("create_key", {}, [], {"api_key_quota": 2}),
    "cannot_modify_personal_token": ("delete_key", {"path": f"/api/keys/{PAT_KEY}"}, [], {}),
    "ip_acl_denied": ("proxy_mcp", {"headers": {"X-Forwarded-For": "198.51.100.7"}}, [], {}),
    "ip_banned": ("proxy_mcp", {}, [("proxy_mcp", {})] * 3,
                  {"proxy_rate_limit": {"limit": 1}, "proxy_ban": {"ban_after_n_exceeded": 2}}),
    "mcp_not_found": ("get_mcp", {"path": f"/api/mcp/{OTHER_MCP}"}, [], {}),
    "llm_proxy_not_found": ("get_llm_rules", {"path": f"/api/llm/{NOPE}/rules"}, [], {}),
    "key_not_found": ("delete_key", {"path": f"/api/keys/{NOPE}"}, [], {}),
    "resource_not_found": ("patch_resource", {"path": f"/api/mcp/{MCP}/resources/{NOPE}"}, [], {}),
    "endpoint_not_found": ("list_mcp", {"path": "/api/mcps"}, [], {}),
    "key_missing_name_tag": ("patch_key", {"path": f"/api/keys/{LEGACY_KEY}"}, [], {}),
    "twofa_already_enabled": ("twofa_setup", {}, [("twofa_setup", {})], {}),
    "twofa_not_enabled": ("twofa_disable", {}, [], {}),
    "proxy_rate_limited": ("proxy_mcp", {}, [("proxy_mcp", {})], PROXY_ONE),
    "proxy_rate_limited_http_date": (
        "proxy_mcp", {}, [("proxy_mcp", {})],
        {**PROXY_ONE, "proxy_rate_limit": {"limit": 1, "retry_after_format": "http_date"}}),
    "twofa_challenge_rate_limited": ("twofa_challenge", {}, [("twofa_challenge", {})] * 2,
                                     {"twofa_challenge_rate_limit": {"limit": 2}}),
    "upstream_mcp_unreachable": (
        "refresh_tools", {}, [("patch_mcp", {"json": {"url": "https://203.0.113.10/mcp"}})], {}),
    "upstream_mcp_non_json": (
        "refresh_tools", {}, [("patch_mcp", {"json": {"url": "https://docs.example.com/i.html"}})],
        {}),
}  # fmt: skip
TRIGGER_ONLY = {
    "proxy_rate_limited_long_wait": "the huge-wait twin of proxy_rate_limited, served on demand "
    "to grade caps_retry_after; the limiter's own 429 stays proxy_rate_limited",
    "permissions_update_failed": "the gateway Admin API failing a write is an outage of a "
    "dependency with no request that causes it",
    "key_create_failed": "the gateway Admin API failing a key create is an outage of a dependency",
    "redis_unavailable": "Redis being down is an infrastructure outage, not a request property",
}
EXTRA_OPS = {"patch_mcp": ("PATCH", f"/api/mcp/{MCP}", PAT)}


def _step(client: Any, name: str, over: dict[str, Any]) -> Any:
    if name in EXTRA_OPS:
        method, path, headers = EXTRA_OPS[name]
        return client.open(BASE + path, method=method, headers=headers, json=over.get("json"))
    return send(client, name, **over)


@pytest.mark.parametrize("scenario", list(RULES))
def test_documented_error_by_its_rule(build, clock, scenario):
    op, over, before, rules = RULES[scenario]
    client = build(**rules)
    for name, step_over in before:
        assert _step(client, name, step_over).status_code < 500
    response = send(client, op, **over)
    assert_envelope(response, scenario)
    found = CATALOGUE.scenarios[f"aironclaw.{scenario}"]
    if not found.params or scenario.startswith(("upstream", "invalid_rule", "invalid_jwks")):
        assert response.get_json() == found.render(now=clock()).body


def test_mcp_not_found_right_after_create_when_redis_lags(build, clock):
    client = build(api_no_store={"read_lag_s": 2})
    created = send(client, "create_mcp").get_json()
    response = send(client, "get_mcp_after_create", path=f"/api/mcp/{created['id']}")
    assert_envelope(response, "mcp_not_found_after_create")
    assert send(client, "get_mcp").status_code == 200  # the seeded MCP is old enough
    clock.advance(2)
    assert send(client, "get_mcp", path=f"/api/mcp/{created['id']}").get_json() == created


def test_every_error_scenario_is_reached_by_rule_or_is_trigger_only():
    errors = {s.name for s in CATALOGUE.scenarios.values() if s.kind == "error"}
    by_rule = set(RULES) | {"mcp_not_found_after_create"}
    assert not by_rule & set(TRIGGER_ONLY)
    assert errors == by_rule | set(TRIGGER_ONLY)


@pytest.mark.parametrize("scenario", list(TRIGGER_ONLY))
def test_trigger_only_scenarios_answer_their_trigger(client, scenario):
    op = CATALOGUE.operation_for(CATALOGUE.scenarios[f"aironclaw.{scenario}"]).name
    assert_envelope(send(client, op, headers={"Prefer": f"scenario={scenario}"}), scenario)


# ---- rate limits, bans, ACLs ------------------------------------------------------------------


def test_proxy_rate_limit_counts_with_the_clock(build, clock):
    client = build(proxy_rate_limit={"limit": 3}, **NO_LIMITS)
    assert [send(client, "proxy_mcp").status_code for _ in range(3)] == [200, 200, 200]
    refused = send(client, "proxy_mcp")
    assert_envelope(refused, "proxy_rate_limited")
    assert refused.headers["Retry-After"] == "60"
    clock.advance(15)
    assert send(client, "proxy_mcp").headers["Retry-After"] == "45"
    assert send(client, "proxy_mcp", headers={"X-Forwarded-For": "192.0.2.9"}).status_code == 200
    clock.advance(45)
    assert send(client, "proxy_mcp").status_code == 200


def test_retry_after_as_http_date_names_the_window_end(build, clock):
    client = build(proxy_rate_limit={"limit": 1, "retry_after_format": "http_date"}, **NO_LIMITS)
    send(client, "proxy_mcp")
    clock.advance(20)
    when = parsedate_to_datetime(send(client, "proxy_mcp").headers["Retry-After"]).timestamp()
    assert when == clock() + 40


def test_ban_after_n_exceeded_lasts_ban_timespan_and_is_logged(build, clock):
    client = build(proxy_rate_limit={"limit": 1}, proxy_ban={"ban_after_n_exceeded": 2})
    statuses = [send(client, "proxy_mcp").status_code for _ in range(3)]
    assert statuses == [200, 429, 429]
    clock.advance(60)  # a new window: the limit would allow it, the ban does not
    assert_envelope(send(client, "proxy_mcp"), "ip_banned")
    assert send(client, "proxy_mcp", headers={"X-Forwarded-For": "192.0.2.9"}).status_code == 200
    logs = send(client, "list_logs", query={"event_type": "ip_banned"}).get_json()["logs"]
    assert logs[0]["ip"] == "127.0.0.1" and logs[0]["target"] == MCP
    clock.advance(540)
    assert send(client, "proxy_mcp").status_code == 200


def test_rate_limit_keyed_on_consumer_ignores_the_address(client):
    rules = {"rules": [{"type": "rate_limit", "limit": 1, "window_s": 60, "match_key": "consumer"}]}
    assert send(client, "put_rules", json=rules).status_code == 200
    assert send(client, "proxy_mcp", headers={"X-Forwarded-For": "192.0.2.1"}).status_code == 200
    second = send(client, "proxy_mcp", headers={"X-Forwarded-For": "192.0.2.2"})
    assert_envelope(second, "proxy_rate_limited")


def test_ip_acl_deny_and_allow_rules_are_logged(client):
    assert_envelope(send(client, "proxy_mcp", ip="198.51.100.40"), "ip_acl_denied")
    logs = send(client, "list_logs").get_json()["logs"]
    assert logs[0]["event_type"] == "ip_blocked" and logs[0]["ip"] == "198.51.100.40"
    allow_only = {"rules": [{"type": "ip_acl", "action": "allow", "cidr": "10.0.0.0/8"}]}
    assert send(client, "put_rules", json=allow_only).status_code == 200
    assert send(client, "proxy_mcp", ip="10.1.2.3").status_code == 200
    assert_envelope(send(client, "proxy_mcp", ip="192.0.2.1"), "ip_acl_denied")


def test_twofa_challenge_allows_ten_attempts_per_five_minutes(client, clock):
    wrong = {"code": "000000"}
    statuses = [send(client, "twofa_challenge", json=wrong).status_code for _ in range(10)]
    assert statuses == [400] * 10
    refused = send(client, "twofa_challenge")
    assert_envelope(refused, "twofa_challenge_rate_limited")
    assert "Retry-After" not in refused.headers
    clock.advance(300)
    assert send(client, "twofa_challenge").status_code == 200


# ---- credentials and flows --------------------------------------------------------------------


def test_rotating_the_pat_invalidates_the_previous_one(client):
    token = send(client, "rotate_token").get_json()["token"]
    assert_envelope(send(client, "list_mcp"), "invalid_pat")
    assert send(client, "list_mcp", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    again = send(client, "rotate_token").get_json()["token"]
    assert_envelope(send(client, "list_mcp", headers={"Authorization": f"Bearer {token}"}),
                    "invalid_pat")  # fmt: skip
    assert send(client, "list_mcp", headers={"Authorization": f"Bearer {again}"}).status_code == 200


def test_mfa_pending_session_must_pass_the_challenge(client):
    pending = {"Authorization": None, **MFA}
    assert_envelope(send(client, "list_mcp", headers=pending), "mfa_required")
    assert send(client, "twofa_challenge", headers=MFA, json={"code": "654321"}).status_code == 400
    assert send(client, "twofa_challenge", headers=MFA).status_code == 200
    listed = send(client, "list_mcp", headers=pending).get_json()
    assert [m["id"] for m in listed["mcps"]] == [OTHER_MCP]
    assert_envelope(send(client, "twofa_setup", headers=MFA), "twofa_already_enabled")


@pytest.mark.parametrize("op", ["twofa_challenge", "twofa_setup", "twofa_disable", "rotate_token"])
def test_session_only_endpoints_refuse_tokens(client, op):
    assert_envelope(send(client, op, headers={**PAT, "Cookie": None}), "pat_not_accepted")
    bad = {"Authorization": "Bearer nope", "Cookie": None}
    assert_envelope(send(client, op, headers=bad), "invalid_pat")
    assert_envelope(send(client, op, headers={"Cookie": "aironclaw_session=expired"}),
                    "not_authenticated")  # fmt: skip


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": None}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"},
     {"Authorization": None, "X-API-Key": "aic_pat_test_4f1c2a9b7e3d"},
     {"Authorization": None, "Cookie": "session=sess_test_7d2e9a41c0b5"}],
)  # fmt: skip
def test_wrong_credential_spellings_are_not_authenticated(client, headers):
    assert_envelope(send(client, "list_mcp", headers=headers), "not_authenticated")


def test_the_dashboard_session_works_on_the_management_api(client):
    assert send(client, "list_keys", headers={"Authorization": None, **SESSION}).status_code == 200


def test_proxy_takes_client_keys_only(client):
    assert_envelope(send(client, "proxy_mcp", headers=PAT), "not_authenticated")
    created = send(client, "create_key", json={"name": "agent_2"}).get_json()
    fresh = {"Authorization": f"Bearer {created['key']}"}
    assert send(client, "proxy_mcp", headers=fresh).status_code == 200
    assert send(client, "delete_key", path=f"/api/keys/{created['id']}").status_code == 200
    assert_envelope(send(client, "proxy_mcp", headers=fresh), "not_authenticated")


def test_health_needs_no_credential(client):
    response = client.get(f"{BASE}/api/health")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


# ---- state ------------------------------------------------------------------------------------


def test_mcp_crud_and_quota(build):
    client = build(mcp_quota=2)
    created = send(client, "create_mcp", json={"name": "b", "url": "https://b.example/mcp"})
    assert created.status_code == 201
    mcp_id = created.get_json()["id"]
    assert_envelope(send(client, "create_mcp"), "mcp_limit_reached")
    assert send(client, "create_mcp").get_json()["error"].startswith("MCP limit reached (2/2).")
    path = f"/api/mcp/{mcp_id}"
    patched = client.patch(BASE + path, headers=PAT, json={"name": "renamed"}).get_json()
    assert patched["name"] == "renamed" and patched["url"] == "https://b.example/mcp"
    assert client.delete(BASE + path, headers=PAT).status_code == 200
    assert_envelope(send(client, "get_mcp", path=path), "mcp_not_found")
    assert send(client, "create_mcp").status_code == 201


def test_permissions_need_a_tool_refresh_first(client):
    mcp_id = send(client, "create_mcp").get_json()["id"]
    grant = {"permissions": {mcp_id: {"tools": ["search_docs"]}}}
    refused = send(client, "patch_key", json=grant)
    assert_envelope(refused, "tool_not_found")
    assert refused.get_json()["error"] == "tools[0] not found on this MCP server"
    assert send(client, "refresh_tools", path=f"/api/mcp/{mcp_id}/tools").status_code == 200
    assert send(client, "patch_key", json=grant).get_json()["permissions"] == grant["permissions"]
    assert_envelope(send(client, "patch_key", json={"permissions": {OTHER_MCP: {"tools": []}}}),
                    "key_forbidden")  # fmt: skip


def test_upstream_failures_relay_the_upstream_error(client):
    path = f"/api/mcp/{MCP}"
    for url, scenario, needle in [
        ("https://mcp.docs.invalid/mcp", "upstream_mcp_unreachable", "ENOTFOUND mcp.docs.invalid"),
        ("https://[2001:db8::1]:8443/mcp", "upstream_mcp_unreachable", "2001:db8::1:8443"),
        ("https://mcp.example.com:99999/", "upstream_mcp_unreachable", "Invalid URL"),
        ("https://example.com/docs/index.HTM", "upstream_mcp_non_json", "non-JSON"),
    ]:
        assert client.patch(BASE + path, headers=PAT, json={"url": url}).status_code == 200
        response = send(client, "refresh_tools")
        assert_envelope(response, scenario)
        assert needle in response.get_json()["error"]
    refused = client.patch(BASE + path, headers=PAT, json={"url": "ftp://mcp.example.com/"})
    assert_envelope(refused, status=400)
    assert refused.get_json() == {"error": "url must be an http(s) URL"}


def test_resources_keep_uris_unique(client):
    created = send(client, "create_resource").get_json()
    base = f"/api/mcp/{MCP}/resources"
    clash = client.patch(f"{BASE}{base}/{created['id']}", headers=PAT, json={"uri": "docs://index"})
    assert_envelope(clash, "resource_uri_in_use")
    same = client.patch(f"{BASE}{base}/{RESOURCE}", headers=PAT, json={"uri": "docs://index"})
    assert same.status_code == 200
    listed = client.get(BASE + base, headers=PAT).get_json()["resources"]
    assert sorted(r["uri"] for r in listed) == ["docs://index", "docs://readme"]
    assert client.delete(f"{BASE}{base}/{RESOURCE}", headers=PAT).status_code == 200
    assert send(client, "create_resource", json={"uri": "docs://index"}).status_code == 201


def test_logs_delete_before_a_day(client):
    assert send(client, "delete_logs", query={"before": "20260101"}).get_json() == {"deleted": 0}
    assert send(client, "delete_logs").get_json() == {"deleted": 1}
    assert [e["id"] for e in send(client, "list_logs", query={}).get_json()["logs"]] == ["log_0002"]
    assert send(client, "delete_logs", query={}).get_json() == {"deleted": 1}  # no before: all
    assert send(client, "list_logs", query={}).get_json()["logs"] == []


FULLWIDTH_DATE = "".join(chr(0xFF10 + int(d)) for d in "20260115")
BAD_BEFORE = ["", "2026-01-15", "20261301", "20260132", "2026011", "202601150", "abc",
              "20260115\n", FULLWIDTH_DATE]  # fmt: skip


@pytest.mark.parametrize("before", BAD_BEFORE)
def test_before_must_be_a_yyyymmdd_integer(client, before):
    assert_envelope(send(client, "delete_logs", query={"before": before}), "invalid_before")


def test_keys_lifecycle_and_quota(build):
    client = build(api_key_quota=3)
    listed = send(client, "list_keys").get_json()
    assert listed["count"] == 2 and {k["id"] for k in listed["keys"]} == {KEY, LEGACY_KEY, PAT_KEY}
    created = send(client, "create_key").get_json()
    assert created["key"].startswith("ack_") and created["tags"] == ["name:ci-agent"]
    assert "key" not in send(client, "list_keys").get_json()["keys"][-1]
    assert send(client, "create_key").get_json()["error"].startswith("API key limit reached (3/3).")
    assert send(client, "delete_key", path=f"/api/keys/{LEGACY_KEY}").status_code == 200
    assert send(client, "create_key").status_code == 201
    assert_envelope(send(client, "delete_key", path=f"/api/keys/{OTHER_KEY}"), "key_forbidden")


def test_llm_rules_round_trip(client):
    rules = {"rules": [{"type": "ip_acl", "action": "deny", "cidr": "192.0.2.7"}]}
    put = client.put(f"{BASE}/api/llm/{LLM}/rules", headers=PAT, json=rules)
    assert put.get_json() == rules  # read back as written
    as_float = {"rules": [{"type": "rate_limit", "limit": 5.0, "window_s": 60}]}
    stored = client.put(f"{BASE}/api/llm/{LLM}/rules", headers=PAT, json=as_float).get_json()
    assert stored["rules"][0]["limit"] == 5 and isinstance(stored["rules"][0]["limit"], int)
    assert send(client, "get_llm_rules").get_json() == stored


def test_jwks_test_endpoint(client):
    url = f"{BASE}/api/mcp/jwks/test"
    good = {"jwksJson": {"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}]}}
    assert client.post(url, headers=PAT, json=good).get_json() == {"valid": True, "keys": 1}
    for bad, reason in [
        ('{"keys": [{"kty": "RSA"}]}', "must be a JSON object"),
        ({"keys": []}, "keys must be a non-empty array"),
        ({"keys": [{"kty": ""}]}, "keys[0].kty is required"),
        ([], "must be a JSON object"),
    ]:
        response = client.post(url, headers=PAT, json={"jwksJson": bad})
        assert_envelope(response, "invalid_jwks")
        assert response.get_json() == {"error": f"auth.jwksJson: {reason}"}


BAD_RULES = [
    ([], "rules: is required"),
    ({"rules": {}}, "rules: must be an array"),
    ({"rules": [1]}, "rules[0]: must be an object"),
    ({"rules": [{"type": ["rate_limit"]}]}, "rules[0].type: must be one of rate_limit, ip_acl"),
    ({"rules": [{"type": "rate_limit", "window_s": 60}]}, "rules[0].limit: is required"),
    ({"rules": [{"type": "rate_limit", "limit": True, "window_s": 60}]},
     "rules[0].limit: must be a positive integer"),
    ({"rules": [{"type": "rate_limit", "limit": 1.5, "window_s": 60}]},
     "rules[0].limit: must be a positive integer"),
    ({"rules": [{"type": "rate_limit", "limit": 10**30, "window_s": 60}]},
     "rules[0].limit: must be at most 1000000"),
    ({"rules": [{"type": "rate_limit", "limit": -2.0, "window_s": 60}]},
     "rules[0].limit: must be a positive integer"),
    ({"rules": [{"type": "rate_limit", "limit": 2_000_000, "window_s": 60}]},
     "rules[0].limit: must be at most 1000000"),
    ({"rules": [{"type": "rate_limit", "limit": 1, "window_s": 60, "match_key": "x"}]},
     "rules[0].match_key: must be one of ip, consumer"),
    ({"rules": [{"type": "rate_limit", "limit": 1, "window_s": 60, "ban_after_n_exceeded": 2}]},
     "rules[0].ban_timespan: is required with ban_after_n_exceeded"),
    ({"rules": [{"type": "ip_acl", "action": "deny", "cidr": "300.1.1.1/8"}]},
     "rules[0].cidr: must be an IP address or CIDR block"),
    ({"rules": [{"type": "ip_acl", "action": "deny", "cidr": 1}]},
     "rules[0].cidr: must be an IP address or CIDR block"),
    ({"rules": [{"type": "ip_acl", "action": "deny", "cidr": "10.0.0.0/8", "x\ny": 1}]},
     'rules[0]: unknown field "x\\ny" for a ip_acl rule'),
    ({"rules": [{"type": "ip_acl", "action": "deny", "cidr": "10.0.0.0/8"}] * 51},
     "rules: must hold at most 50 rules"),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "message"), BAD_RULES)
def test_rule_schema_names_the_offending_field(client, payload, message):
    response = send(client, "put_rules", json=payload)
    assert_envelope(response, "invalid_rule")
    assert response.get_json() == {"error": message}


# ---- malformed input never gives a 5xx --------------------------------------------------------

NASTY = [None, True, -1, 0, 10**30, 1.5, "", " ", "\n", "x" * 5000, [], {}, ["x"], {"a": {"b": []}}]
RAW = [b"", b"{", b"null", b"[]", b'"text"', b"123", b"\xff\xfe", b'{"a":' * 200, b"{}"]
IDS = {"mcp_id": MCP, "llm_id": LLM, "resource_id": RESOURCE, "key_id": KEY}


def _credential(rule: str) -> dict[str, str]:
    if rule.startswith(("/api/2fa", "/api/profile")):
        return SESSION
    return CLIENT if rule.startswith("/proxy") else PAT


def _path(rule: str) -> str:
    for name, value in IDS.items():
        rule = rule.replace(f"<{name}>", value)
    return BASE + rule


def _check(response: Any) -> None:
    assert response.status_code < 500, response.data
    if response.status_code >= 400:
        assert_envelope(response)


@pytest.mark.parametrize("route", SURFACE.routes, ids=lambda r: f"{r.method} {r.rule}")
def test_malformed_bodies_and_headers_never_give_a_5xx(build, route):
    client = build(**NO_LIMITS)
    path, headers = _path(route.rule), _credential(route.rule)
    for raw in RAW:
        for content_type in ("application/json", "text/plain", None):
            extra = {"Content-Type": content_type} if content_type else {}
            _check(client.open(path, method=route.method, headers={**headers, **extra}, data=raw))
    for field in (route.body or {}).get("properties", {}):
        for value in NASTY:
            _check(client.open(path, method=route.method, headers=headers, json={field: value}))
    for name in route.query:
        for value in ["", "-1", "x" * 5000, "1e9", "٣"]:
            _check(client.open(path, method=route.method, headers=headers,
                               query_string={name: value}))  # fmt: skip
    for bad in [{"Authorization": "Bearer " + "x" * 8000}, {"Authorization": "Bearer  "},
                {"Cookie": "aironclaw_session="}, {"Cookie": "aironclaw_session=\"; =;"},
                {"X-Forwarded-For": "not-an-ip, 1.2.3.4"}, {"X-Forwarded-For": "::1"}]:  # fmt: skip
        _check(client.open(path, method=route.method, headers={**headers, **bad}, json={}))


def test_wrong_methods_and_unknown_paths_use_the_envelope(client):
    trace = client.open(f"{BASE}/api/mcp", method="TRACE")
    for response in (client.put(f"{BASE}/api/health"), trace):
        assert_envelope(response, status=405)
        assert response.headers["X-Faultproof-Scenario"] == "aironclaw.http_405"
    for path in ("/api/nope", "/api", "/proxy/llm/x", "/api/mcp/a/b/c/d"):
        assert_envelope(client.get(BASE + path, headers=PAT), "endpoint_not_found")


def test_field_errors_without_a_documented_message_are_generic_400s(client):
    response = send(client, "patch_key", json={"permissions": []})
    assert_envelope(response, status=400)
    assert response.headers["X-Faultproof-Scenario"] == "aironclaw.http_400"
    assert response.get_json() == {"error": "permissions must be an object of MCP server ids"}


SHAPES = [
    ("create_mcp", {"json": {"name": "a", "url": "http://a", "auth": {"type": "oauth"}}}, None),
    ("create_mcp", {"json": {"name": "a", "url": "http://a", "auth": {"bearer": 7}}}, None),
    ("create_mcp", {"json": {"name": "a", "url": "http://a", "auth": []}}, None),
    ("create_mcp", {"json": {"name": "a", "url": "mcp.example.com"}}, None),
    ("create_mcp", {"json": {"name": "a", "url": "http://a", "auth": {"jwksJson": "{}"}}},
     "invalid_jwks"),
    ("create_key", {"json": {"name": "ci-agent\n"}}, "invalid_key_name"),
    ("create_key", {"json": {"name": 7}}, "key_name_required"),
    ("create_resource", {"json": {"uri": "\t"}}, None),
    ("create_resource", {"json": {"uri": "docs://x", "name": None}}, None),
    ("twofa_challenge", {"json": {"code": "123456\n"}}, None),
    ("twofa_challenge", {"json": {"code": 123456}}, None),
    ("list_logs", {"query": {"limit": "\u00b2"}}, None),
    ("list_logs", {"query": {"limit": "0"}}, None),
    ("proxy_mcp", {"json": {"id": 1, "method": "tools/list"}}, None),
    ("proxy_mcp", {"json": {"jsonrpc": "2.0", "id": True, "method": "tools/list"}}, None),
    ("proxy_mcp", {"json": {"jsonrpc": "2.0", "method": "tools/call", "params": []}}, None),
]  # fmt: skip


@pytest.mark.parametrize(("op", "over", "scenario"), SHAPES)
def test_bodies_the_schema_refuses_are_refused(client, op, over, scenario):
    response = send(client, op, **over)
    assert_envelope(response, scenario, status=400)


def test_patch_with_an_explicit_null_is_refused_not_ignored(client):
    response = client.patch(f"{BASE}/api/mcp/{MCP}", headers=PAT, json={"name": None})
    assert_envelope(response, "mcp_name_url_required")
    assert client.patch(f"{BASE}/api/mcp/{MCP}", headers=PAT, json={}).status_code == 200
