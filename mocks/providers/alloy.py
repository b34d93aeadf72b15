"""Alloy MCP server: JSON-RPC tools on ``POST /mcp/<serverId>/<token>``, REST ``/api/servers``.

Rules from seed 000: ``Authorization: Bearer`` plus ``x-alloy-userid`` on the REST API (with the
documented mistakes: no Bearer prefix, ``x-user-id``), expired JWTs, 100 requests a minute per
API key or token URL, token URLs that expire after ``tokenExpiresInDays``, belong to a deleted
server or were regenerated (401), and the server's restrictions (users, connectors, blocked
actions, private mode: 403). MCP's streamable HTTP transport (initialize, sessions, versions,
batches) is in ``alloy_mcp_session``, the JSON-RPC envelope in ``alloy_rpc``, the tools and
credential rules in ``alloy_tools``, ``needsRefinement`` and truncation in ``alloy_actions``,
state and token checks in ``alloy_state``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import request, url_for

from ..surface import Surface, bearer, fail, rule, state
from . import alloy_mcp_session as mcp_session
from . import alloy_rpc as rpc
from . import alloy_state as st
from .alloy_actions import iso

CODES = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "RATE_LIMITED",
}
MCP_PATH = re.compile(r"/mcp(/|$)")


def authenticate() -> None:
    """REST API: ``Authorization: Bearer <key or JWT>`` and ``x-alloy-userid``, then the budget."""
    if not request.headers.get("Authorization", "").strip():
        raise fail("auth_missing")
    token = bearer()
    if token is None:
        raise fail("auth_missing_bearer_prefix")
    problem = st.key_problem(token)
    if problem:
        raise fail(problem)
    if not request.headers.get("x-alloy-userid", "").strip():
        raise fail("auth_wrong_userid_header")
    wait = st.over_limit(f"key:{st.digest(token)}")
    if wait is not None:
        raise fail("rate_limit_exceeded", {"retry_after": wait})


def generic_error(status: int, title: str) -> Any:
    """HTTP errors the catalogue does not name: JSON-RPC on the MCP path, REST elsewhere."""
    code = CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "INVALID_REQUEST")
    if not MCP_PATH.search(request.path):
        return {"error": {"code": code, "message": title}}
    number = -32603 if status >= 500 else -32004 if status == 404 else -32600
    return {
        "jsonrpc": "2.0",
        "error": {"code": number, "message": title, "data": {"code": code}},
        "id": None,
    }


surface = Surface(
    "alloy",
    seed=st.seed,
    authenticate=authenticate,
    generic_error=generic_error,
)
AUTH_HEADERS: dict[str, dict[str, Any]] = {
    "Authorization": {"type": "string", "pattern": "^Bearer .+"},
    "x-alloy-userid": {"type": "string", "minLength": 1},
}
SERVER = {
    "type": "object",
    "required": ["id", "name", "restrictions", "tokenExpiresInDays", "tokenExpiresAt", "tokenUrl"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "createdAt": {"type": "string", "format": "date-time"},
        "restrictions": {
            "type": "object",
            "properties": {
                "mode": {"enum": ["public", "private"]},
                "users": {"type": "object"},
                "connectors": {"type": "object"},
                "actions": {"type": "object"},
            },
        },
        "tokenExpiresInDays": {"type": "number"},
        "tokenExpiresAt": {"type": "string", "format": "date-time"},
        "tokenUrl": {"type": "string", "format": "uri"},
        "tokenPath": {"type": "string"},
    },
}


def _details(server: dict[str, Any]) -> dict[str, Any]:
    """What GET /api/servers/<id> shows: the restrictions and the current token URL."""
    days = rule("token_expires_in_days")
    token = server["token"]
    endpoint = f"{surface.provider_id}.mcp_post"
    return {
        "id": server["id"],
        "name": server["name"],
        "createdAt": iso(server["createdAt"]),
        "restrictions": copy.deepcopy(server["restrictions"]),
        "tokenExpiresInDays": days,
        "tokenExpiresAt": iso(server["tokens"][token]["issuedAt"] + float(days) * st.DAY_S),
        "tokenUrl": url_for(endpoint, server_id=server["id"], token=token, _external=True),
        "tokenPath": f"/mcp/{server['id']}/{token}",
    }


def _current(server: dict[str, Any]) -> dict[str, Any]:
    """Server details, with a fresh token when the current one has expired (the seed's fix)."""
    if st.expired(server["tokens"][server["token"]]):
        st.issue(server)
    return _details(server)


@surface.route(
    "GET",
    "/api/servers",
    summary="The account's servers",
    headers=AUTH_HEADERS,
    ok={"type": "object", "required": ["servers"], "properties": {"servers": {"type": "array"}}},
)
def list_servers() -> Any:
    with state() as data:
        live = [s for s in data["servers"].values() if not s["deleted"]]
        return {"servers": [_current(s) for s in live]}


@surface.route(
    "GET",
    "/api/servers/<server_id>",
    summary="Server details: restrictions and the current token URL",
    headers=AUTH_HEADERS,
    ok=SERVER,
)
def get_server(server_id: str) -> Any:
    with state() as data:
        return _current(st.owned(data, server_id))


@surface.route(
    "POST",
    "/api/servers/<server_id>/token",
    summary="Regenerate the token URL (the old one answers 401)",
    headers=AUTH_HEADERS,
    ok=SERVER,
)
def regenerate_token(server_id: str) -> Any:
    with state() as data:
        server = st.owned(data, server_id)
        server["tokens"][server["token"]]["replaced"] = True
        st.issue(server)
        return _details(server)


@surface.route(
    "DELETE",
    "/api/servers/<server_id>",
    summary="Delete a server (its token URLs answer 401)",
    headers=AUTH_HEADERS,
    ok_status=204,
)
def delete_server(server_id: str) -> Any:
    with state() as data:
        st.owned(data, server_id)["deleted"] = True
    return mcp_session.no_body(204)


def _user(restrictions: dict[str, Any], rid: Any) -> str:
    """The caller's user id, after the private-mode and user-allowlist checks."""
    user = request.headers.get("x-alloy-userid", "").strip()
    if restrictions.get("mode") == "private":
        token = bearer()
        if not user or token is None or st.key_problem(token) is not None:
            raise fail("forbidden_private_mode", id=rid)
    users = restrictions.get("users") or {}
    if users.get("mode") == "allowlist" and user not in users.get("allowedIds", []):
        raise fail("forbidden_user_restricted", id=rid)
    return user or "anonymous"


def _budget(server_id: str, token: str, rid: Any, tool: str | None) -> None:
    """The MCP endpoint's budget, per token URL, answered in the form the rule asks for."""
    wait = st.over_limit(f"mcp:{st.digest(server_id + '/' + token)}")
    if wait is None:
        return
    form = rule("rate_limit").get("retry_after", "seconds")
    if form == "none":
        raise fail("rate_limited_backoff", id=rid)
    if form == "http-date":
        raise fail("rate_limited_http_date", {"retry_after": wait}, id=rid)
    name = "rate_limited_execute_action" if tool == rpc.EXECUTE else "RATE_LIMITED"
    raise fail(name, {"retry_after": wait}, id=rid)


@surface.route(
    "POST",
    "/mcp/<server_id>/<token>",
    summary="MCP (streamable HTTP, JSON answers): initialize, ping, tools/list, tools/call",
    body=rpc.REQUEST_SCHEMA,
    ok=rpc.RESPONSE_SCHEMA,
    public=True,
    headers={**AUTH_HEADERS, "x-redirect-uri": {"type": "string", "format": "uri"}},
)
def mcp(server_id: str, token: str) -> Any:
    """Budget, token URL, restrictions, the MCP transport, then the JSON-RPC message(s)."""
    body = rpc.read()
    rid = rpc.request_id(body)
    _budget(server_id, token, rid, rpc.tool_name(body))
    restrictions = st.token_restrictions(server_id, token, rid)
    user = _user(restrictions, rid)
    url = f"{server_id}/{token}"
    link = mcp_session.check(url, body)
    if mcp_session.is_initialize(body):
        _, params = rpc.parse(body, rid)
        answer, sid = mcp_session.initialize(url, params, rid)
        return answer, 200, {mcp_session.SESSION_HEADER: sid}

    def reply(message: Any) -> Any:
        if mcp_session.accepted_only(message):
            return None
        mid = rpc.request_id(message)
        method, params = rpc.parse(message, mid)
        return rpc.answer(method, params, rpc.Context(mid, user, restrictions))

    batched = isinstance(body, list) and link.session is not None
    answered = mcp_session.batch(body, link, reply) if batched else reply(body)
    return mcp_session.no_body(202) if answered is None else answered


@surface.route(
    "DELETE",
    "/mcp/<server_id>/<token>",
    summary="End the MCP session named by Mcp-Session-Id",
    ok_status=204,
    public=True,
    headers={mcp_session.SESSION_HEADER: {"type": "string", "minLength": 1}},
)
def mcp_end(server_id: str, token: str) -> Any:
    st.token_restrictions(server_id, token, None)
    mcp_session.end(f"{server_id}/{token}")
    return mcp_session.no_body(204)
