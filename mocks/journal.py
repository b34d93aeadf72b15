"""The request journal: one entry per request, written at one place (the app's ``_finish``).

Entries carry what a judge needs (DESIGN.md): ``seq``, ``received_at``, ``responded_at``,
``method``, ``path``, ``query``, ``headers``, ``body``, ``status``, ``scenario``,
``retry_after_s``. Credentials never reach it: secret headers and secrets inside paths (Alloy's
``/mcp/{serverId}/{token}``) become ``[redacted:<8 hex>]``, a fingerprint that shows whether a
client changed its token (after a refresh) without revealing it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from werkzeug.datastructures import Headers

from faultproof.contracts import parse_retry_after

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "cookie",
        "set-cookie",
        "x-faultproof-token",
    }
)
BODY_LIMIT = 16 * 1024


def fingerprint(secret: str) -> str:
    return f"[redacted:{hashlib.sha256(secret.encode()).hexdigest()[:8]}]"


def redact_header(name: str, value: str) -> str:
    """A secret header's value as scheme plus fingerprint (``Bearer [redacted:1a2b3c4d]``)."""
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, space, rest = value.partition(" ")
    if space and scheme.lower() in ("bearer", "basic", "token"):
        return f"{scheme} {fingerprint(rest)}"
    return fingerprint(value)


def body_text(raw: bytes) -> str | None:
    if not raw:
        return None
    clipped = raw[:BODY_LIMIT]
    text = clipped.decode("utf-8", "replace")
    return text + (f"... [{len(raw) - BODY_LIMIT} more bytes]" if len(raw) > BODY_LIMIT else "")


def named_wait(headers: Mapping[str, str] | Headers, body: bytes | None, at: float) -> float | None:
    """The wait an answer asked for, wherever it said it (DESIGN.md's wait sources, in order).

    ``Retry-After`` (seconds or HTTP-date), else a numeric ``retry_after`` in a JSON body
    (AINative), else ``X-RateLimit-Reset`` epoch seconds when ``X-RateLimit-Remaining`` is 0
    (Alana's rate-limit headers, which every answer carries).
    """
    header = headers.get("Retry-After")
    if header:
        return parse_retry_after(header, now=at).seconds
    if body and body[:1] == b"{" and b"retry_after" in body:
        try:
            value = orjson.loads(body).get("retry_after")
        except (orjson.JSONDecodeError, AttributeError):
            value = None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return float(value)
    reset, remaining = headers.get("X-RateLimit-Reset"), headers.get("X-RateLimit-Remaining")
    if reset and remaining == "0":
        try:
            return max(0.0, float(reset) - at)
        except ValueError:
            return None
    return None


def entry(
    *,
    provider: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    received_at: float,
    responded_at: float,
    status: int | None,
    scenario: str | None,
    response_headers: Mapping[str, str] | Headers,
    response_body: bytes | None = None,
    redact_path: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """A journal entry for one request and what it got."""
    return {
        "received_at": received_at,
        "responded_at": responded_at,
        "provider": provider,
        "method": method,
        "path": redact_path(path) if redact_path else path,
        "query": dict(query),
        "headers": {k: redact_header(k, v) for k, v in headers.items()},
        "body": body_text(body),
        "status": status,
        "scenario": scenario,
        "retry_after_s": named_wait(response_headers, response_body, responded_at),
    }
