"""Small Python clients for the runner's own tests (the broken-client zoo lives in examples/)."""

from __future__ import annotations

import time

import httpx

from faultproof.contracts import Operation
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
