"""The request journal: one entry per request.

A request that may take time (a view, a fault) is journaled as it arrives (``arrival``, kept in
flight by ``Store.begin``) and completed in place once answered (``answered``); a canned answer
is rendered before its first byte leaves, so it is written once, complete (``entry``).

Entries carry what a judge needs (DESIGN.md): ``seq``, ``received_at``, ``responded_at``,
``method``, ``path``, ``query``, ``headers``, ``body``, ``status``, ``scenario``,
``retry_after_s``. Credentials never reach it: ``arrival`` passes headers, query, body and path
through the provider's ``Redaction`` (``faultproof.contracts.redaction``), which turns them into
``[redacted:<8 hex>]``, a fingerprint that shows whether a client changed its token (after a
refresh) without revealing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from faultproof.contracts.redaction import GENERIC, Redaction, fingerprint
from faultproof.contracts.traffic import HeaderLookup, named_wait

BODY_LIMIT = 16 * 1024
#: The two request headers WSGI keeps outside ``HTTP_*`` (werkzeug's ``EnvironHeaders`` rule).
_BARE = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}
_SHADOWED = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"})


@lru_cache(maxsize=1024)
def _header_name(key: str) -> str:
    return key[5:].replace("_", "-").title()


def request_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """``dict(request.headers)`` from the WSGI environ: the same names, order and values as
    werkzeug's ``EnvironHeaders``, without building a request (the fast path has none)."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            if key not in _SHADOWED:
                headers[_header_name(key)] = value
        elif key in _BARE and value:
            headers[_BARE[key]] = value
    return headers


def body_text(raw: bytes) -> str | None:
    if not raw:
        return None
    clipped = raw[:BODY_LIMIT]
    text = clipped.decode("utf-8", "replace")
    return text + (f"... [{len(raw) - BODY_LIMIT} more bytes]" if len(raw) > BODY_LIMIT else "")


def arrival(
    *,
    provider: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    received_at: float,
    scenario: str | None = None,
    redaction: Redaction = GENERIC,
) -> dict[str, Any]:
    """The entry of a request that has no answer yet (``Store.begin`` marks it in flight),
    its secrets as fingerprints."""
    return {
        "received_at": received_at,
        "responded_at": None,
        "provider": provider,
        "method": method,
        "path": redaction.path(path),
        "query": redaction.query(query, path),
        "headers": redaction.headers(headers, path),
        "body": body_text(redaction.body(body, path)),
        "status": None,
        "scenario": scenario,
        "retry_after_s": None,
    }


def answered(
    arrived: Mapping[str, Any],
    *,
    responded_at: float,
    status: int | None,
    scenario: str | None,
    response_headers: HeaderLookup,
    response_body: bytes | None = None,
) -> dict[str, Any]:
    """``arrived`` completed with what the request got (the same keys, in the same order)."""
    return {
        **arrived,
        "responded_at": responded_at,
        "status": status,
        "scenario": scenario,
        "retry_after_s": named_wait(response_headers, response_body, responded_at),
    }


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
    response_headers: HeaderLookup,
    response_body: bytes | None = None,
    redaction: Redaction = GENERIC,
) -> dict[str, Any]:
    """A journal entry for one request and what it got, written at once."""
    request = arrival(
        provider=provider,
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        received_at=received_at,
        redaction=redaction,
    )
    return answered(
        request,
        responded_at=responded_at,
        status=status,
        scenario=scenario,
        response_headers=response_headers,
        response_body=response_body,
    )


__all__ = [
    "answered",
    "arrival",
    "body_text",
    "entry",
    "fingerprint",
    "named_wait",
    "request_headers",
]
