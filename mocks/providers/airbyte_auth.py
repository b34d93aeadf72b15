"""Airbyte credentials: hosted-API bearer tokens, scopes, rate limits and the OAuth token endpoint.

Rules from seed 001 (see ``contracts/providers/airbyte.yaml``): a Bearer token on every
hosted-API request (401 ``unauthorized``, ``invalid_credentials``,
``wrong_environment_credentials``), access tokens issued by the token endpoint that expire
after ``access_token_lifetime_s`` on the mock's clock (401 ``token_expired``), scopes and
roles (403), an IP allow-list, and three limits counted per token: requests in flight, a
one-second burst window and the per-minute budget. The token endpoint speaks RFC 6749
(``refresh_token`` grant, JSON or form-encoded bodies).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import math
import secrets
from typing import Any
from urllib.parse import unquote_plus

from flask import g, request

from ..answers import ScenarioAnswer
from ..surface import fail, hit, json_body, now, provider, rule, state

ORG = "org_test"
SCOPES = (
    "workspaces:read",
    "workspaces:write",
    "connectors:read",
    "connectors:write",
    "connectors:execute",
)
TEST_TOKENS: dict[str, dict[str, Any]] = {
    "ab_test_access_token": {"org": ORG, "role": "admin", "scopes": SCOPES},
    "ab_test_member_token": {"org": ORG, "role": "member", "scopes": SCOPES},
    "ab_test_noscope_token": {"org": ORG, "role": "admin", "scopes": ()},
}
LIVE_PREFIX = "ab_live_"
EMPTY_TOKENS = {"none", "null", "undefined"}
CLIENTS = {
    "ab_test_client_id": {"secret": "ab_test_client_secret", "approved": True},
    "ab_test_unapproved_client_id": {"secret": "ab_test_client_secret", "approved": False},
}
REFRESH_TOKEN = "ab_test_refresh_token"
BLOCKED_NETWORK = ipaddress.ip_network("203.0.113.0/24")
MAX_ISSUED_TOKENS = 1000
MAX_TOKEN_BODY = 16 * 1024
TOKEN_OK = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "refresh_token", "scope"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer", "minimum": 0},
        "refresh_token": {"type": "string"},
        "scope": {"type": "string"},
    },
}
TOKEN_BODY = {
    "type": "object",
    "required": ["grant_type", "refresh_token"],
    "properties": {
        "grant_type": {"const": "refresh_token"},
        "refresh_token": {"type": "string"},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
    },
}


# ---------------------------------------------------------------- hosted API


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or token.lower() in EMPTY_TOKENS:
        return None
    return token


def _grant(token: str) -> dict[str, Any]:
    """What the token may do; refuses unknown, expired and unapproved-app tokens."""
    if token in TEST_TOKENS:
        return TEST_TOKENS[token]
    with state() as data:
        issued = data["tokens"].get(token)
    if issued is None:
        raise fail("invalid_credentials")
    if now() >= issued["issued_at"] + float(rule("access_token_lifetime_s")):
        raise fail("token_expired")
    if not CLIENTS[issued["client_id"]]["approved"]:
        raise fail("oauth_app_not_approved")
    return {"org": ORG, "role": "admin", "scopes": tuple(issued["scopes"])}


def _client_address() -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
    for candidate in (forwarded, request.remote_addr or ""):
        try:
            return ipaddress.ip_address(candidate)
        except ValueError:
            continue
    return None


def _wait(reset_at: float) -> int:
    return max(1, math.ceil(reset_at - now()))


def _rate_limited(reset_at: float) -> ScenarioAnswer:
    wait = _wait(reset_at)
    style = rule("rate_limit").get("retry_after_format", "seconds")
    if wait > provider().policy.max_wait_s:
        return fail("rate_limited_long_wait", {"retry_after": wait})
    if style == "http_date":
        return fail("rate_limited_http_date", {"retry_after": wait})
    if style == "none":
        return fail("rate_limited_no_retry_after")
    if style != "seconds":  # a misconfiguration of the mock: loud, never a provider answer
        raise ValueError(
            f"airbyte.rate_limit retry_after_format {style!r}: use seconds, http_date or none"
        )
    if request.method == "POST" and (request.endpoint or "").endswith("create_connector_post"):
        return fail("rate_limited_on_create", {"retry_after": wait})
    return fail("rate_limited", {"retry_after": wait})


def _take_slot(token: str) -> None:
    """One request in flight for this token, released by ``release_slot`` at teardown."""
    limit = int(rule("concurrent_limit"))
    with state() as data:
        in_flight = data["in_flight"].get(token, 0)
        if in_flight >= limit:
            raise fail("concurrent_requests")
        data["in_flight"][token] = in_flight + 1
    g.airbyte_slot = token


def release_slot(_error: BaseException | None = None) -> None:
    token = g.pop("airbyte_slot", None)
    if token is None:
        return
    with state() as data:
        left = data["in_flight"].get(token, 0) - 1
        if left > 0:
            data["in_flight"][token] = left
        else:
            data["in_flight"].pop(token, None)


def authenticate() -> None:
    token = _bearer_token()
    if token is None:
        raise fail("unauthorized")
    if token.startswith(LIVE_PREFIX):
        raise fail("wrong_environment_credentials")
    grant = _grant(token)
    address = _client_address()
    if address is not None and address in BLOCKED_NETWORK:
        raise fail("ip_restricted")
    g.airbyte_grant = grant
    _take_slot(token)
    budget, burst = rule("rate_limit"), rule("burst_limit")
    counted = hit(f"rate:{token}", float(budget["window_s"]))
    short = hit(f"burst:{token}", float(burst["window_s"]))
    if counted.count > int(budget["limit"]):
        raise _rate_limited(counted.reset_at)
    if short.count > int(burst["limit"]):
        raise fail("burst_rate_limited", {"retry_after": _wait(short.reset_at)})


def grant() -> dict[str, Any]:
    found: dict[str, Any] = g.airbyte_grant
    return found


def require(scope: str) -> None:
    if scope not in grant()["scopes"]:
        raise fail(
            "insufficient_permissions", detail=f"Token lacks required scopes/permissions: {scope}"
        )


def require_admin() -> None:
    if grant()["role"] != "admin":
        raise fail("admin_access_required")


# ---------------------------------------------------------------- OAuth token endpoint


def _invalid_request(description: str) -> ScenarioAnswer:
    return fail("refresh_request_invalid", error_description=description)


def _token_params() -> dict[str, Any]:
    if (request.content_length or 0) > MAX_TOKEN_BODY:
        raise _invalid_request("Request body is too large")
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.to_dict()
    try:
        params = json_body()
    except ValueError:
        raise _invalid_request(
            "Request body must be application/x-www-form-urlencoded or a JSON object"
        ) from None
    if not isinstance(params, dict):
        raise _invalid_request(
            "Request body must be application/x-www-form-urlencoded or a JSON object"
        )
    return params


def _client(params: dict[str, Any]) -> str:
    """The authenticated OAuth client id (HTTP Basic first, else the body's credentials)."""
    header = request.headers.get("Authorization", "").strip()
    client_id: Any
    secret: Any
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise fail("invalid_client") from None
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise fail("invalid_client")
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    else:
        client_id, secret = params.get("client_id"), params.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(secret, str):
        raise fail("invalid_client")
    client = CLIENTS.get(client_id)
    if client is None or not hmac.compare_digest(str(client["secret"]).encode(), secret.encode()):
        raise fail("invalid_client")
    return client_id


def token_endpoint() -> Any:
    params = _token_params()
    grant_type = params.get("grant_type")
    if grant_type in (None, ""):
        raise _invalid_request("Missing required parameter: grant_type")
    if not isinstance(grant_type, str):
        raise _invalid_request("grant_type must be a string")
    if grant_type != "refresh_token":
        raise fail("unsupported_grant_type")
    client_id = _client(params)
    refresh = params.get("refresh_token")
    if refresh in (None, ""):
        raise fail("refresh_request_invalid")
    if not isinstance(refresh, str):
        raise _invalid_request("refresh_token must be a string")
    if refresh == rule("refresh_token_inactivity_expiry")["expired_test_refresh_token"]:
        raise fail("refresh_token_expired")
    if refresh != REFRESH_TOKEN:
        raise fail("invalid_grant")
    lifetime = float(rule("access_token_lifetime_s"))
    token = "ab_test_at_" + secrets.token_hex(16)
    with state() as data:
        tokens = data["tokens"]
        tokens[token] = {"issued_at": now(), "client_id": client_id, "scopes": list(SCOPES)}
        while len(tokens) > MAX_ISSUED_TOKENS:
            tokens.pop(next(iter(tokens)))
    body = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": math.ceil(lifetime),
        "refresh_token": refresh,
        "scope": " ".join(SCOPES),
    }
    return body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}
