"""Alloy speaks MCP: the official ``mcp`` SDK client over a real socket, and the transport's
rules (sessions, versions, Accept, 202, batches) and JSON-RPC id echo through the test client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from faultproof.contracts import default_catalogue
from faultproof.mocks.config import MockConfig
from faultproof.mocks.providers.alloy_tools import TOOLS as ALLOY_TOOLS
from faultproof.mocks.serving.inprocess import running_mock
from tests.needs import missing

PROVIDER = default_catalogue().provider("alloy")
PUBLIC = "/alloy/mcp/srv_public/tok_public_valid"
MCP = "/alloy/mcp/srv_demo/tok_demo_valid"
AUTH = {"Authorization": "Bearer alloy_test_key", "x-alloy-userid": "user_demo"}
ACCEPT = {"Accept": "application/json, text/event-stream"}
TOOLS = list(ALLOY_TOOLS)
#: Every JSON-RPC scenario of the catalogue: what an MCP client can meet on the MCP endpoint.
RPC_ERRORS = [
    s for s in PROVIDER.scenarios.values() if s.kind == "error" and "jsonrpc" in (s.body or {})
]
RPC_RESULTS = [s for s in PROVIDER.scenarios.values() if s.kind == "result"]


def mcp_sdk() -> Any:
    try:
        import mcp
    except ImportError:
        missing("the official MCP SDK is not installed: pip install 'mcp>=2.3'")
    return mcp


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with running_mock(MockConfig(providers=("alloy",))) as url:
        yield url


def new_session(mock_url: str, plan: dict[str, Any] | None = None) -> str:
    """A fresh mock session (its own state and rate limits); its Alloy base URL."""
    created = httpx.post(f"{mock_url}/__faultproof/sessions").json()
    if plan is not None:
        response = httpx.put(f"{mock_url}/__faultproof/sessions/{created['id']}/plan", json=plan)
        assert response.status_code == 200, response.text
    return str(created["base_urls"]["alloy"])


async def _connect_list_call(url: str, tool: str, arguments: dict[str, Any]) -> Any:
    mcp = mcp_sdk()
    async with mcp.Client(url, read_timeout_seconds=10) as client:
        listed = await client.list_tools()
        try:
            result = await client.call_tool(tool, arguments)
        except mcp.MCPError as error:
            return client.protocol_version, listed, error
        return client.protocol_version, listed, result


def sdk_call(url: str, tool: str, **arguments: Any) -> tuple[str, Any, Any]:
    """Connect the SDK client (discover probe, initialize, initialized), list the tools, call
    one; the negotiated version, the listing, and the result or the ``MCPError`` raised."""
    return asyncio.run(_connect_list_call(url, tool, arguments))


def test_the_sdk_client_connects_lists_and_calls(mock_url):
    base = new_session(mock_url)
    version, listed, result = sdk_call(
        base + "/mcp/srv_public/tok_public_valid",
        "get_credential_metadata_alloy",
        connectorId="shipStation-oas",
    )
    assert version == "2025-11-25"
    assert [t.name for t in listed.tools] == TOOLS
    assert result.is_error is False
    assert result.structured_content["connectorId"] == "shipStation-oas"
    sid = base.rsplit("/", 2)[-2]
    journal = httpx.get(f"{mock_url}/__faultproof/sessions/{sid}/journal").json()["entries"]
    assert [e["method"] for e in journal][-1] == "DELETE"  # the SDK ended its session
    assert [e["status"] for e in journal if e["method"] == "POST"][1:4] == [200, 202, 200]


@pytest.mark.parametrize("scenario", RPC_ERRORS, ids=[s.id for s in RPC_ERRORS])
def test_each_jsonrpc_error_reaches_the_sdk_as_its_mcp_error(mock_url, scenario):
    mcp = mcp_sdk()
    plan = {"match": {"method": "POST"}, "steps": [{"scenario": scenario.id}], "after": "ok"}
    base = new_session(mock_url)
    sid = base.rsplit("/", 2)[-2]

    async def run() -> Any:
        async with mcp.Client(base + "/mcp/srv_public/tok_public_valid") as client:
            await client.list_tools()
            response = httpx.put(f"{mock_url}/__faultproof/sessions/{sid}/plan", json=plan)
            assert response.status_code == 200, response.text
            with pytest.raises(mcp.MCPError) as caught:
                await client.call_tool("get_credentials_alloy", {})
            return caught.value

    error = asyncio.run(run())
    want = scenario.body["error"]
    assert (error.code, error.message) == (want["code"], want["message"])
    assert error.data["code"] == scenario.code


@pytest.mark.parametrize("scenario", RPC_RESULTS, ids=[s.id for s in RPC_RESULTS])
def test_each_documented_result_reaches_the_sdk_as_a_tool_result(mock_url, scenario):
    mcp = mcp_sdk()
    base = new_session(mock_url)
    sid = base.rsplit("/", 2)[-2]
    plan = {"match": {"method": "POST"}, "steps": [{"scenario": scenario.id}], "after": "ok"}

    async def run() -> Any:
        async with mcp.Client(base + "/mcp/srv_public/tok_public_valid") as client:
            await client.list_tools()
            httpx.put(f"{mock_url}/__faultproof/sessions/{sid}/plan", json=plan)
            return await client.call_tool("get_credentials_alloy", {})

    result = asyncio.run(run())  # the answer's id is the SDK's own, or it would never match
    assert result.is_error is False
    assert result.structured_content == scenario.body["result"]["structuredContent"]


# --- The transport through the test client: exact statuses and headers ---


@pytest.fixture
def client(make_app):
    return make_app("alloy", rules={"alloy.rate_limit": {"limit": 10**9}}).test_client()


def initialize(client, version: str = "2025-06-18", path: str = MCP, **headers: str) -> str:
    body = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t"}},
    }
    response = client.post(path, json=body, headers={**AUTH, **ACCEPT, **headers})
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.headers["Mcp-Session-Id"])


def rpc(method: str, rid: Any = 1, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}


@pytest.mark.parametrize(
    ("offered", "answered"),
    [
        ("2025-11-25", "2025-11-25"),
        ("2025-06-18", "2025-06-18"),
        ("2025-03-26", "2025-03-26"),
        ("2024-11-05", "2024-11-05"),
        ("2099-01-01", "2025-11-25"),
    ],
)
def test_initialize_negotiates_the_version(client, offered, answered):
    body = rpc("initialize", 0, protocolVersion=offered, capabilities={}, clientInfo={"name": "t"})
    response = client.post(MCP, json=body, headers={**AUTH, **ACCEPT})
    result = response.get_json()["result"]
    assert (response.status_code, result["protocolVersion"]) == (200, answered)
    assert result["capabilities"] == {"tools": {"listChanged": False}}
    assert result["serverInfo"]["name"] == "alloy-mcp"
    assert len(response.headers["Mcp-Session-Id"]) == 32


def test_a_session_is_required_checked_and_ended(client):
    sid = initialize(client)
    session = {**AUTH, **ACCEPT, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-06-18"}
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    accepted = client.post(MCP, json=note, headers=session)
    assert (accepted.status_code, accepted.data) == (202, b"")
    answer = {"jsonrpc": "2.0", "id": "s1", "result": {}}
    assert client.post(MCP, json=answer, headers=session).status_code == 202
    assert client.post(MCP, json=rpc("ping", 5), headers=session).get_json() == {
        "jsonrpc": "2.0",
        "id": 5,
        "result": {},
    }
    listed = client.post(MCP, json=rpc("tools/list"), headers=session).get_json()
    assert [t["name"] for t in listed["result"]["tools"]] == TOOLS
    cases = [
        ({**AUTH, **ACCEPT}, 400, "alloy.mcp_session_required"),
        ({**session, "Mcp-Session-Id": "f" * 32}, 404, "alloy.mcp_session_not_found"),
        (
            {**session, "MCP-Protocol-Version": "2025-03-26"},
            400,
            "alloy.mcp_protocol_version_unsupported",
        ),
        ({**session, "Accept": "application/json"}, 406, "alloy.mcp_not_acceptable"),
    ]
    for headers, status, scenario in cases:
        response = client.post(MCP, json=rpc("tools/list", 9), headers=headers)
        assert (response.status_code, response.headers["X-Faultproof-Scenario"]) == (
            status,
            scenario,
        )
        assert response.get_json()["id"] == 9
    assert client.get(MCP, headers=session).status_code == 405  # no server-to-client stream
    assert client.delete(MCP, headers=session).status_code == 204
    gone = client.post(MCP, json=rpc("tools/list"), headers=session)
    assert gone.status_code == 404
    assert client.delete(MCP, headers=session).status_code == 404
    # the URL has no live session left: plain JSON-RPC again, as the seed calls it
    assert client.post(MCP, json=rpc("tools/list"), headers=AUTH).status_code == 200


def test_sessions_belong_to_their_token_url(client):
    sid = initialize(client, path="/alloy/mcp/srv_public/tok_public_valid")
    headers = {**AUTH, **ACCEPT, "Mcp-Session-Id": sid}
    assert client.post(MCP, json=rpc("tools/list"), headers=headers).status_code == 404


def test_batches_only_where_the_version_has_them(client):
    old = {**AUTH, **ACCEPT, "Mcp-Session-Id": initialize(client, "2025-03-26")}
    batch = [
        rpc("ping", 1),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        rpc("tools/calls", "b"),
        rpc("tools/list", 3),
    ]
    answers = client.post(MCP, json=batch, headers=old).get_json()
    assert [a["id"] for a in answers] == [1, "b", 3]
    assert answers[1]["error"]["code"] == -32601
    assert "tools" in answers[2]["result"]
    notes = [{"jsonrpc": "2.0", "method": "notifications/initialized"}]
    assert client.post(MCP, json=notes, headers=old).status_code == 202
    new = {**AUTH, **ACCEPT, "Mcp-Session-Id": initialize(client, "2025-06-18")}
    refused = client.post(MCP, json=batch, headers=new)
    assert refused.status_code == 400
    assert "not part of MCP 2025-06-18" in refused.get_json()["error"]["message"]


def test_an_unsupported_version_header_without_a_session_is_refused(client):
    response = client.post(
        MCP, json=rpc("tools/list"), headers={**AUTH, "MCP-Protocol-Version": "2026-07-28"}
    )
    assert response.status_code == 400
    assert "2025-11-25" in response.get_json()["error"]["message"]


# --- Every JSON-RPC answer echoes the request's id: rule, trigger and plan alike ---

IDS = [(7, 7), ("abc", "abc"), (None, None)]


def _body(rid: Any, method: str = "tools/calls") -> bytes:
    """A request with id ``rid``; ``None``: a body that does not parse."""
    return b"{not json" if rid is None else orjson.dumps(rpc(method, rid))


@pytest.mark.parametrize(("rid", "echoed"), IDS)
def test_rule_trigger_and_plan_errors_echo_the_id(client, rid, echoed):
    posted = {"headers": AUTH, "content_type": "application/json"}
    rule = client.post(MCP, data=_body(rid), **posted)
    want = "alloy.jsonrpc_parse_error" if rid is None else "alloy.jsonrpc_method_not_found"
    assert rule.headers["X-Faultproof-Scenario"] == want
    trigger = client.post(
        MCP, data=_body(rid, "tools/list"), headers={**AUTH, "Prefer": "code=429"}
    )
    assert trigger.headers["X-Faultproof-Scenario"] == "alloy.RATE_LIMITED"
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    plan = {
        "steps": [
            {"scenario": "alloy.ACTION_NOT_FOUND"},
            {"scenario": "alloy.needs_refinement"},
            {
                "response": {
                    "status": 503,
                    "body": {"jsonrpc": "2.0", "error": {"code": -32603}, "id": "{{jsonrpc_id}}"},
                },
            },
        ]
    }
    assert client.put(f"/__faultproof/sessions/{sid}/plan", json=plan).status_code == 200
    planned = [
        client.post(f"/s/{sid}{MCP}", data=_body(rid, "tools/list"), **posted) for _ in range(3)
    ]
    for response in (rule, trigger, *planned):
        assert response.get_json()["id"] == echoed, response.get_data(as_text=True)[:200]
    assert [r.status_code for r in planned] == [404, 200, 503]


# --- tool_errors: result, MCP's tool execution errors ---


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (
            {"connectorId": "slack", "actionId": "pages_create", "parameters": {}},
            "ACTION_NOT_FOUND",
        ),
        ({"connectorId": "slak", "actionId": "x", "parameters": {}}, "CONNECTOR_NOT_FOUND"),
    ],
)
def test_tool_failures_can_be_isError_results(make_app, arguments, code):
    rules = {"alloy.mcp_transport": {"tool_errors": "result"}}
    client = make_app("alloy", rules=rules).test_client()
    body = rpc("tools/call", 4, name="execute_action_alloy", arguments=arguments)
    response = client.post(MCP, json=body, headers=AUTH)
    answer = response.get_json()
    assert (response.status_code, answer["id"], answer["result"]["isError"]) == (200, 4, True)
    assert answer["result"]["structuredContent"]["code"] == code
    assert (
        answer["result"]["content"][0]["text"] == answer["result"]["structuredContent"]["message"]
    )
    malformed = rpc("tools/call", 5, name="execute_action_alloy", arguments={"connectorId": 7})
    assert client.post(MCP, json=malformed, headers=AUTH).status_code == 400  # still JSON-RPC


def test_the_sdk_returns_a_tool_failure_as_an_isError_result():
    mcp = mcp_sdk()
    config = MockConfig(
        providers=("alloy",), rules={"alloy.mcp_transport": {"tool_errors": "result"}}
    )

    async def run(url: str) -> Any:
        async with mcp.Client(url + PUBLIC) as client:
            return await client.call_tool("get_connector_resources_alloy", {"connectorId": "slak"})

    with running_mock(config) as url:
        result = asyncio.run(run(url))
    assert result.is_error is True
    assert result.structured_content["code"] == "CONNECTOR_NOT_FOUND"
    assert result.content[0].text == "Invalid connector"
