"""Renewing an expired credential after a 401, once per operation, per provider.

- AINative: ``POST /v1/auth/refresh`` with the current Bearer token answers a new
  ``access_token``.
- Airbyte: the catalogue's ``refresh_token`` operation (the OAuth token endpoint, refresh_token
  grant with the client's credentials) answers a new ``access_token``.
- Alloy: a token URL ``/mcp/{serverId}/{token}`` that answers 401 is replaced by the current
  one from ``GET /api/servers/{serverId}`` (``tokenPath``, else ``tokenUrl``). When the details
  still show the token URL that was just refused, a new one is issued with
  ``POST /api/servers/{serverId}/token``.

Each returns the new headers and path, or ``None`` when there is nothing to renew or the renewal
failed (the caller then reports the original 401).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from faultproof.contracts import Provider

from .reference_http import attempt, parse_json
from .reference_policy import header

Credential = tuple[dict[str, str], str]
Refresher = Callable[[httpx.Client, Provider, dict[str, str], str, float], Credential | None]
ALLOY_TOKEN_PATH = re.compile(r"/mcp/([^/]+)/([^/]+)")


def _bearer(headers: dict[str, str]) -> str | None:
    value = header(headers, "Authorization")
    if value and value.lower().startswith("bearer "):
        return value
    return None


def _with_authorization(headers: dict[str, str], token: str) -> dict[str, str]:
    kept = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    return {**kept, "Authorization": f"Bearer {token}"}


def _access_token(reply_body: bytes) -> str | None:
    parsed, document = parse_json(reply_body)
    token = document.get("access_token") if parsed and isinstance(document, dict) else None
    return token if isinstance(token, str) and token else None


def _ainative(
    http: httpx.Client, provider: Provider, headers: dict[str, str], path: str, deadline: float
) -> Credential | None:
    bearer = _bearer(headers)
    known = provider.operations.get("refresh")
    refresh_path = known.path if known else "/v1/auth/refresh"
    if bearer is None or path in (refresh_path, "/v1/auth/login-json"):
        return None
    reply = attempt(http, "POST", refresh_path, deadline, headers={"Authorization": bearer})
    token = _access_token(reply.body) if reply.status == 200 and not reply.failure else None
    return (_with_authorization(headers, token), path) if token else None


def _airbyte(
    http: httpx.Client, provider: Provider, headers: dict[str, str], path: str, deadline: float
) -> Credential | None:
    grant = provider.operations.get("refresh_token")
    if grant is None or _bearer(headers) is None or path == grant.path:
        return None
    reply = attempt(
        http,
        grant.method,
        grant.path,
        deadline,
        headers=dict(grant.headers),
        json_body=grant.json,
    )
    token = _access_token(reply.body) if reply.status == 200 and not reply.failure else None
    return (_with_authorization(headers, token), path) if token else None


def _token_path(http: httpx.Client, reply_body: bytes) -> str | None:
    parsed, document = parse_json(reply_body)
    if not parsed or not isinstance(document, dict):
        return None
    fresh = document.get("tokenPath")
    if isinstance(fresh, str) and ALLOY_TOKEN_PATH.fullmatch(fresh):
        return fresh
    url = document.get("tokenUrl")
    if isinstance(url, str):
        full, base = urlsplit(url).path, http.base_url.path.rstrip("/")
        below = full[len(base) :] if base and full.startswith(base) else full
        if ALLOY_TOKEN_PATH.fullmatch(below):
            return below
    return None


def _alloy(
    http: httpx.Client, provider: Provider, headers: dict[str, str], path: str, deadline: float
) -> Credential | None:
    match = ALLOY_TOKEN_PATH.fullmatch(path)
    if match is None:
        return None
    server = match.group(1)
    auth = {k: v for k, v in headers.items() if k.lower() in ("authorization", "x-alloy-userid")}
    details = attempt(http, "GET", f"/api/servers/{server}", deadline, headers=auth)
    if details.status != 200 or details.failure:
        return None
    fresh = _token_path(http, details.body)
    if fresh == path:  # the details still show the refused URL: ask for a new one
        issued = attempt(http, "POST", f"/api/servers/{server}/token", deadline, headers=auth)
        fresh = _token_path(http, issued.body) if issued.status == 200 else None
    if not fresh or fresh == path:
        return None
    return headers, fresh


REFRESHERS: dict[str, Refresher] = {"ainative": _ainative, "airbyte": _airbyte, "alloy": _alloy}


def refresh(
    http: httpx.Client, provider: Provider, headers: dict[str, str], path: str, deadline: float
) -> Credential | None:
    """New (headers, path) after a 401, or ``None`` when the provider has no renewal for it."""
    renew = REFRESHERS.get(provider.id)
    return renew(http, provider, headers, path, deadline) if renew else None
