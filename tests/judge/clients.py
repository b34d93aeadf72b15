"""Small Python clients for the runner's own tests (the broken-client zoo lives in examples/)."""

from __future__ import annotations

import time

import httpx

from faultproof.contracts import Operation, default_catalogue
from faultproof.contracts.verdict import Outcome


def naive(base_url: str, operation: Operation) -> Outcome:
    """One request, no retries, no envelope parsing."""
    response = httpx.request(
        operation.method,
        base_url + operation.path,
        params=dict(operation.query),
        headers=dict(operation.headers),
        json=operation.json,
        timeout=10,
    )
    if response.is_success:
        return Outcome(ok=True, status=response.status_code, data=response.json())
    return Outcome(ok=False, status=response.status_code)


def crashes(base_url: str, operation: Operation) -> Outcome:
    raise RuntimeError("boom")


def sleeps(base_url: str, operation: Operation, timeout_s: float) -> Outcome:
    time.sleep(timeout_s + 30)
    return Outcome(ok=True)


def returns_garbage(base_url: str, operation: Operation) -> Outcome:
    return "not an outcome"  # type: ignore[return-value]


#: Calls of ``impatient_at_first``, so a test can tell first attempts from reruns.
CALLS = {"impatient_at_first": 0}


def _retrying(base_url: str, operation: Operation, honour_wait: bool) -> Outcome:
    """Up to five attempts; waits the asked Retry-After only when ``honour_wait``."""
    provider = base_url.rstrip("/").rsplit("/", 1)[-1]
    normal_form = default_catalogue().provider(provider).normal_form
    with httpx.Client(base_url=base_url, timeout=10) as http:
        for _ in range(5):
            response = http.request(
                operation.method, operation.path, headers=dict(operation.headers)
            )
            if response.is_success:
                return Outcome(ok=True, status=response.status_code, data=response.json())
            if response.status_code != 429:
                break
            time.sleep(float(response.headers.get("Retry-After", 1)) if honour_wait else 0)
    error = normal_form.apply(response.json())
    return Outcome(False, response.status_code, None, error.code, error.message, error.request_id)


def impatient_at_first(base_url: str, operation: Operation) -> Outcome:
    """Ignores Retry-After on its first two calls (one scenario's runs), honours it after."""
    CALLS["impatient_at_first"] += 1
    return _retrying(base_url, operation, honour_wait=CALLS["impatient_at_first"] > 2)


def impatient(base_url: str, operation: Operation) -> Outcome:
    """Never waits the asked Retry-After."""
    return _retrying(base_url, operation, honour_wait=False)
