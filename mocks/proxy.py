"""The proxy surface (``faultproof proxy``): a provider's real API, forwarded untouched.

Why a surface: triggers, plan steps and injected failures are decided before any view runs
(``canned.py``), and faults act on whatever answer the view gave (``app._finish``). So a real
API gets every failure the mock makes, and its journal, by replacing the provider's views with
one view that forwards: ``/<provider>/<rest>?<query>`` goes to ``<upstream>/<rest>?<query>``
with the same method, headers and body, and the upstream's status, headers and body bytes come
back as sent (``Content-Encoding`` is not undone). Only hop-by-hop headers, the mock's own
``X-Faultproof-*`` request headers and ``Host`` (the upstream's) differ.

An upstream that cannot be reached or does not answer in time is the mock's own marked 502,
never a provider's answer. An answer that announces its length is read whole, so the journal
sees its body (a wait the provider names there) and a fault can cut it; one that does not (SSE,
NDJSON, chunked) is streamed through as it comes (``serving/async_wire.relay``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote

import httpx
from flask import Response, request

from .control import mock_error
from .surface import Surface

#: Headers of one connection, never forwarded (RFC 9110 section 7.6.1).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
#: The mock's own request headers (session, trigger, session key): never the upstream's.
OWN_PREFIX = "x-faultproof-"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
#: Characters kept as they are when the decoded path is quoted again for the upstream.
PATH_SAFE = "/:@!$&'()*+,;=~"


def surface(provider_id: str, upstream: str, timeout_s: float) -> Surface:
    """A surface for ``provider_id`` whose every path and method forwards to ``upstream``."""
    found = Surface(provider_id)
    # No default headers (httpx's Accept-Encoding would let the upstream compress an answer
    # for a client that never asked); redirects go back to the client, as sent.
    client = httpx.Client(timeout=timeout_s, follow_redirects=False)
    client.headers.clear()
    base = upstream.rstrip("/")

    def forward(rest: str = "") -> Response:
        return _forward(client, base, provider_id)

    for rule in ("/", "/<path:rest>"):
        found.blueprint.add_url_rule(
            rule, "forward", forward, methods=METHODS, strict_slashes=False
        )
    return found


def _forward(client: httpx.Client, base: str, provider_id: str) -> Response:
    below = request.path[len(provider_id) + 1 :]  # /alana: the upstream URL as given
    query = request.environ.get("QUERY_STRING", "")
    url = base + quote(below, safe=PATH_SAFE) + (f"?{query}" if query else "")
    headers = [
        (name, value)
        for name, value in _end_to_end(request.headers.items())
        if name.lower() != "host" and not name.lower().startswith(OWN_PREFIX)
    ]
    sent = client.build_request(
        request.method, url, headers=headers, content=request.get_data(cache=True)
    )
    try:
        return _relayed(client.send(sent, stream=True), request.method)
    except httpx.TransportError as exc:
        return mock_error(
            f"the upstream {base} did not answer {request.method} {below}: "
            f"{type(exc).__name__}: {str(exc) or 'no detail'}",
            502,
            None,
            "upstream",
        )


def _relayed(answer: httpx.Response, method: str) -> Response:
    """The upstream's answer as the client gets it: its bytes as sent, whole or streamed."""
    headers = list(_end_to_end(answer.headers.multi_items()))
    whole = (
        "content-length" in answer.headers or method == "HEAD" or answer.status_code in (204, 304)
    )
    body: Iterable[bytes]
    if whole:
        try:
            body = [b"".join(answer.iter_raw())]
        finally:
            answer.close()
    else:
        body = _stream(answer)
    response = Response(body, status=answer.status_code, headers=headers)
    if "content-type" not in answer.headers:  # werkzeug would add text/html
        del response.headers["Content-Type"]
    return response


def _stream(answer: httpx.Response) -> Iterator[bytes]:
    """The upstream's body as it arrives, undecoded; the connection is released at the end
    (or when the client leaves and the server closes this iterator)."""
    try:
        yield from answer.iter_raw()
    finally:
        answer.close()


def _end_to_end(pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """``pairs`` without hop-by-hop headers, nor those the ``Connection`` header names."""
    pairs = list(pairs)
    named = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return ((n, v) for n, v in pairs if n.lower() not in HOP_BY_HOP and n.lower() not in named)
