"""Real retry stacks, configured as their users typically configure them, as faultproof adapters.

Each module wraps one stack (``requests_urllib3``, ``httpx_retries``, ``tenacity_client``,
``stamina_client``, ``backoff_client``) in ``client(base_url, operation, timeout_s=None) ->
Outcome`` callables for ``faultproof run --client-py examples.real_clients.<module>:<callable>``
(the matrix and what it shows: ``examples/REAL_CLIENTS.md``).

The adapters add nothing to the stacks: no token refresh, no NDJSON error detection, no
Retry-After handling that the stack does not do itself, no deadline over the whole run. What is
here is the part every user writes anyway: build the request, pass ``timeout_s`` as the
library's timeout, call ``raise_for_status()`` (or read the status), parse the JSON, and report
what came back in the adapter protocol's terms (DESIGN.md, "The client adapter protocol"):

- a 2xx answer: ``ok`` with the parsed JSON; an NDJSON answer is split into lines the way a
  user iterates a stream, every line kept as data (error lines included); a body that does not
  parse is a ``protocol`` failure, which is what ``response.json()`` raising means;
- any other answer: an error with the provider's normal form of the body;
- an exception from the stack: ``timeout``, ``connection`` or ``protocol`` by its type, or an
  error with no envelope when the stack gave up without handing back the response (urllib3's
  ``raise_on_status`` turns the last 5xx into ``requests.exceptions.RetryError``).

The extra ``real-clients`` installs the stacks: ``pip install -e '.[real-clients]'``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from faultproof.contracts import Operation, default_catalogue
from faultproof.contracts.verdict import Outcome, Transport

NDJSON = "application/x-ndjson"
#: The timeout a user would write when the caller gives none.
DEFAULT_TIMEOUT_S = 30.0


def provider_of(base_url: str) -> str:
    """The provider id: the last path segment of the session-scoped base URL."""
    return base_url.rstrip("/").rsplit("/", 1)[-1]


def url_of(base_url: str, operation: Operation) -> str:
    """The absolute URL of the operation."""
    return base_url.rstrip("/") + operation.path


def timeout_of(timeout_s: float | None) -> float:
    """The library timeout a user passes: the run's time limit, or a common default."""
    return float(timeout_s) if timeout_s else DEFAULT_TIMEOUT_S


def _wants_ndjson(headers: Mapping[str, str]) -> bool:
    return any(
        k.lower() in ("accept", "content-type") and NDJSON in str(v).lower()
        for k, v in headers.items()
    )


def answer(
    base_url: str,
    operation: Operation,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
) -> Outcome:
    """The outcome of an HTTP answer the stack handed back (after its own retries)."""
    if 200 <= status < 300:
        try:
            if _wants_ndjson(headers) or _wants_ndjson(operation.headers):
                data: Any = [json.loads(line) for line in body.splitlines() if line.strip()]
            else:
                data = json.loads(body) if body.strip() else None
        except (ValueError, RecursionError):  # response.json() raised
            return Outcome(ok=False, status=None, transport="protocol")
        return Outcome(ok=True, status=status, data=data)
    return error(base_url, status, body)


def error(base_url: str, status: int | None, body: bytes | str | None) -> Outcome:
    """An error answer in the provider's normal form (DESIGN.md, "Normal form of an error")."""
    if body is None:
        return Outcome(ok=False, status=status)
    normal = default_catalogue().provider(provider_of(base_url)).normal_form.apply(body)
    return Outcome(
        ok=False,
        status=status,
        code=normal.code,
        message=normal.message,
        request_id=normal.request_id,
    )


def transport(kind: Transport) -> Outcome:
    """No usable answer."""
    return Outcome(ok=False, status=None, transport=kind)


def httpx_send(
    http: httpx.Client, base_url: str, operation: Operation, timeout_s: float | None
) -> httpx.Response:
    """One httpx call as a user writes it (retries, if any, live in the transport or a decorator).

    httpx is faultproof's own dependency, so the httpx-based stacks share this without needing
    each other installed.
    """
    return http.request(
        operation.method,
        url_of(base_url, operation),
        params=dict(operation.query),
        headers=dict(operation.headers),
        json=operation.json,
        timeout=timeout_of(timeout_s),
    )


def httpx_failure(exc: httpx.HTTPError) -> Outcome:
    """What an httpx exception (other than a status error) means in the adapter protocol."""
    if isinstance(exc, httpx.TimeoutException):
        return transport("timeout")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.DecodingError)):
        return transport("protocol")
    return transport("connection")


def caused_by_timeout(exc: BaseException) -> bool:
    """Whether a wrapped exception chain (``requests`` -> urllib3) ends in a timeout."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, TimeoutError) or "Timeout" in type(item).__name__:
            return True
        if isinstance(item, BaseException):
            stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None)])
            stack.extend(a for a in item.args if isinstance(a, BaseException))
    return False


__all__ = [
    "answer",
    "caused_by_timeout",
    "error",
    "httpx_failure",
    "httpx_send",
    "provider_of",
    "timeout_of",
    "transport",
    "url_of",
]


def send_raising(
    http: httpx.Client, base_url: str, operation: Operation, timeout_s: float | None
) -> httpx.Response:
    """One call that raises on an error status, for retry decorators that act on exceptions."""
    response = httpx_send(http, base_url, operation, timeout_s)
    response.raise_for_status()
    return response


def outcome_of_raising(
    fetch: Any, base_url: str, operation: Operation, timeout_s: float | None
) -> Outcome:
    """Run a retry-wrapped ``send_raising``; its result or last exception as an outcome."""
    with httpx.Client() as http:
        try:
            response = fetch(http, base_url, operation, timeout_s)
        except httpx.HTTPStatusError as exc:
            return error(base_url, exc.response.status_code, exc.response.content)
        except httpx.HTTPError as exc:
            return httpx_failure(exc)
    return answer(base_url, operation, response.status_code, response.headers, response.content)


def requests_failure(exc: Exception) -> Outcome:
    """A requests transport exception as an outcome (requests is imported only by its users)."""
    import requests

    if isinstance(exc, requests.exceptions.Timeout):
        return transport("timeout")
    if isinstance(
        exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
    ):
        return transport("protocol")
    return transport("timeout" if caused_by_timeout(exc) else "connection")
