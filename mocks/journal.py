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
    redact_path: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """A journal entry for one request and what it got."""
    retry_after = response_headers.get("Retry-After")
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
        "retry_after_s": parse_retry_after(retry_after, now=responded_at).seconds
        if retry_after
        else None,
    }
