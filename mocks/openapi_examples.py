"""Success examples for the OpenAPI documents, answered by the mock itself.

Why real answers: a mock serving our document (Prism) otherwise invents a success body from
the schema (``{"id": "string"}``), which no client of the provider ever saw. The catalogue's
operations are requests that the mock's happy path answers with valid credentials, so each is
sent once, in a throwaway session of the app that serves the document, and the answer becomes
the example of the route (``Route.endpoint``) that handled it. Routes that no operation
reaches get one from the catalogue's ``openapi_examples``, requests kept for this alone.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask
from werkzeug.exceptions import HTTPException

from faultproof.contracts import Operation

from . import sessions

#: Where an app keeps the examples it captured, by provider (its answers do not change).
CACHE_KEY = "faultproof.openapi_examples"


def success_examples(app: Flask, provider_id: str) -> dict[str, Any]:
    """``{endpoint: JSON body}`` of the provider's operations that the mock answered 2xx."""
    cache: dict[str, dict[str, Any]] = app.extensions.setdefault(CACHE_KEY, {})
    if provider_id not in cache:
        cache[provider_id] = _capture(app, provider_id)
    return cache[provider_id]


def _capture(app: Flask, provider_id: str) -> dict[str, Any]:
    cfg = app.extensions["faultproof"]
    provider = cfg.catalogue.provider(provider_id)
    adapter = app.url_map.bind("localhost")
    found: dict[str, Any] = {}
    requests = {**provider.operations, **provider.openapi_examples}
    for operation in requests.values():
        client = app.test_client()  # a cookie jar of its own per operation
        session_id = sessions.new_id()
        base = f"/s/{session_id}/{provider_id}"
        cfg.store.create_session(session_id, sessions.new_secret(), cfg.clock())
        try:
            for name in operation.before:
                _answer(client, base, requests[name])
            body = _answer(client, base, operation)
        finally:
            cfg.store.delete_session(session_id)
        if body is None:
            continue
        try:
            endpoint, _ = adapter.match(f"/{provider_id}{operation.path}", operation.method)
        except HTTPException:  # answered outside the provider's routes: nothing to describe
            continue
        found.setdefault(endpoint.rsplit(".", 1)[-1], body)
    return found


def _answer(client: Any, base: str, operation: Operation) -> Any:
    """The JSON body of a 2xx answer to ``operation``, or ``None``."""
    headers = dict(operation.headers)
    # werkzeug's test client sends its cookie jar in place of a Cookie header given to it
    for pair in headers.pop("Cookie", "").split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep:
            client.set_cookie(name, value)
    response = client.open(
        base + operation.path,
        method=operation.method,
        query_string=dict(operation.query),
        headers=headers,
        json=operation.json,
    )
    if not 200 <= response.status_code < 300 or not response.is_json or not response.get_data():
        return None
    return orjson.loads(response.get_data())
