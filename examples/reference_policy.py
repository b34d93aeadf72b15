"""The reference client's decisions, from the provider's catalogue: what to retry, how long to wait.

Everything here reads ``faultproof.contracts`` data (the client policy, the operations, the
normal form); nothing here does I/O, so each rule is testable on its own.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from faultproof.contracts import ClientPolicy, Operation, Provider, parse_retry_after
from faultproof.contracts.scenario import IDEMPOTENT_METHODS
from faultproof.contracts.verdict import Outcome

from .reference_http import Reply, parse_json


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value by case-insensitive name."""
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def is_idempotent(provider: Provider, operation: Operation) -> bool:
    """Whether repeating ``operation`` is harmless.

    An ``Idempotency-Key`` makes any request safe. Otherwise the catalogue's operation of that
    name (same method and path) says; then the catalogue's operations with that method and path,
    if they agree; else the HTTP method (a POST or PATCH of unknown effect is not repeated).
    """
    if header(operation.headers, "Idempotency-Key"):
        return True
    method = operation.method.upper()
    known = provider.operations.get(operation.name)
    if known is not None and (known.method.upper(), known.path) == (method, operation.path):
        return known.idempotent
    same = {
        o.idempotent
        for o in provider.operations.values()
        if (o.method.upper(), o.path) == (method, operation.path)
    }
    if same:
        return same == {True}
    return method in IDEMPOTENT_METHODS and operation.idempotent


def retryable_statuses(provider: Provider, operation_name: str) -> frozenset[int]:
    """The policy's retryable statuses, with the departures the catalogue names per operation.

    AIronClaw asks for one more look after a 404 on a read right after a create, and not to
    repeat a rate-limited 2FA challenge: the scenarios of that operation carry the departure
    (``retryable`` against the policy). Token expiry is handled by a refresh, not a retry.
    """
    statuses = set(provider.policy.retryable_statuses)
    for scenario in provider.scenarios.values():
        if (
            scenario.operation != operation_name
            or scenario.kind != "error"
            or scenario.status is None
            or "refreshes_token" in scenario.checks
        ):
            continue
        if scenario.retryable:
            statuses.add(scenario.status)
        else:
            statuses.discard(scenario.status)
    return frozenset(statuses)


def _seconds(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    return parse_retry_after(str(value)).seconds


def _epoch(value: str | None) -> float | None:
    """An epoch-seconds header value (``X-RateLimit-Reset``), or ``None`` when it is not one."""
    try:
        moment = float(value) if value is not None else None
    except ValueError:
        return None
    return moment if moment is not None and math.isfinite(moment) and moment >= 0 else None


def named_wait(policy: ClientPolicy, reply: Reply) -> float | None:
    """The wait the server named, from the policy's sources in order; ``None``: use backoff.

    An invalid value (negative, garbage, a date without a zone) names nothing. Alana's
    ``X-RateLimit-Reset`` (epoch seconds) comes on every response, so it names a wait only on
    a 429 whose budget is spent.
    """
    for source in policy.wait_sources:
        seconds: float | None = None
        if source == "retry_after_header":
            seconds = _seconds(reply.headers.get("Retry-After"))
        elif source == "body_retry_after":
            parsed, body = parse_json(reply.body)
            if parsed and isinstance(body, dict):
                seconds = _seconds(body.get("retry_after"))
        elif source == "x_ratelimit_reset" and reply.status == 429:
            remaining = reply.headers.get("X-RateLimit-Remaining")
            reset = _epoch(reply.headers.get("X-RateLimit-Reset"))
            if reset is not None and remaining in (None, "0"):
                seconds = max(0.0, reset - time.time())
        if seconds is not None:
            return seconds
    return None


@dataclass
class Backoff:
    """Exponential backoff with upward jitter: never below nominal, never shrinking."""

    policy: ClientPolicy
    rng: random.Random = field(default_factory=random.Random)
    last: float = 0.0

    def wait(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1 = the first retry)."""
        backoff = self.policy.backoff
        jittered = backoff.nominal(retry) * self.rng.uniform(1.0, 1.0 + backoff.jitter_ratio)
        wait = max(jittered, self.policy.min_wait_s, self.last)
        wait = min(wait, max(self.policy.max_wait_s, self.last))
        self.last = wait
        return wait


def error_outcome(provider: Provider, status: int | None, document: Any) -> Outcome:
    """The DESIGN.md error outcome: the normal form of the body (nulls for a non-JSON body)."""
    normal = provider.normal_form.apply(document)
    return Outcome(
        ok=False,
        status=status,
        code=normal.code,
        message=normal.message,
        request_id=normal.request_id,
    )


def is_rpc_error(document: Any) -> bool:
    """A JSON-RPC 2.0 answer that carries an ``error`` member (an error whatever the status)."""
    return isinstance(document, dict) and "jsonrpc" in document and "error" in document
