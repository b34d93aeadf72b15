"""requests with urllib3's ``Retry`` mounted on an ``HTTPAdapter``.

Two configurations:

- ``defaults``: ``HTTPAdapter(max_retries=Retry())``, urllib3's defaults (10 retries in total,
  no status list, so only 413/429/503 *with* a Retry-After header are retried; no backoff;
  idempotent methods only);
- ``typical``: the configuration most tutorials show, ``Retry(total=5, backoff_factor=0.5,
  status_forcelist=[429, 500, 502, 503, 504], respect_retry_after_header=True)`` with the
  default ``allowed_methods`` (no POST) and ``raise_on_status`` (exhausted status retries raise
  ``RetryError``, without the response).

``faultproof run --client-py examples.real_clients.requests_urllib3:typical``
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from faultproof.contracts import Operation
from faultproof.contracts.verdict import Outcome

from . import answer, requests_failure, timeout_of, url_of


def _send(retry: Retry, base_url: str, operation: Operation, timeout_s: float | None) -> Outcome:
    adapter = HTTPAdapter(max_retries=retry)
    with requests.Session() as session:
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        try:
            response = session.request(
                operation.method,
                url_of(base_url, operation),
                params=dict(operation.query),
                headers=dict(operation.headers),
                json=operation.json,
                timeout=timeout_of(timeout_s),
            )
        except requests.exceptions.RetryError:
            # Status retries exhausted: urllib3 raises instead of returning the last answer.
            return Outcome(ok=False, status=None)
        except requests.exceptions.RequestException as exc:
            return requests_failure(exc)
        return answer(base_url, operation, response.status_code, response.headers, response.content)


def defaults(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """urllib3's ``Retry()`` at its defaults."""
    return _send(Retry(), base_url, operation, timeout_s)


def typical(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """The tutorial configuration: 5 retries, 0.5 backoff factor, 429 and 5xx."""
    retry = Retry(
        total=5,
        backoff_factor=0.5,
        status_forcelist=[429, 500, 502, 503, 504],
        respect_retry_after_header=True,
    )
    return _send(retry, base_url, operation, timeout_s)
