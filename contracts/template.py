"""Scenario parameters: ``{{name}}`` placeholders in catalogue headers and bodies.

A string that is exactly one placeholder takes the parameter's value with its type
(``"retry_after": "{{retry_after}}"`` renders as the number 30); a placeholder inside a longer
string is replaced by the value's text. Some names are computed from the others at render
time, so a reset time and an HTTP-date always agree with ``retry_after``. One name comes from the
request itself: ``{{jsonrpc_id}}`` is the JSON-RPC id of the request being answered (``null``
where the body is no JSON-RPC request object or its id is not a string or an integer), so a
JSON-RPC answer echoes the id whichever way it was chosen: a rule, a trigger or a plan.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from email.utils import formatdate
from typing import Any

import orjson

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
#: Names filled from the request being answered, not from the parameters.
REQUEST = ("jsonrpc_id",)
COMPUTED = ("now_epoch", "reset_epoch", "retry_after_http_date", *REQUEST)


def rpc_id(message: Any) -> str | int | None:
    """The id a JSON-RPC answer echoes: a non-empty string or an integer member ``id``, else
    ``None`` (JSON-RPC answers ``null`` when the request's id could not be read)."""
    rid = message.get("id") if isinstance(message, dict) else None
    if isinstance(rid, bool) or not isinstance(rid, (int, str)) or rid == "":
        return None
    return rid


def jsonrpc_id(body: bytes) -> str | int | None:
    """``rpc_id`` of a raw request body; ``None`` for a body that is not JSON."""
    try:
        return rpc_id(orjson.loads(body)) if body else None
    except orjson.JSONDecodeError:
        return None


class _Values(dict[str, Any]):
    """Template values whose request names are read from the body only when a template uses
    them, so answers without ``{{jsonrpc_id}}`` never parse the request."""

    def __init__(self, values: Mapping[str, Any], body: bytes | None) -> None:
        super().__init__(values)
        self.body = body

    def __missing__(self, name: str) -> Any:
        if name != "jsonrpc_id":
            raise KeyError(name)
        self[name] = None if self.body is None else jsonrpc_id(self.body)
        return self[name]


def context(params: Mapping[str, Any], now: float, body: bytes | None = None) -> dict[str, Any]:
    """Parameters plus the values computed from them at ``now`` (epoch seconds) and from the
    request ``body`` being answered (``None``: no request, the id renders as ``null``)."""
    values: dict[str, Any] = _Values(params, body)
    values["now_epoch"] = int(now)
    wait = params.get("retry_after")
    if isinstance(wait, (int, float)) and math.isfinite(wait):
        values["reset_epoch"] = int(now) + max(0, math.ceil(wait))
        # HTTP-date has one-second precision: round up so it never asks for less than the wait.
        values["retry_after_http_date"] = formatdate(math.ceil(now + max(0.0, wait)), usegmt=True)
    return values


def placeholders(value: Any) -> set[str]:
    """Every placeholder name used anywhere in a header map or body."""
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    return set()


def render(value: Any, values: Mapping[str, Any]) -> Any:
    """``value`` with every placeholder replaced from ``values`` (missing names raise KeyError)."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return values[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), value)
    if isinstance(value, Mapping):
        return {k: render(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, values) for v in value]
    return value


def fill_request(value: Any, body: bytes | None) -> Any:
    """``value`` with only the request names (``{{jsonrpc_id}}``) filled in: how a literal
    answer, otherwise sent as written, still echoes the request's JSON-RPC id."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in REQUEST:
            return context({}, 0.0, body)[whole.group(1)]
        return value
    if isinstance(value, Mapping):
        return {k: fill_request(v, body) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_request(v, body) for v in value]
    return value
