"""requests with ``backoff.on_exception(backoff.expo, ...)``, as backoff's README shows it.

``backoff.expo`` (1, 2, 4, 8 s before jitter) with backoff's default ``full_jitter`` (each wait
drawn from zero to its nominal value), ``max_tries=5``, retrying any
``requests.exceptions.RequestException`` (``raise_for_status()`` raises ``HTTPError``) unless
the README's ``fatal_code`` gives up: every 4xx, 429 included. The README's ``fatal_code``
reads ``e.response.status_code`` unguarded, which raises ``AttributeError`` on a connection
error (no response); the guard below is the one-line fix a user adds. A plain ``requests``
session underneath: no urllib3 retries, ``timeout`` per request.

``faultproof run --client-py examples.real_clients.backoff_client:client``
"""

from __future__ import annotations

import backoff
import requests

from faultproof.contracts import Operation
from faultproof.contracts.verdict import Outcome

from . import answer, error, requests_failure, timeout_of, url_of


def fatal_code(e: requests.exceptions.RequestException) -> bool:
    """The README's give-up rule (4xx is fatal), guarded for exceptions without a response."""
    return e.response is not None and 400 <= e.response.status_code < 500


@backoff.on_exception(
    backoff.expo, requests.exceptions.RequestException, max_tries=5, giveup=fatal_code
)
def fetch(
    session: requests.Session, base_url: str, operation: Operation, timeout_s: float | None
) -> requests.Response:
    """One call; a status error raises so that backoff sees it."""
    response = session.request(
        operation.method,
        url_of(base_url, operation),
        params=dict(operation.query),
        headers=dict(operation.headers),
        json=operation.json,
        timeout=timeout_of(timeout_s),
    )
    response.raise_for_status()
    return response


def client(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """The backoff-wrapped call, its result or last exception as an outcome."""
    with requests.Session() as session:
        try:
            response = fetch(session, base_url, operation, timeout_s)
        except requests.exceptions.HTTPError as exc:
            if exc.response is None:
                return Outcome(ok=False, status=None)
            return error(base_url, exc.response.status_code, exc.response.content)
        except requests.exceptions.RequestException as exc:
            return requests_failure(exc)
    return answer(base_url, operation, response.status_code, response.headers, response.content)
