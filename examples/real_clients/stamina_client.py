"""httpx with ``stamina.retry``, as stamina's tutorial shows it.

A backoff hook retries server errors (5xx), 429 and transport errors, never other 4xx;
``attempts=3`` as in the tutorial, stamina's defaults otherwise (45 s total timeout, first wait
0.1 s plus up to 1 s of jitter, doubling, at most 5 s). The hook returns ``True`` (stamina's own
backoff), not a Retry-After value: stamina can take a wait from the hook, but only when the user
writes that code. stamina's test mode (``stamina.set_testing``) is never enabled here.

``faultproof run --client-py examples.real_clients.stamina_client:client``
"""

from __future__ import annotations

import httpx
import stamina

from faultproof.contracts import Operation
from faultproof.contracts.verdict import Outcome

from . import outcome_of_raising, send_raising


def retry_on_real_errors(exc: Exception) -> bool:
    """The tutorial's hook, with 429 added: retry 5xx, 429 and transport errors."""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return status >= 500 or status == 429
    return isinstance(exc, httpx.TransportError)


fetch = stamina.retry(on=retry_on_real_errors, attempts=3)(send_raising)


def client(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """The stamina-wrapped call, its result or last exception as an outcome."""
    return outcome_of_raising(fetch, base_url, operation, timeout_s)
