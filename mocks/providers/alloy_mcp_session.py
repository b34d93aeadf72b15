"""Alloy's MCP endpoint as MCP's streamable HTTP transport: sessions, versions, batches.

The seed shows JSON-RPC tools over ``POST /mcp/{serverId}/{token}``; a real MCP client also
needs the transport around them (the ``mcp_transport`` rule of the catalogue says exactly what
this module does, and which MCP specification text each step follows): ``initialize`` with
protocol-version negotiation and an ``Mcp-Session-Id``, the session and ``MCP-Protocol-Version``
checks on every later request, ``Accept``, 202 for notifications and client responses,
``DELETE`` to end a session, and JSON-RPC batches only at a version that has them. A token URL
never initialized keeps answering plain JSON-RPC, as the seed's own examples call it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Response, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..answers import ScenarioAnswer, render
from ..surface import fail, now, rule, state
from .alloy_tools import invalid

SESSION_HEADER = "Mcp-Session-Id"
VERSION_HEADER = "MCP-Protocol-Version"
SERVER_INFO = {"name": "alloy-mcp", "title": "Alloy MCP server (faultproof mock)", "version": "1"}
INSTRUCTIONS = (
    "Alloy's MCP tools: list them with tools/list, then call get_connector_resources_alloy, "
    "get_credentials_alloy, create_credential_alloy or execute_action_alloy."
)

#: One JSON-RPC message in, its answer out: a JSON-RPC object, or ``None`` for none (202).
Reply = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Link:
    """The transport a request arrived on.

    Attributes:
        session: Its ``Mcp-Session-Id``, or ``None`` for a sessionless request.
        version: The negotiated protocol version, else the one its header names, else the
            rule's assumed version.
    """

    session: str | None
    version: str


def no_body(status: int) -> Response:
    """A 202 or 204 with no body and so no Content-Type (Flask would claim text/html)."""
    response = Response(status=status)
    del response.headers["Content-Type"]
    return response


def is_initialize(message: Any) -> bool:
    return isinstance(message, dict) and message.get("method") == "initialize"


def accepted_only(message: Any) -> bool:
    """A notification (``notifications/*`` without an id) or a client's JSON-RPC response:
    accepted with 202 and no body, as the transport says."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return False
    method = message.get("method")
    if "id" not in message:
        return isinstance(method, str) and method.startswith("notifications/")
    return method is None and ("result" in message or "error" in message)


def _accepts_both() -> None:
    """Session traffic must accept application/json and text/event-stream (wildcards count)."""
    accept = parse_accept_header(request.headers.get("Accept"), MIMEAccept)
    if not (accept["application/json"] and accept["text/event-stream"]):
        raise fail("mcp_not_acceptable")


def _unsupported(version: str, supported: list[str]) -> ScenarioAnswer:
    return fail(
        "mcp_protocol_version_unsupported",
        error__message=f"Bad Request: Unsupported protocol version {version[:100]!r}; "
        f"supported: {', '.join(supported)}",
    )


def check(url: str, body: Any) -> Link:
    """The transport checks of one POST to token URL ``url``, before its JSON-RPC is read."""
    transport = rule("mcp_transport")
    sid = request.headers.get(SESSION_HEADER)
    asked = request.headers.get(VERSION_HEADER)
    if sid is not None or is_initialize(body):
        _accepts_both()
    with state() as data:
        sessions: dict[str, Any] = data.setdefault("mcp_sessions", {})
        if sid is not None:
            found = sessions.get(sid)
            if found is None or found["url"] != url:
                raise fail("mcp_session_not_found")
            if asked is not None and asked != found["version"]:
                raise _unsupported(asked, [found["version"]])
            return Link(sid, found["version"])
        if not is_initialize(body) and any(s["url"] == url for s in sessions.values()):
            raise fail("mcp_session_required")
    if asked is not None and asked not in transport["protocol_versions"]:
        raise _unsupported(asked, transport["protocol_versions"])
    return Link(None, asked or transport["assumed_version"])


def initialize(url: str, params: dict[str, Any], rid: Any) -> tuple[dict[str, Any], str]:
    """The ``initialize`` answer and the new session's id: the client's version if supported,
    else the newest supported one (the lifecycle's negotiation)."""
    offered = params.get("protocolVersion")
    if not isinstance(offered, str) or not isinstance(params.get("capabilities", {}), dict):
        raise invalid(rid, "Invalid params: initialize takes a protocolVersion string", -32602)
    transport = rule("mcp_transport")
    versions = transport["protocol_versions"]
    version = offered if offered in versions else versions[0]
    sid = secrets.token_hex(16)
    with state() as data:
        sessions: dict[str, Any] = data.setdefault("mcp_sessions", {})
        while len(sessions) >= max(1, int(transport["max_sessions"])):
            del sessions[next(iter(sessions))]
        sessions[sid] = {"url": url, "version": version}
    result = {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": SERVER_INFO,
        "instructions": INSTRUCTIONS,
    }
    return {"jsonrpc": "2.0", "id": rid, "result": result}, sid


def end(url: str) -> None:
    """``DELETE``: end the session the request names (400 without one, 404 for an unknown)."""
    sid = request.headers.get(SESSION_HEADER)
    if sid is None:
        raise fail("mcp_session_required")
    with state() as data:
        sessions: dict[str, Any] = data.setdefault("mcp_sessions", {})
        if sid not in sessions or sessions[sid]["url"] != url:
            raise fail("mcp_session_not_found")
        del sessions[sid]


def batch(messages: list[Any], link: Link, reply: Reply) -> Any:
    """A JSON-RPC batch, where the negotiated version has batches: each message answered as
    if alone (an error in its own envelope), notifications and responses not at all."""
    if link.version not in rule("mcp_transport")["batch_versions"]:
        raise invalid(
            None,
            f"Invalid Request: JSON-RPC batches are not part of MCP {link.version}; "
            "send one message per POST",
        )
    if not messages:
        raise invalid(None, "Invalid Request: an empty batch")
    answers = []
    for message in messages:
        if is_initialize(message):
            answers.append(_error(invalid(None, "Invalid Request: initialize cannot be batched")))
            continue
        try:
            answer = reply(message)
        except ScenarioAnswer as error:
            answer = _error(error, message)
        if answer is not None:
            answers.append(answer)
    return answers or None


def tool_error(failure: ScenarioAnswer, rid: Any) -> dict[str, Any]:
    """A tool's failure as MCP's tool execution error (``tool_errors: result``): a result with
    ``isError``, the JSON-RPC error's message as text and its data as structuredContent."""
    error = render(failure, now=now()).get_json()["error"]
    result = {
        "content": [{"type": "text", "text": error["message"]}],
        "structuredContent": {**error.get("data", {}), "message": error["message"]},
        "isError": True,
    }
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def _error(error: ScenarioAnswer, message: Any = None) -> Any:
    """A rule's error as one member of a batch answer (the batch itself answers 200)."""
    return render(error, now=now(), request_body=orjson.dumps(message)).get_json()
