"""faultproof's reference client: a plain httpx client that honours every provider's policy.

Python: ``client(base_url, operation, timeout_s=None) -> Outcome`` (``--client-py
examples.reference_client:client``). Subprocess: ``python -m examples.reference_client`` reads
``FAULTPROOF_BASE_URL``, ``FAULTPROOF_PROVIDER``, ``FAULTPROOF_OPERATION`` and
``FAULTPROOF_TIMEOUT_S`` and prints the outcome JSON as its last line (DESIGN.md, "The client
adapter protocol").

What it does, all from the provider's catalogue (``faultproof.contracts``):

- retries the policy's retryable statuses and transport failures, at most ``max_attempts``
  attempts, but never repeats a non-idempotent request after an answer that may mean it was
  processed (a 5xx, a timeout, a dropped connection, a truncated body); a 429, a 408 or a
  refused connection is safe;
- waits what the server names (``Retry-After`` seconds or HTTP-date, AINative's body
  ``retry_after``, Alana's ``X-RateLimit-Reset``), and surfaces the error instead of sleeping
  past ``max_wait_s``; otherwise exponential backoff with upward jitter, never shrinking;
- bounds the whole run by its time limit, counted from its first request as the runner counts
  it: each request gets the time left (and at most the policy's ``timeout_s``), no wait is
  started that would end past the deadline;
- renews an expired credential once after a 401 (``reference_auth``);
- reports errors in the normal form, NDJSON error lines as errors, bodies that are not JSON
  as ``protocol`` failures, and never a partial stream as a success.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from faultproof.contracts import Operation, Provider, default_catalogue
from faultproof.contracts.scenario import IDEMPOTENT_METHODS
from faultproof.contracts.verdict import Outcome

try:  # `python -m examples.reference_client` and `import examples.reference_client`
    from .reference_auth import refresh
    from .reference_http import Reply, attempt, is_ndjson, parse_json
    from .reference_policy import (
        Backoff,
        error_outcome,
        is_idempotent,
        is_rpc_error,
        named_wait,
        retryable_statuses,
    )
except ImportError:  # run as a plain script: `python examples/reference_client.py`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from examples.reference_auth import refresh
    from examples.reference_http import Reply, attempt, is_ndjson, parse_json
    from examples.reference_policy import (
        Backoff,
        error_outcome,
        is_idempotent,
        is_rpc_error,
        named_wait,
        retryable_statuses,
    )

#: Time kept back from the run's limit for reporting and exiting.
MARGIN_S = 0.15
MARGIN_RATIO = 0.02
MAX_MARGIN_S = 1.0
#: A wait must leave at least this much time for the request that follows it.
MIN_REQUEST_S = 0.1


def _margin(budget: float) -> float:
    return min(MAX_MARGIN_S, MARGIN_S + MARGIN_RATIO * budget)


@dataclass
class _Run:
    """One operation driven to its outcome."""

    provider: Provider
    operation: Operation
    deadline: float
    headers: dict[str, str] = field(init=False)
    path: str = field(init=False)
    idempotent: bool = field(init=False)
    retryable: frozenset[int] = field(init=False)
    stream_lines: bool = field(init=False)
    refreshed: bool = False

    def __post_init__(self) -> None:
        self.headers = dict(self.operation.headers)
        self.path = self.operation.path
        self.idempotent = is_idempotent(self.provider, self.operation)
        self.retryable = retryable_statuses(self.provider, self.operation.name)
        self.stream_lines = is_ndjson(self.headers)

    def request_deadline(self) -> float:
        return min(self.deadline, time.monotonic() + self.provider.policy.timeout_s)

    def send(self, http: httpx.Client) -> Reply:
        return attempt(
            http,
            self.operation.method.upper(),
            self.path,
            self.request_deadline(),
            headers=self.headers,
            params=dict(self.operation.query),
            json_body=self.operation.json,
            stream_lines=self.stream_lines,
        )

    def judge(self, reply: Reply) -> tuple[Outcome, str]:
        """The outcome this reply means, and what to do next: ``done``, ``retry``, ``refresh``."""
        if reply.failure is not None:
            outcome = Outcome(ok=False, status=None, transport=reply.failure)
            safe = self.idempotent or not reply.sent
            return outcome, "retry" if safe else "done"
        status = reply.status or 0
        if 200 <= status < 300:
            return self._success(reply, status), "done"
        outcome = error_outcome(self.provider, status, reply.body)
        if status == 401 and not self.refreshed:
            return outcome, "refresh"
        may_repeat = self.idempotent or status < 500
        return outcome, "retry" if status in self.retryable and may_repeat else "done"

    def _success(self, reply: Reply, status: int) -> Outcome:
        if reply.lines is not None or is_ndjson(reply.headers):
            return self._stream(reply, status)
        parsed, document = parse_json(reply.body)
        if not parsed:
            return Outcome(ok=False, status=None, transport="protocol")
        if is_rpc_error(document):
            return error_outcome(self.provider, status, document)
        return Outcome(ok=True, status=status, data=document)

    def _stream(self, reply: Reply, status: int) -> Outcome:
        lines = reply.lines
        if lines is None:  # an NDJSON answer the operation did not ask for: split it now
            lines = []
            for raw in reply.body.splitlines():
                parsed, item = parse_json(raw)
                if not parsed:
                    return Outcome(ok=False, status=None, transport="protocol")
                if raw.strip():
                    lines.append(item)
        errors = [item for item in lines if isinstance(item, dict) and "error" in item]
        if errors:
            return error_outcome(self.provider, status, errors[0])
        if reply.malformed:
            return Outcome(ok=False, status=None, transport="protocol")
        return Outcome(ok=True, status=status, data=lines)

    def renew(self, http: httpx.Client) -> bool:
        """Renew the credential once; True when the request should be repeated with it."""
        self.refreshed = True
        fresh = refresh(http, self.provider, self.headers, self.path, self.request_deadline())
        if fresh is None:
            return False
        self.headers, self.path = fresh
        return True

    def wait_before(self, reply: Reply, retry: int, backoff: Backoff) -> float | None:
        """Seconds to wait before retry number ``retry``, or ``None`` to stop now."""
        policy = self.provider.policy
        named = named_wait(policy, reply) if reply.status is not None else None
        if named is not None and named > policy.max_wait_s:
            return None  # longer than the policy allows: surface the error (caps_retry_after)
        wait = named if named is not None else backoff.wait(retry)
        if time.monotonic() + wait + MIN_REQUEST_S > self.deadline:
            return None
        return wait

    def drive(self, http: httpx.Client) -> Outcome:
        policy = self.provider.policy
        backoff = Backoff(policy)
        attempts = retries = 0
        while True:
            reply = self.send(http)
            attempts += 1
            outcome, step = self.judge(reply)
            if step == "refresh" and attempts < policy.max_attempts and self.renew(http):
                continue
            if step != "retry" or attempts >= policy.max_attempts:
                return outcome
            retries += 1
            wait = self.wait_before(reply, retries, backoff)
            if wait is None:
                return outcome
            time.sleep(wait)


def run(
    base_url: str,
    provider_id: str,
    operation: Operation,
    timeout_s: float | None = None,
    *,
    driver: type[_Run] = _Run,
) -> Outcome:
    """Drive ``operation`` against ``base_url`` for ``provider_id`` within ``timeout_s``.

    ``driver`` is the class that makes the decisions; ``examples/broken_clients.py`` passes
    subclasses with one behaviour changed.
    """
    provider = default_catalogue().provider(provider_id)
    if timeout_s is None:
        env = os.environ.get("FAULTPROOF_TIMEOUT_S")
        timeout_s = float(env) if env else provider.policy.timeout_s
    with httpx.Client(base_url=base_url.rstrip("/"), follow_redirects=False) as http:
        # The run's time counts from its first request (sent right after this), not start-up.
        deadline = time.monotonic() + max(0.0, timeout_s - _margin(timeout_s))
        try:
            return driver(provider, operation, deadline).drive(http)
        except httpx.HTTPError:  # anything the attempt did not classify: no usable answer
            return Outcome(ok=False, status=None, transport="connection")


def client(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """The Python adapter: the provider is the last path segment of ``base_url``."""
    return run(base_url, base_url.rstrip("/").rsplit("/", 1)[-1], operation, timeout_s)


def operation_from_env(data: dict[str, Any]) -> Operation:
    """``FAULTPROOF_OPERATION`` as an ``Operation`` (idempotency is looked up in the catalogue)."""
    return Operation(
        name=str(data.get("name") or ""),
        method=str(data.get("method") or "GET").upper(),
        path=str(data.get("path") or "/"),
        query={str(k): str(v) for k, v in (data.get("query") or {}).items()},
        headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
        json=data.get("json"),
        idempotent=str(data.get("method") or "GET").upper() in IDEMPOTENT_METHODS,
    )


def main() -> int:
    """The subprocess protocol: the outcome JSON is the last line of standard output."""
    base_url = os.environ["FAULTPROOF_BASE_URL"]
    provider_id = os.environ.get("FAULTPROOF_PROVIDER") or base_url.rstrip("/").rsplit("/", 1)[-1]
    operation = operation_from_env(json.loads(os.environ["FAULTPROOF_OPERATION"]))
    limit = os.environ.get("FAULTPROOF_TIMEOUT_S")
    outcome = run(base_url, provider_id, operation, float(limit) if limit else None)
    sys.stdout.write(json.dumps(outcome.to_json()) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
