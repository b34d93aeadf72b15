"""httpx with httpx-retries' ``RetryTransport``, as its README shows.

- ``client``: the README's configured example, ``RetryTransport(retry=Retry(total=5,
  backoff_factor=0.5))``: 429/502/503/504 (not 500) on idempotent methods, Retry-After honoured
  (seconds and HTTP-dates, capped at 120 s), full-jitter backoff otherwise;
- ``defaults``: the README's first example, ``RetryTransport()``: ``Retry()`` with 10 retries and
  no backoff (a retry goes out at once unless the server names a wait).

``faultproof run --client-py examples.real_clients.httpx_retries:client``
"""

from __future__ import annotations

import httpx
from httpx_retries import Retry, RetryTransport

from faultproof.contracts import Operation
from faultproof.contracts.verdict import Outcome

from . import answer, httpx_failure, httpx_send


def _run(retry: Retry, base_url: str, operation: Operation, timeout_s: float | None) -> Outcome:
    with httpx.Client(transport=RetryTransport(retry=retry)) as http:
        try:
            response = httpx_send(http, base_url, operation, timeout_s)
        except httpx.HTTPError as exc:
            return httpx_failure(exc)
    return answer(base_url, operation, response.status_code, response.headers, response.content)


def client(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """The README's configured transport: ``Retry(total=5, backoff_factor=0.5)``."""
    return _run(Retry(total=5, backoff_factor=0.5), base_url, operation, timeout_s)


def defaults(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """``RetryTransport()`` at its defaults."""
    return _run(Retry(), base_url, operation, timeout_s)
