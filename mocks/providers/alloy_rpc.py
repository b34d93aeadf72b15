"""Alloy's MCP endpoint: the JSON-RPC 2.0 envelope (seed 000, "Validate your request format").

Every answer echoes the request's ``id`` when it could be read; the tools are in ``alloy_tools``,
the MCP transport around them (``initialize``, sessions, batches) in ``alloy_mcp_session``.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import abort, request

from faultproof.contracts.template import rpc_id

from ..answers import ScenarioAnswer
from ..surface import fail, rule
from .alloy_mcp_session import tool_error
from .alloy_tools import EXECUTE, HANDLERS, TOOLS, Context, args_schema, invalid, validate

__all__ = ["EXECUTE", "Context", "answer", "parse", "read", "request_id", "tool_name"]

UNPARSEABLE = object()
METHODS = ("initialize", "ping", "tools/list", "tools/call")
MAX_BODY_BYTES = 1 << 20
REQUEST_ID = {"oneOf": [{"type": "string", "minLength": 1}, {"type": "integer"}]}


REQUEST_SCHEMA = {
    "oneOf": [
        args_schema(
            ["jsonrpc", "method", "params", "id"],
            jsonrpc={"const": "2.0"},
            method={"const": "initialize"},
            id=REQUEST_ID,
            params={
                "type": "object",
                "required": ["protocolVersion", "capabilities", "clientInfo"],
                "properties": {
                    "protocolVersion": {"type": "string"},
                    "capabilities": {"type": "object"},
                    "clientInfo": {"type": "object"},
                },
            },
        ),
        args_schema(
            ["jsonrpc", "method", "id"],
            jsonrpc={"const": "2.0"},
            method={"const": "ping"},
            id=REQUEST_ID,
            params={"type": "object"},
        ),
        args_schema(
            ["jsonrpc", "method", "id"],
            jsonrpc={"const": "2.0"},
            method={"const": "tools/list"},
            id=REQUEST_ID,
            params={"type": "object"},
        ),
        *[
            args_schema(
                ["jsonrpc", "method", "params", "id"],
                jsonrpc={"const": "2.0"},
                method={"const": "tools/call"},
                id=REQUEST_ID,
                params=args_schema(["name", "arguments"], name={"const": name}, arguments=schema),
            )
            for name, (_, schema) in TOOLS.items()
        ],
    ]
}
RESPONSE_SCHEMA = args_schema(
    ["jsonrpc", "result", "id"], jsonrpc={"const": "2.0"}, id=REQUEST_ID, result={"type": "object"}
)


def read() -> Any:
    """The body parsed as JSON whatever its Content-Type, or ``UNPARSEABLE``; 413 past 1 MiB."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        abort(413)
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        abort(413)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return UNPARSEABLE


def request_id(body: Any) -> str | int | None:
    """The id to echo, read as the catalogue's ``{{jsonrpc_id}}`` reads it."""
    return rpc_id(body)


def tool_name(body: Any) -> str | None:
    params = body.get("params") if isinstance(body, dict) else None
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None


def parse(body: Any, rid: Any) -> tuple[str, dict[str, Any]]:
    """``(method, params)`` of a valid request; any other body raises its INVALID_REQUEST answer."""
    if not request.mimetype or not request.mimetype.endswith("json"):
        raise invalid(rid, "Malformed request: Content-Type must be application/json")
    if body is UNPARSEABLE:
        raise fail("jsonrpc_parse_error")
    if not isinstance(body, dict):
        raise fail("INVALID_REQUEST")
    if body.get("jsonrpc") != "2.0":
        raise fail("jsonrpc_version_missing", id=rid)
    if rid is None:
        raise invalid(None, "Invalid Request: id must be a non-empty string or an integer")
    unknown = sorted(set(body) - {"jsonrpc", "method", "params", "id"})
    if unknown:
        raise invalid(rid, f"Invalid Request: unknown members {', '.join(unknown)[:200]}")
    method = body.get("method")
    if not isinstance(method, str):
        raise invalid(rid, "Invalid Request: method must be a string")
    if method not in METHODS:
        raise fail("jsonrpc_method_not_found", id=rid, error__data__method=method[:200])
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise invalid(rid, "Invalid Request: params must be an object")
    return method, params


def answer(method: str, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """The JSON-RPC success answer of a parsed request (``initialize`` opens a session in
    ``alloy_mcp_session`` instead)."""
    if method == "ping":
        return {"jsonrpc": "2.0", "id": ctx.rid, "result": {}}
    if method == "tools/list":
        tools = [{"name": n, "description": d, "inputSchema": s} for n, (d, s) in TOOLS.items()]
        return {"jsonrpc": "2.0", "id": ctx.rid, "result": {"tools": tools}}
    name, arguments = params.get("name"), params.get("arguments", {})
    if not isinstance(name, str) or name not in TOOLS:
        raise invalid(
            ctx.rid, f"Unknown tool: {str(name)[:200]}; tools: {', '.join(TOOLS)}", -32602
        )
    if set(params) - {"name", "arguments", "_meta"} or not isinstance(arguments, dict):
        raise invalid(
            ctx.rid, "Invalid params: tools/call takes name and an arguments object", -32602
        )
    validate(TOOLS[name][1], arguments, ctx.rid, f"arguments of {name}")
    try:
        structured = HANDLERS[name](arguments, ctx)
    except ScenarioAnswer as failure:
        if rule("mcp_transport")["tool_errors"] != "result":
            raise
        return tool_error(failure, ctx.rid)
    text = orjson.dumps(structured).decode()
    result = {
        "content": [{"type": "text", "text": text}],
        "structuredContent": structured,
        "isError": False,
    }
    return {"jsonrpc": "2.0", "id": ctx.rid, "result": result}
