"""No request, however malformed, gets an unplanned 500: every route of every provider."""

from __future__ import annotations

import re

import pytest

from faultproof.contracts import PROVIDERS, default_catalogue
from faultproof.mocks.app import load_surface

BODIES = [
    (b"", "application/json"),
    (b"{", "application/json"),
    (b"null", "application/json"),
    (b"[]", "application/json"),
    (b'"text"', "application/json"),
    (b"1e999", "application/json"),
    (b'{"a": ' * 200 + b"1" + b"}" * 200, "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b'{"name": {"$ne": 1}, "id": [], "price": "NaN"}', "application/json"),
    (b"name=x&url=y", "application/x-www-form-urlencoded"),
    (b"<xml/>", "text/xml"),
    (b'{"valid": "json"}', "text/plain"),
]
HEADERS = [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Basic Zm9vOmJhcg=="},
    {"Authorization": "Bearer " + "x" * 8000},
    {"X-API-Key": "\u00e9\u00e8"},
    {"Accept": "application/x-ndjson"},
    {"Content-Length": "0"},
]


def _paths(provider: str) -> list[tuple[str, str]]:
    surface = load_surface(provider)
    routes = []
    for route in surface.routes:
        path = re.sub(r"<(?:[a-z]+:)?[a-zA-Z_]+>", "zz\u00fc%00..%2F", route.rule)
        routes.append((route.method, f"/{provider}{path}"))
    return routes


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_route_survives_malformed_bodies_and_headers(make_app, provider):
    client = make_app(provider).test_client()
    credentials = (
        default_catalogue()
        .provider(provider)
        .operations[default_catalogue().provider(provider).default_operation]
        .headers
    )
    for method, path in _paths(provider):
        for body, content_type in BODIES:
            for headers in (dict(credentials), *HEADERS):
                response = client.open(
                    path,
                    method=method,
                    data=body,
                    headers={**headers, "Content-Type": content_type},
                )
                assert response.status_code < 500, (
                    method,
                    path,
                    body[:40],
                    headers,
                    response.data[:200],
                )
