"""What an exchange on the wire says, read the same way by the mock's journal and the judge.

Both the journal (``faultproof.mocks.journal``) and ``faultproof judge`` reading captured traffic
need the wait an answer named, wherever it named it (credentials are ``redaction.py``'s).
Living here, without Flask, both use one definition.
"""

from __future__ import annotations

from typing import Protocol

import orjson

from .retry_after import parse_retry_after


class HeaderLookup(Protocol):
    """Anything with a case-insensitive ``get`` for header names (werkzeug, httpx headers)."""

    def get(self, key: str) -> str | None: ...


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
