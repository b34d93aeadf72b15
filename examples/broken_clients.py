"""Deliberately broken clients: the reference client with exactly one behaviour changed.

They are the judge's own test subjects (``tests/judge/test_broken_clients.py``): each must fail
the checks its flaw breaks and pass every other one, which shows that a check catches the bug
it names and blames nothing else. Each is a Python adapter
``name(base_url, operation, timeout_s=None) -> Outcome``, so any of them runs through the CLI::

    faultproof run --client-py examples.broken_clients:ignores_retry_after --provider ainative

Mechanism: the reference client's decisions live in one class (``reference_client._Run``:
``judge`` a reply, ``wait_before`` a retry, ``renew`` a credential, parse a ``_stream``, ...).
Each broken client is a subclass overriding one of them (or one field of the provider's
policy), driven by the reference ``run`` through its ``driver`` parameter. Everything else
(deadline, transport handling, envelope parsing, safe retries, token refresh) stays the
reference's.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from typing import Any

import httpx

from faultproof.contracts import Operation
from faultproof.contracts.verdict import Outcome

from .reference_client import MIN_REQUEST_S, _Run, run
from .reference_http import Reply, is_ndjson, parse_json
from .reference_policy import Backoff, named_wait

#: The statuses DESIGN.md's ``stops_on_non_retryable`` is about.
NON_RETRYABLE = frozenset({400, 401, 403, 404, 409, 422})
#: "No deadline": far enough away that only the runner ends the client.
NO_DEADLINE_S = 1e6


def _drive(
    driver: type[_Run], base_url: str, operation: Operation, timeout_s: float | None
) -> Outcome:
    """The reference adapter's ``client``, with ``driver`` making the decisions."""
    provider_id = base_url.rstrip("/").rsplit("/", 1)[-1]
    return run(base_url, provider_id, operation, timeout_s, driver=driver)


def _with_policy(driver: _Run, **changes: Any) -> None:
    """Give ``driver`` its provider with some client-policy fields replaced."""
    policy = dataclasses.replace(driver.provider.policy, **changes)
    driver.provider = dataclasses.replace(driver.provider, policy=policy)


class _IgnoresRetryAfter(_Run):
    def __post_init__(self) -> None:
        super().__post_init__()
        _with_policy(self, wait_sources=())  # reads no Retry-After, body wait or reset header


class _RetriesNonRetryable(_Run):
    def judge(self, reply: Reply) -> tuple[Outcome, str]:
        outcome, step = super().judge(reply)
        if step == "done" and reply.status in NON_RETRYABLE:
            step = "retry"
        return outcome, step

    def renew(self, http: httpx.Client) -> bool:
        super().renew(http)
        return True  # repeat the 401'd request whether or not a new credential came


class _NeverRetries(_Run):
    def judge(self, reply: Reply) -> tuple[Outcome, str]:
        outcome, step = super().judge(reply)
        return outcome, "done" if step == "retry" else step


class _RetriesForever(_Run):
    def __post_init__(self) -> None:
        super().__post_init__()
        _with_policy(self, max_attempts=sys.maxsize)


class _Immediately(Backoff):
    def wait(self, retry: int) -> float:
        return 0.0


class _NoBackoff(_Run):
    def wait_before(self, reply: Reply, retry: int, backoff: Backoff) -> float | None:
        return super().wait_before(reply, retry, _Immediately(self.provider.policy))


class _NoTimeout(_Run):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.deadline = time.monotonic() + NO_DEADLINE_S

    def request_deadline(self) -> float:
        return self.deadline  # no per-request timeout either


class _CrashesOnNonJson(_Run):
    def judge(self, reply: Reply) -> tuple[Outcome, str]:
        plain = reply.lines is None and not is_ndjson(reply.headers)
        if reply.failure is None and plain and reply.body.strip():
            json.loads(reply.body)  # the flaw: an HTML page or a broken body raises
        return super().judge(reply)


class _MisreadsListDetail(_Run):
    def judge(self, reply: Reply) -> tuple[Outcome, str]:
        outcome, step = super().judge(reply)
        parsed, document = parse_json(reply.body)
        detail = document.get("detail") if parsed and isinstance(document, dict) else None
        if not outcome.ok and isinstance(detail, list):
            outcome = dataclasses.replace(outcome, message=str(detail))
        return outcome, step


class _IgnoresStreamError(_Run):
    def _stream(self, reply: Reply, status: int) -> Outcome:
        outcome = super()._stream(reply, status)
        if outcome.ok or outcome.transport:
            return outcome
        lines = [i for i in reply.lines or [] if not (isinstance(i, dict) and "error" in i)]
        return Outcome(ok=True, status=status, data=lines)


class _HttpDateAsSeconds(_Run):
    def wait_before(self, reply: Reply, retry: int, backoff: Backoff) -> float | None:
        raw = reply.headers.get("Retry-After") if reply.status is not None else None
        if raw is not None and not raw.strip().isdigit():
            return 0.0  # the flaw: int() failed, so "no wait": retry at once
        return super().wait_before(reply, retry, backoff)


class _RepeatsPostAfter5xx(_Run):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.idempotent = True


class _NoTokenRefresh(_Run):
    def renew(self, http: httpx.Client) -> bool:
        self.refreshed = True
        return False


class _SleepsHugeRetryAfter(_Run):
    def wait_before(self, reply: Reply, retry: int, backoff: Backoff) -> float | None:
        named = named_wait(self.provider.policy, reply) if reply.status is not None else None
        if named is None:
            return super().wait_before(reply, retry, backoff)
        left = self.deadline - time.monotonic() - MIN_REQUEST_S
        return min(named, left) if left > 0 else None  # no cap: only the deadline cuts it


def ignores_retry_after(
    base_url: str, operation: Operation, timeout_s: float | None = None
) -> Outcome:
    """Ignores every server-named wait (Retry-After, AINative's body ``retry_after``, Alana's
    ``X-RateLimit-Reset``) and always waits its own backoff. Caught where the backoff is shorter
    than the asked wait (AINative's 0.3 s) and where a huge wait should be capped."""
    return _drive(_IgnoresRetryAfter, base_url, operation, timeout_s)


def retries_non_retryable(
    base_url: str, operation: Operation, timeout_s: float | None = None
) -> Outcome:
    """Retries 400, 401, 403, 404, 409 and 422 like a 5xx, with backoff up to the attempt bound
    (a 401 is repeated even when no fresh credential came)."""
    return _drive(_RetriesNonRetryable, base_url, operation, timeout_s)


def never_retries(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """Reports the first answer, whatever it is: no retry after a 429, a 5xx or a dropped
    connection (it still renews an expired credential once)."""
    return _drive(_NeverRetries, base_url, operation, timeout_s)


def retries_forever(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """No attempt bound: retries a retryable failure until its deadline, so it still ends."""
    return _drive(_RetriesForever, base_url, operation, timeout_s)


def no_backoff(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """Retries at once when the server names no wait (a named wait is still honoured)."""
    return _drive(_NoBackoff, base_url, operation, timeout_s)


def no_timeout(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """No deadline and no request timeout: waits on a hang or a drip until the runner stops
    it."""
    return _drive(_NoTimeout, base_url, operation, timeout_s)


def crashes_on_non_json(
    base_url: str, operation: Operation, timeout_s: float | None = None
) -> Outcome:
    """Parses every complete non-stream body with ``json.loads`` and raises when it is not JSON
    (a proxy's HTML 502, a plain-text 500, a malformed body)."""
    return _drive(_CrashesOnNonJson, base_url, operation, timeout_s)


def misreads_list_detail(
    base_url: str, operation: Operation, timeout_s: float | None = None
) -> Outcome:
    """Reports AINative's validation ``detail`` list as ``str(list)`` instead of the first
    item's ``msg``."""
    return _drive(_MisreadsListDetail, base_url, operation, timeout_s)


def ignores_stream_error(
    base_url: str, operation: Operation, timeout_s: float | None = None
) -> Outcome:
    """Returns the lines of an NDJSON stream read before Alana's error line as a success."""
    return _drive(_IgnoresStreamError, base_url, operation, timeout_s)


def http_date_as_seconds(
    base_url: str, operation: Operation, timeout_s: float | None = None
) -> Outcome:
    """Reads Retry-After with ``int()``; an HTTP-date does not parse and counts as 0, so it
    retries at once instead of waiting until the date."""
    return _drive(_HttpDateAsSeconds, base_url, operation, timeout_s)


def repeats_post_after_5xx(
    base_url: str, operation: Operation, timeout_s: float | None = None
) -> Outcome:
    """Treats every request as idempotent: repeats a POST without an Idempotency-Key after a
    5xx or a timeout that may mean it was processed."""
    return _drive(_RepeatsPostAfter5xx, base_url, operation, timeout_s)


def no_token_refresh(
    base_url: str, operation: Operation, timeout_s: float | None = None
) -> Outcome:
    """Never renews an expired credential: reports the 401 (a non-retryable answer) at once."""
    return _drive(_NoTokenRefresh, base_url, operation, timeout_s)


def sleeps_huge_retry_after(
    base_url: str, operation: Operation, timeout_s: float | None = None
) -> Outcome:
    """No cap on a server-named wait: sleeps whatever Retry-After asks (bounded only by its own
    deadline), then retries, instead of surfacing a wait longer than the policy's
    ``max_wait_s``."""
    return _drive(_SleepsHugeRetryAfter, base_url, operation, timeout_s)


#: Every broken client of this module, by name (the self-test checks that each is graded).
BROKEN_CLIENTS = (
    "ignores_retry_after",
    "retries_non_retryable",
    "never_retries",
    "retries_forever",
    "no_backoff",
    "no_timeout",
    "crashes_on_non_json",
    "misreads_list_detail",
    "ignores_stream_error",
    "http_date_as_seconds",
    "repeats_post_after_5xx",
    "no_token_refresh",
    "sleeps_huge_retry_after",
)
