"""The Alloy mock: happy paths, every documented error by its own rule, limits, malformed input."""

from __future__ import annotations

import base64
import re
from email.utils import formatdate
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from faultproof.contracts import default_catalogue
from faultproof.contracts.schemas import first_error
from faultproof.mocks.app import load_surface

PROVIDER = default_catalogue().provider("alloy")
MCP = "/alloy/mcp/srv_demo/tok_demo_valid"
PUBLIC = "/alloy/mcp/srv_public/tok_public_valid"
SERVER = "/alloy/api/servers/srv_demo"
AUTH = {"Authorization": "Bearer alloy_test_key", "x-alloy-userid": "user_demo"}
UNLIMITED = {"alloy.rate_limit": {"limit": 10**9}}
DAY = 86_400


def call(tool: str, rid: Any = "1", **arguments: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
        "id": rid,
    }


def execute(
    connector: Any = "slack",
    action: Any = "chat_postMessage",
    credential: Any = "cred_abc123",
    parameters: Any = None,
) -> dict[str, Any]:
    """An execute_action_alloy call; ``credential=None`` leaves credentialId out."""
    arguments = {
        "connectorId": connector,
        "actionId": action,
        "parameters": {"channel": "#general", "text": "hi"} if parameters is None else parameters,
    }
    if credential is not None:
        arguments["credentialId"] = credential
    return call("execute_action_alloy", **arguments)


def jwt(exp: Any) -> str:
    def part(data: Any) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part({'sub': 'user_demo', 'exp': exp})}.c2ln"


def rest(path: str = SERVER, **headers: str) -> dict[str, Any]:
    return {"method": "GET", "path": path, "headers": headers}


def mcp(
    body: Any = None, path: str = MCP, headers: dict[str, str] | None = None, **kw: Any
) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": path,
        "headers": AUTH if headers is None else headers,
        "json": body,
        **kw,
    }


LIMIT_0 = {"alloy.rate_limit": {"limit": 0}}
MCP_ACCEPT = {"Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t"}},
    "id": "1",
}
OLD_JWT = jwt(1_800_000_000 - 60)
#: scenario id -> the request that breaks its rule (and the rule overrides it needs)
RULES: dict[str, dict[str, Any]] = {
    "alloy.INVALID_REQUEST": mcp([1, 2]),
    "alloy.UNAUTHORIZED": mcp(call("get_credentials_alloy"), path="/alloy/mcp/srv_demo/tok_bogus"),
    "alloy.NOT_FOUND": mcp(
        call("get_credentials_alloy"), path="/alloy/mcp/srv_missing/tok_demo_valid"
    ),
    "alloy.RATE_LIMITED": mcp({"jsonrpc": "2.0", "method": "tools/list", "id": "1"}, rules=LIMIT_0),
    "alloy.CREDENTIAL_NOT_FOUND": mcp(
        execute(credential=None), path=PUBLIC, headers={"x-alloy-userid": "user_new"}
    ),
    "alloy.CONNECTOR_NOT_FOUND": mcp(call("get_connector_resources_alloy", connectorId="slak")),
    "alloy.ACTION_NOT_FOUND": mcp(execute(action="pages_create")),
    "alloy.auth_missing": rest(),
    "alloy.auth_invalid_key": rest(
        Authorization="Bearer alloy_old_key", **{"x-alloy-userid": "user_demo"}
    ),
    "alloy.auth_missing_bearer_prefix": rest(
        Authorization="alloy_test_key", **{"x-alloy-userid": "user_demo"}
    ),
    "alloy.auth_wrong_userid_header": rest(
        Authorization="Bearer alloy_test_key", **{"x-user-id": "user_demo"}
    ),
    "alloy.auth_jwt_expired": rest(
        Authorization=f"Bearer {OLD_JWT}", **{"x-alloy-userid": "user_demo"}
    ),
    "alloy.rate_limit_exceeded": rest(**AUTH) | {"rules": LIMIT_0},
    "alloy.rate_limited_backoff": mcp(
        call("get_credentials_alloy"),
        rules={"alloy.rate_limit": {"limit": 0, "retry_after": "none"}},
    ),
    "alloy.rate_limited_http_date": mcp(
        call("get_credentials_alloy"),
        rules={"alloy.rate_limit": {"limit": 0, "retry_after": "http-date"}},
    ),
    "alloy.rate_limited_execute_action": mcp(execute(), rules=LIMIT_0),
    "alloy.credential_not_found": mcp(execute(credential="cred_missing")),
    "alloy.action_not_found": mcp(execute(action="chat_postmessage")),
    "alloy.forbidden_user_restricted": mcp(
        call("get_credentials_alloy"), headers={**AUTH, "x-alloy-userid": "user_other"}
    ),
    "alloy.forbidden_connector_not_allowed": mcp(
        execute("hubspot", "contacts_list", parameters={})
    ),
    "alloy.forbidden_action_blocked": mcp(
        execute(action="chat_delete", parameters={"channel": "C1", "ts": "1"})
    ),
    "alloy.forbidden_private_mode": mcp(call("get_credentials_alloy"), headers={}),
    "alloy.token_expired": mcp(
        call("get_credentials_alloy"), path="/alloy/mcp/srv_demo/tok_demo_expired"
    ),
    "alloy.server_deleted": mcp(
        call("get_credentials_alloy"), path="/alloy/mcp/srv_deleted/tok_deleted"
    ),
    "alloy.token_regenerated": mcp(
        call("get_credentials_alloy"), path="/alloy/mcp/srv_demo/tok_demo_old"
    ),
    "alloy.server_not_found": rest("/alloy/api/servers/srv_missing", **AUTH),
    "alloy.mcp_not_acceptable": mcp(INITIALIZE, headers={**AUTH, "Accept": "application/json"}),
    "alloy.mcp_session_not_found": mcp(
        call("get_credentials_alloy"), headers={**AUTH, **MCP_ACCEPT, "Mcp-Session-Id": "nope"}
    ),
    "alloy.mcp_protocol_version_unsupported": mcp(
        call("get_credentials_alloy"), headers={**AUTH, "MCP-Protocol-Version": "1999-01-01"}
    ),
    "alloy.oauth_redirect_uri_missing": mcp(
        call("create_credential_alloy", connectorId="slack", authenticationType="oauth2")
    ),
    "alloy.credential_wrong_field_names": mcp(
        call(
            "create_credential_alloy",
            connectorId="shipStation-oas",
            authenticationType="apiKey",
            fields={"apiKey": "k", "apiSecret": "s"},
        )
    ),
    "alloy.credential_missing_required_fields": mcp(
        call(
            "create_credential_alloy",
            connectorId="shipStation-oas",
            authenticationType="apiKey",
            fields={"api-key": "k"},
        )
    ),
    "alloy.jsonrpc_parse_error": mcp(data=b'{"jsonrpc": "2.0",', content_type="application/json"),
    "alloy.jsonrpc_version_missing": mcp({"method": "tools/list", "id": "1"}),
    "alloy.jsonrpc_method_not_found": mcp({"jsonrpc": "2.0", "method": "tools/calls", "id": "1"}),
}
#: documented results (200) reached by their rules
RESULTS: dict[str, dict[str, Any]] = {
    "alloy.needs_refinement": mcp(execute(action="conversations_list", parameters={})),
    "alloy.truncated_array": mcp(
        execute(action="conversations_list", parameters={"status": "active"})
    ),
    "alloy.truncated_string": mcp(
        execute(
            "notion", "retrieve_page", credential="cred_notion123", parameters={"pageId": "pg_demo"}
        )
    ),
}
TRIGGER_ONLY = {
    "alloy.RATE_LIMITED_long_wait": "the huge-wait twin of RATE_LIMITED, served on demand to "
    "grade caps_retry_after; the limiter's own 429 stays RATE_LIMITED",
    "alloy.FORBIDDEN": "the generic 403; its four restriction variants are reached by their rules",
    "alloy.internal_error": "a 5xx outage has no natural rule in a healthy server",
    "alloy.internal_error_execute_action": "a 5xx outage has no natural rule in a healthy server",
    "alloy.mcp_session_required": "needs a session opened by an earlier initialize: "
    "tests/mock/test_alloy_mcp.py reaches it",
}
#: rule-driven bodies that name the request's own values instead of the catalogue's example
NOT_VERBATIM = {
    "alloy.credential_not_found",
    "alloy.CREDENTIAL_NOT_FOUND",
    "alloy.mcp_protocol_version_unsupported",
}


def sent_body(req: dict[str, Any]) -> bytes:
    """The bytes ``send`` posts: what a catalogue answer's ``{{jsonrpc_id}}`` is read from."""
    return req["data"] if "data" in req else orjson.dumps(req.get("json"))


def send(client, req: dict[str, Any]):
    kwargs = {k: req[k] for k in ("json", "data", "content_type") if req.get(k) is not None}
    return client.open(req["path"], method=req["method"], headers=req.get("headers", {}), **kwargs)


@pytest.fixture
def app_for(make_app):
    def build(rules: dict[str, Any] | None = None):
        return make_app("alloy", rules=rules or {}).test_client()

    return build


@pytest.fixture
def client(app_for):
    return app_for(UNLIMITED)


def assert_scenario(response, scenario_id: str, rid: Any = "1") -> dict[str, Any]:
    scenario = default_catalogue().scenario(scenario_id)
    assert response.status_code == scenario.status, response.get_data(as_text=True)[:400]
    assert response.headers["X-Faultproof-Scenario"] == scenario_id
    body = response.get_json()
    assert first_error(PROVIDER.schema, body, scenario.body_schema) is None
    assert PROVIDER.normal_form.apply(body).code == scenario.code
    if "jsonrpc" in body:
        assert body["id"] == rid
    return body


@pytest.mark.parametrize("name", list(PROVIDER.operations))
def test_every_operation_answers_its_happy_path(client, name):
    op = PROVIDER.operations[name]
    response = client.open(
        "/alloy" + op.path, method=op.method, headers=dict(op.headers), json=op.json
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert "X-Faultproof-Scenario" not in response.headers
    route = next(
        r
        for r in load_surface("alloy").routes
        if r.method == op.method and re.fullmatch(re.sub(r"<[^>]+>", "[^/]+", r.rule), op.path)
    )
    body = response.get_json()
    assert Draft202012Validator(route.ok).is_valid(body)
    if op.json is not None:
        assert Draft202012Validator(route.body).is_valid(op.json), name
        assert body["id"] == op.json["id"] and "error" not in body
        if op.json["method"] == "tools/call":
            result = body["result"]
            assert orjson.loads(result["content"][0]["text"]) == result["structuredContent"]


@pytest.mark.parametrize("scenario_id", list(RULES))
def test_each_documented_error_comes_from_its_rule(app_for, scenario_id, clock):
    req = RULES[scenario_id]
    client = app_for(req.get("rules", UNLIMITED))
    rid = None if scenario_id in ("alloy.INVALID_REQUEST", "alloy.jsonrpc_parse_error") else "1"
    body = assert_scenario(send(client, req), scenario_id, rid)
    if scenario_id not in NOT_VERBATIM:
        want = default_catalogue().scenario(scenario_id)
        assert body == want.render(now=clock(), request_body=sent_body(req)).body


@pytest.mark.parametrize("scenario_id", list(RESULTS))
def test_each_documented_result_comes_from_its_rule(client, scenario_id, clock):
    req = RESULTS[scenario_id]
    body = assert_scenario(send(client, req), scenario_id)
    want = default_catalogue().scenario(scenario_id)
    assert body == want.render(now=clock(), request_body=sent_body(req)).body


def test_every_error_scenario_is_reached_by_a_rule_or_says_why_not():
    errors = {s.id for s in PROVIDER.scenarios.values() if s.kind == "error"}
    assert errors == set(RULES) | set(TRIGGER_ONLY)
    assert not set(RULES) & set(TRIGGER_ONLY)
    assert {s.id for s in PROVIDER.scenarios.values() if s.kind == "result"} == set(RESULTS)


@pytest.mark.parametrize(
    ("req", "scenario_id"),
    [
        (mcp({"jsonrpc": "2.0", "method": "tools/list", "id": 7}), "alloy.RATE_LIMITED"),
        (mcp(execute() | {"id": 7}), "alloy.rate_limited_execute_action"),
        (rest(**AUTH), "alloy.rate_limit_exceeded"),
    ],
)
def test_rate_limit_counts_for_real(app_for, clock, req, scenario_id):
    client = app_for({"alloy.rate_limit": {"limit": 3}})
    for _ in range(3):
        assert send(client, req).status_code == 200
    refused = send(client, req)
    assert_scenario(refused, scenario_id, 7)
    assert refused.headers["Retry-After"] == "60"  # the fake clock starts on a window boundary
    clock.advance(59)
    assert send(client, req).headers["Retry-After"] == "1"
    clock.advance(1)
    assert send(client, req).status_code == 200


def test_rate_limit_can_answer_with_an_http_date(app_for, clock):
    client = app_for({"alloy.rate_limit": {"limit": 1, "retry_after": "http-date"}})
    assert send(client, mcp(call("get_credentials_alloy"))).status_code == 200
    clock.advance(15)
    refused = send(client, mcp(call("get_credentials_alloy")))
    assert_scenario(refused, "alloy.rate_limited_http_date")
    assert refused.headers["Retry-After"] == formatdate(clock() + 45, usegmt=True)


def test_the_budget_is_per_token_url_and_per_key(app_for):
    client = app_for({"alloy.rate_limit": {"limit": 1}})
    listing = {"jsonrpc": "2.0", "method": "tools/list", "id": "1"}
    assert send(client, mcp(listing)).status_code == 200
    assert send(client, mcp(listing)).status_code == 429
    assert send(client, mcp(listing, path=PUBLIC, headers={})).status_code == 200
    assert send(client, rest(**AUTH)).status_code == 200


def test_an_expired_token_url_recovers_through_the_server_details(client, clock):
    assert send(client, mcp(call("get_credentials_alloy"))).status_code == 200  # seeds the session
    clock.advance(30 * DAY)
    assert_scenario(send(client, mcp(call("get_credentials_alloy"))), "alloy.token_expired")
    details = send(client, rest(**AUTH)).get_json()
    assert details["tokenPath"] != "/mcp/srv_demo/tok_demo_valid"
    assert details["tokenUrl"] == "http://localhost/alloy" + details["tokenPath"]
    assert details["tokenExpiresInDays"] == 30 and details["restrictions"]["mode"] == "private"
    assert (
        send(
            client, mcp(call("get_credentials_alloy"), path="/alloy" + details["tokenPath"])
        ).status_code
        == 200
    )


def test_token_lifetime_follows_the_rule(app_for, clock):
    client = app_for({**UNLIMITED, "alloy.token_expires_in_days": 1})
    assert send(client, mcp(call("get_credentials_alloy"))).status_code == 200
    clock.advance(DAY)
    assert_scenario(send(client, mcp(call("get_credentials_alloy"))), "alloy.token_expired")


def test_a_regenerated_token_and_a_deleted_server_answer_401(client):
    fresh = client.post(SERVER + "/token", headers=AUTH).get_json()
    assert_scenario(send(client, mcp(call("get_credentials_alloy"))), "alloy.token_regenerated")
    assert (
        send(
            client, mcp(call("get_credentials_alloy"), path="/alloy" + fresh["tokenPath"])
        ).status_code
        == 200
    )
    assert client.delete(SERVER, headers=AUTH).status_code == 204
    assert_scenario(
        send(client, mcp(call("get_credentials_alloy"), path="/alloy" + fresh["tokenPath"])),
        "alloy.server_deleted",
    )
    assert_scenario(send(client, rest(**AUTH)), "alloy.server_not_found")
    assert_scenario(client.delete(SERVER, headers=AUTH), "alloy.server_not_found")


def test_a_valid_jwt_is_accepted_on_rest_and_on_a_private_server(client, clock):
    headers = {"Authorization": f"Bearer {jwt(clock() + 600)}", "x-alloy-userid": "user_demo"}
    assert send(client, rest(**headers)).status_code == 200
    assert send(client, mcp(call("get_credentials_alloy"), headers=headers)).status_code == 200
    expired = {**headers, "Authorization": f"Bearer {OLD_JWT}"}
    assert_scenario(
        send(client, mcp(call("get_credentials_alloy"), headers=expired)),
        "alloy.forbidden_private_mode",
    )


def test_created_credentials_are_listed_and_usable(client):
    public = {"x-alloy-userid": "user_new"}
    created = send(
        client,
        mcp(
            call("create_credential_alloy", connectorId="slack", authenticationType="oauth2"),
            path=PUBLIC,
            headers={**public, "x-redirect-uri": "https://app.test/cb"},
        ),
    )
    cred = created.get_json()["result"]["structuredContent"]
    assert cred["authorizationUrl"].endswith("redirect_uri=https%3A%2F%2Fapp.test%2Fcb")
    listed = send(
        client, mcp(call("get_credentials_alloy", connectorId="slack"), path=PUBLIC, headers=public)
    )
    assert [
        c["credentialId"] for c in listed.get_json()["result"]["structuredContent"]["credentials"]
    ] == [cred["credentialId"]]
    used = send(client, mcp(execute(credential=cred["credentialId"]), path=PUBLIC, headers=public))
    assert used.status_code == 200
    assert_scenario(
        send(client, mcp(execute()) | {"path": PUBLIC, "headers": public}),
        "alloy.credential_not_found",
    )


def test_list_actions_paginate_after_truncation(client):
    first = send(client, RESULTS["alloy.truncated_array"]).get_json()["result"]["structuredContent"]
    args = {"status": "active", "cursor": first["nextCursor"]}
    rest_page = send(client, mcp(execute(action="conversations_list", parameters=args))).get_json()
    page = rest_page["result"]["structuredContent"]
    assert [i["id"] for i in page["items"]] == [f"C{i:04d}" for i in range(26, 41)]
    assert "nextCursor" not in page and "truncated" not in page
    past = {"cursor": "cur_999999999"}
    empty = send(client, mcp(execute(action="conversations_list", parameters=past))).get_json()
    assert empty["result"]["structuredContent"] == {"items": [], "totalItems": 137}
    limited = send(client, mcp(execute(action="conversations_list", parameters={"limit": 100})))
    assert_scenario(limited, "alloy.needs_refinement")


def test_limits_follow_their_rules(app_for):
    client = app_for(
        {**UNLIMITED, "alloy.max_array_items": 5, "alloy.needs_refinement_threshold": 10}
    )
    body = send(
        client, mcp(execute(action="conversations_list", parameters={"limit": 8}))
    ).get_json()
    assert len(body["result"]["structuredContent"]["items"]) == 5
    assert_scenario(
        send(client, mcp(execute(action="conversations_list", parameters={"limit": 11}))),
        "alloy.needs_refinement",
    )


def test_a_long_posted_text_comes_back_cut_to_5kb(client):
    body = send(client, mcp(execute(parameters={"channel": "C1", "text": "é" * 4000}))).get_json()
    item = body["result"]["structuredContent"]["item"]
    assert len(item["message"]["text"].encode()) <= 5120
    assert body["result"]["structuredContent"]["truncatedFields"] == ["message.text"]


def test_the_server_list_shows_live_servers_only(client):
    servers = client.get("/alloy/api/servers", headers=AUTH).get_json()["servers"]
    assert [s["id"] for s in servers] == ["srv_demo", "srv_public"]
    assert servers[0]["restrictions"]["connectors"] == {
        "mode": "allowlist",
        "allowedIds": ["slack", "notion"],
    }


def test_unknown_paths_and_methods_answer_in_the_envelope(client):
    for response, status in (
        (client.get("/alloy/nowhere"), 404),
        (client.get(MCP), 405),
        (client.put(SERVER, headers=AUTH), 405),
    ):
        assert response.status_code == status
        assert first_error(PROVIDER.schema, response.get_json()) is None
    assert "jsonrpc" in client.get(MCP).get_json()


BAD_MCP = [
    {"data": b"", "content_type": "application/json"},
    {"data": b"\xff\xfe", "content_type": "application/json"},
    {"data": b'{"jsonrpc":"2.0","method":"tools/list","id":"1"}', "content_type": "text/plain"},
    {"data": b"jsonrpc=2.0", "content_type": "application/x-www-form-urlencoded"},
    {"data": b"[" * 5000 + b"]" * 5000, "content_type": "application/json"},
    {"data": b"1" * 400 + b"", "content_type": "application/json"},
    {"data": b'{"id": 123456789012345678901234567890}', "content_type": "application/json"},
    {"data": b"{}" + b" " * (2 << 20), "content_type": "application/json"},
    {"json": "tools/list"},
    {"json": None},
    {"json": {}},
    *[
        {"json": {"jsonrpc": "2.0", "method": "tools/list", "id": rid}}
        for rid in (1.5, True, "", {}, [], None)
    ],
    *[{"json": {"jsonrpc": v, "method": "tools/list", "id": "1"}} for v in (2.0, "1.0", None)],
    {"json": {"jsonrpc": "2.0", "method": 5, "id": "1"}},
    {"json": {"jsonrpc": "2.0", "method": "x" * 100_000, "id": "1"}},
    {"json": {"jsonrpc": "2.0", "method": "tools/list", "id": "1", "extra": 1}},
    {"json": {"jsonrpc": "2.0", "method": "tools/call", "params": [], "id": "1"}},
    {"json": {"jsonrpc": "2.0", "method": "tools/call", "params": {"name": 5}, "id": "1"}},
    {
        "json": {
            "jsonrpc": "2.0",
            "method": "tools/call",
            "params": {"name": "nope_alloy"},
            "id": "1",
        }
    },
    {
        "json": {
            "jsonrpc": "2.0",
            "method": "tools/call",
            "params": {"name": "get_credentials_alloy", "arguments": "x"},
            "id": "1",
        }
    },
    {"json": call("get_connector_resources_alloy")},
    {"json": call("get_connector_resources_alloy", connectorId="")},
    {"json": call("get_connector_resources_alloy", connectorId=["slack"])},
    {"json": call("get_credential_metadata_alloy", connectorId="s" * 100_000)},
    {"json": call("create_credential_alloy", connectorId="slack", authenticationType="oauth")},
    {"json": call("create_credential_alloy", connectorId="slack", authenticationType="apiKey")},
    {
        "json": call(
            "create_credential_alloy",
            connectorId="shipStation-oas",
            authenticationType="apiKey",
            fields={"": "x"},
        )
    },
    {
        "json": call(
            "create_credential_alloy",
            connectorId="shipStation-oas",
            authenticationType="apiKey",
            fields={"api-key": 5, "api-secret": None},
        )
    },
    {
        "json": call("create_credential_alloy", connectorId="slack", authenticationType="oauth2"),
        "headers": {**AUTH, "x-redirect-uri": "not a url"},
    },
    {"json": execute(parameters="x")},
    {"json": execute(parameters={"channel": 5})},
    {"json": execute(parameters={"channel": "C1", "text": "t", "unknown": 1})},
    {"json": execute(action="conversations_list", parameters={"cursor": "bogus"})},
    {"json": execute(action="conversations_list", parameters={"limit": 0})},
    {"json": execute(action="conversations_list", parameters={"limit": "10"})},
    {
        "json": execute(
            "notion", "retrieve_page", credential="cred_notion123", parameters={"pageId": "pg_x"}
        )
    },
    {"json": execute(credential="")},
    {"json": execute(action=None)},
    {"json": execute(connector=7)},
    {
        "json": {"jsonrpc": "2.0", "method": "tools/list", "id": "1"},
        "headers": {"Authorization": "Bearer a.b.c", "x-alloy-userid": "user_demo"},
    },
    {
        "json": {"jsonrpc": "2.0", "method": "tools/list", "id": "1"},
        "headers": {"Authorization": "Bearer " + jwt("soon"), "x-alloy-userid": "user_demo"},
    },
    {"json": {"jsonrpc": "2.0", "method": "tools/list", "id": "1"}, "path": "/alloy/mcp/%00/%ff"},
]


@pytest.mark.parametrize("bad", BAD_MCP, ids=[str(i) for i in range(len(BAD_MCP))])
def test_malformed_mcp_requests_never_answer_5xx(client, bad):
    req = mcp(bad.get("json"), path=bad.get("path", MCP), headers=bad.get("headers"))
    req.update({k: bad[k] for k in ("data", "content_type") if k in bad})
    response = send(client, req)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert first_error(PROVIDER.schema, response.get_json()) is None


BAD_HEADERS = [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer  "},
    {"Authorization": "Basic eA=="},
    {"Authorization": "Bearer a.b.c"},
    {"Authorization": "Bearer a.W10.c"},
    {"Authorization": "Bearer a." + base64.urlsafe_b64encode(b'{"exp":"soon"}').decode() + ".c"},
    {"Authorization": "Bearer " + "k" * 100_000},
    {"Authorization": "Bearer alloy_test_key"},
    {"Authorization": "Bearer alloy_test_key", "x-alloy-userid": " "},
]


@pytest.mark.parametrize("headers", BAD_HEADERS, ids=[str(i) for i in range(len(BAD_HEADERS))])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/alloy/api/servers"),
        ("GET", SERVER),
        ("POST", SERVER + "/token"),
        ("DELETE", SERVER),
    ],
)
def test_malformed_rest_requests_never_answer_5xx(client, headers, method, path):
    response = client.open(
        path, method=method, headers=headers, data=b"\x00junk", content_type="text/plain"
    )
    assert response.status_code == 401, response.get_data(as_text=True)[:300]
    assert first_error(PROVIDER.schema, response.get_json()) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
TOOL = st.sampled_from(
    [
        "get_connector_resources_alloy",
        "create_credential_alloy",
        "get_credentials_alloy",
        "get_credential_metadata_alloy",
        "execute_action_alloy",
        "other",
    ]
)


def test_fuzzed_tool_calls_never_answer_5xx(app_for):
    client = app_for(UNLIMITED)

    @settings(max_examples=150, deadline=None)
    @given(
        tool=TOOL,
        arguments=JSON,
        parameters=JSON,
        action=st.sampled_from(
            [
                "chat_postMessage",
                "conversations_list",
                "retrieve_page",
                "pages_create",
                "orders_list",
            ]
        ),
    )
    def run(tool: str, arguments: Any, parameters: Any, action: str) -> None:
        body = call(tool)
        body["params"]["arguments"] = arguments
        if tool == "execute_action_alloy" and isinstance(arguments, dict):
            arguments.update(
                connectorId="notion"
                if action.endswith("page") or action.startswith("pages")
                else "slack",
                actionId=action,
                parameters=parameters,
            )
        response = send(client, mcp(body))
        assert response.status_code < 500
        assert (
            response.status_code == 200 or first_error(PROVIDER.schema, response.get_json()) is None
        )

    run()


def test_openapi_describes_the_surface(client):
    document = client.get("/alloy/openapi.json").get_json()
    assert {
        "/mcp/{server_id}/{token}",
        "/api/servers/{server_id}",
        "/api/servers/{server_id}/token",
    } <= set(document["paths"])
