"""httpx with tenacity's ``@retry``, the recipe its docs and most blog posts show.

``wait_exponential(multiplier=1, min=1, max=30)`` (1, 2, 4, 8 s), ``stop_after_attempt(5)``,
``retry_if_exception_type`` on HTTP status errors (``raise_for_status()``) and transport errors,
``reraise=True`` so the caller gets the last ``HTTPStatusError`` and its response. tenacity
knows nothing about HTTP: every status error is retried (404 included), every method is retried
(POST included), and Retry-After is not read.

``faultproof run --client-py examples.real_clients.tenacity_client:client``
"""

from __future__ import annotations

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from faultproof.contracts import Operation
from faultproof.contracts.verdict import Outcome

from . import outcome_of_raising, send_raising

fetch = retry(
    retry=retry_if_exception_type((httpx.HTTPStatusError, httpx.TransportError)),
    wait=wait_exponential(multiplier=1, min=1, max=30),
    stop=stop_after_attempt(5),
    reraise=True,
)(send_raising)


def client(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """The tenacity-wrapped call, its result or last exception as an outcome."""
    return outcome_of_raising(fetch, base_url, operation, timeout_s)
