"""What an exchange on the wire says, read the same way by the mock's journal and the judge.

Both the journal (``faultproof.mocks.journal``) and ``faultproof judge`` reading captured traffic
need the same two readings: credentials turned into fingerprints (``[redacted:<8 hex>]``, enough
to see that a client changed its token after a refresh without revealing it), and the wait an
answer named, wherever it named it. Living here, without Flask, both use one definition.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import orjson

from .retry_after import parse_retry_after

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


class HeaderLookup(Protocol):
    """Anything with a case-insensitive ``get`` for header names (werkzeug, httpx headers)."""

    def get(self, key: str) -> str | None: ...


def fingerprint(secret: str) -> str:
    """``[redacted:<first 8 hex of its SHA-256>]``: equal secrets, equal fingerprints."""
    return f"[redacted:{hashlib.sha256(secret.encode()).hexdigest()[:8]}]"


def redact_header(name: str, value: str) -> str:
    """A secret header's value as scheme plus fingerprint (``Bearer [redacted:1a2b3c4d]``)."""
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, space, rest = value.partition(" ")
    if space and scheme.lower() in ("bearer", "basic", "token"):
        return f"{scheme} {fingerprint(rest)}"
    return fingerprint(value)


def named_wait(headers: HeaderLookup, body: bytes | None, at: float) -> float | None:
    """The wait an answer asked for, wherever it said it (DESIGN.md's wait sources, in order).

    ``Retry-After`` (seconds or HTTP-date, read at ``at``), else a numeric ``retry_after`` in a
    JSON body (AINative), else ``X-RateLimit-Reset`` epoch seconds when
    ``X-RateLimit-Remaining`` is 0 (Alana's rate-limit headers, which every answer carries).
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
