"""The official ``mcp`` SDK client, ``mcp.Client`` over streamable HTTP at its defaults, on
Alloy's MCP endpoint.

``faultproof run --client-py examples.real_clients.mcp_sdk:client --provider alloy``

The operation's JSON-RPC body says what a user's code would call: ``tools/list`` is
``list_tools()``, ``tools/call`` is ``call_tool(name, arguments)``. The SDK does the rest as it
does for any MCP server: ``initialize`` (``mode="legacy"``, the handshake without the 2026
``server/discover`` probe, which would spend a plan step on a probe no user asked for),
``notifications/initialized``, the call, and ``DELETE`` to end its session. It retries
nothing; an ``MCPError`` keeps the JSON-RPC error (code, message, data), read back into the
provider's normal form, with the HTTP status of the last answer; a result with ``isError`` is
an error with its text. The operation's headers (``Authorization``, ``x-alloy-userid``,
``x-redirect-uri``) go on every request, as a user configures the SDK's HTTP client. An
operation that is not JSON-RPC (Alloy's REST ``GET /api/servers/{id}``) is no MCP call: it
goes through httpx, as a user's own code would send it.

The ``test`` extra installs the SDK: ``pip install 'mcp>=2.3'``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import httpx2
import mcp
from mcp.client.streamable_http import streamable_http_client

from faultproof.contracts import Operation
from faultproof.contracts.verdict import Outcome

from . import answer as http_answer
from . import error, httpx_failure, httpx_send, timeout_of, transport, url_of
from .sdk import transport_kind


def client(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """The operation through ``mcp.Client`` (JSON-RPC) or httpx (REST)."""
    body = operation.json
    if not (isinstance(body, dict) and body.get("method") in ("tools/list", "tools/call")):
        with httpx.Client() as http:
            try:
                response = httpx_send(http, base_url, operation, timeout_s)
            except httpx.HTTPError as exc:
                return httpx_failure(exc)
        return http_answer(
            base_url, operation, response.status_code, response.headers, response.content
        )
    return asyncio.run(_mcp_call(base_url, operation, body, timeout_of(timeout_s)))


async def _mcp_call(
    base_url: str, operation: Operation, body: dict[str, Any], timeout_s: float
) -> Outcome:
    statuses: list[int] = []

    async def seen(response: httpx2.Response) -> None:
        if response.request.method == "POST":
            statuses.append(response.status_code)

    http = httpx2.AsyncClient(
        headers=dict(operation.headers),
        timeout=httpx2.Timeout(timeout_s),
        event_hooks={"response": [seen]},
    )
    url = url_of(base_url, operation)
    try:
        async with (
            http,
            mcp.Client(
                streamable_http_client(url, http_client=http),
                mode="legacy",
                read_timeout_seconds=timeout_s,
            ) as session,
        ):
            if body["method"] == "tools/list":
                listed = await session.list_tools()
                return Outcome(ok=True, status=statuses[-1], data=listed.model_dump(mode="json"))
            params = body.get("params") or {}
            result = await session.call_tool(params.get("name"), params.get("arguments") or {})
    except Exception as raised:  # the SDK's task group wraps what it raises in ExceptionGroups
        exc = _leaf(raised)
        if isinstance(exc, mcp.MCPError):
            envelope = {"jsonrpc": "2.0", "error": exc.error.model_dump(mode="json"), "id": None}
            return error(base_url, statuses[-1] if statuses else None, json.dumps(envelope))
        if isinstance(exc, (httpx2.HTTPError, OSError)):
            return transport(transport_kind(exc))
        raise
    data = result.model_dump(mode="json", by_alias=True)
    if result.is_error:
        text = " ".join(c.get("text", "") for c in data.get("content", []))
        return Outcome(ok=False, status=statuses[-1], message=text or None)
    return Outcome(ok=True, status=statuses[-1], data=data)


def _leaf(exc: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups: what the SDK really raised."""
    inner = getattr(exc, "exceptions", None)  # BaseExceptionGroup, or its 3.10 backport
    while isinstance(inner, tuple) and inner and isinstance(inner[0], BaseException):
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    return exc
