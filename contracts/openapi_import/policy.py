"""The client policy of an imported provider, and how each scenario grades a client.

OpenAPI has no place for a retry policy, so every value is assumed, with the reason, and
the checks that rest on one warn instead of failing. The exception: a response that
documents ``Retry-After`` or ``X-RateLimit-Reset`` says where the wait comes from.
"""

from __future__ import annotations

from typing import Any

from .scenarios import Found

RETRYABLE = [408, 429, 500, 502, 503, 504]
MAX_ATTEMPTS = 3
MAX_WAIT_S = 60
LONG_WAIT_S = 120
GENERIC = (
    "the document states no retry policy (OpenAPI has no place for one); this is faultproof's "
    "generic policy for HTTP APIs"
)
REASONS = {
    "retryable_statuses": f"{GENERIC}: the statuses RFC 9110 marks as transient, 408, 429, "
    "500, 502, 503 and 504",
    "max_attempts": f"{GENERIC}: {MAX_ATTEMPTS} attempts in all",
    "min_wait_s": f"{GENERIC}: the first backoff less its jitter",
    "max_wait_s": f"{GENERIC}: a wait above a minute is capped or surfaced",
    "backoff": f"{GENERIC}: exponential, 0.5 s doubling to 8 s, 20 % jitter",
    "wait_sources": "no response of the document names a wait (Retry-After, X-RateLimit-Reset)",
    "timeout_s": f"{GENERIC}: 10 s without an answer",
}
WAIT_SOURCES = {"retry-after": "retry_after_header", "x-ratelimit-reset": "x_ratelimit_reset"}


def client_policy(found: list[Found], quote_of: Any) -> dict[str, Any]:
    """The policy; ``quote_of(pointer)`` is the text of a documented header."""
    waits: dict[str, str] = {}
    for item in found:
        if item.status in RETRYABLE:
            for header, pointer in item.waits:
                waits.setdefault(WAIT_SOURCES[header], pointer)
    sources: dict[str, Any] = {k: {"kind": "assumed", "reason": v} for k, v in REASONS.items()}
    if waits:
        first = next(iter(waits.values()))
        sources["wait_sources"] = {
            "kind": "documented",
            "pointer": first,
            "quote": quote_of(first),
            "assumptions": [
                "that a client waits as long as the header says is its meaning in RFC 9110 "
                "and RFC 6585, not the document's words"
            ],
        }
    return {
        "retryable_statuses": RETRYABLE,
        "max_attempts": MAX_ATTEMPTS,
        "min_wait_s": 0.4,
        "max_wait_s": MAX_WAIT_S,
        "backoff": {"initial_s": 0.5, "multiplier": 2.0, "max_s": 8.0, "jitter_ratio": 0.2},
        "wait_sources": list(waits),
        "timeout_s": 10,
        "sources": sources,
    }


def checks(item: Found, idempotent: bool) -> list[str]:
    """What a scenario grades: a stop on a final answer, retries on a transient one."""
    first = "parses_envelope" if item.content_type.endswith("json") else "handles_non_json"
    if item.status not in RETRYABLE:
        return [first, "stops_on_non_retryable"]
    if not idempotent and item.status != 429:
        return [first, "safe_retries"]
    if item.params.get("retry_after", 0) > MAX_WAIT_S:
        return [first, "caps_retry_after", "bounded_attempts"]
    wait = "honours_retry_after" if item.waits else "backs_off"
    return [first, "retries_retryable", wait, "bounded_attempts", "recovers"]


def expectation(item: Found, idempotent: bool, message: str | None) -> str:
    said = f" ({message!r})" if message else ""
    if item.status not in RETRYABLE:
        return f"Do not retry a {item.status}{said}: report it to the caller with its message."
    if not idempotent and item.status != 429:
        return (
            f"Do not repeat the non-idempotent request after a {item.status}{said}: it may "
            "have been processed."
        )
    wait = "the wait the answer names" if item.waits else "a backoff"
    return f"Retry the {item.status} after {wait}, at most {MAX_ATTEMPTS} attempts in all."
