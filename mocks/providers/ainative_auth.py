"""AINative credentials: HS256 JWTs (standard library only), API keys, roles, the rate limit.

A JWT is ``base64url(header).base64url(claims).base64url(HMAC-SHA256)`` keyed with the test
secret. Tokens from ``/v1/auth/login-json`` and ``/v1/auth/refresh`` carry ``iat``, ``exp``
(``token_lifetime`` after ``iat``, on the mock's clock) and a ``jti``; a refresh blacklists the
token it replaces. The catalogue's fixed test tokens carry neither ``exp`` nor ``jti``: they
never expire and are never blacklisted, so every catalogue operation keeps working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
from typing import Any

import orjson
from flask import g, request

from ..surface import fail, hit, now, rule, state

SECRET = b"faultproof-ainative-test"
SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _sign(signing_input: str) -> str:
    return _b64(hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest())


def encode(claims: dict[str, Any]) -> str:
    signing_input = f"{_b64(orjson.dumps(HEADER))}.{_b64(orjson.dumps(claims))}"
    return f"{signing_input}.{_sign(signing_input)}"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def decode(token: str) -> dict[str, Any]:
    """The claims of a well-formed, correctly signed access token; else ``invalid_token_format``."""
    parts = token.split(".")
    if len(parts) != 3 or not all(SEGMENT.fullmatch(p) for p in parts):
        raise fail("invalid_token_format")
    if not hmac.compare_digest(_sign(f"{parts[0]}.{parts[1]}"), parts[2]):
        raise fail("invalid_token_format")
    try:
        header, claims = orjson.loads(_unb64(parts[0])), orjson.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error):
        raise fail("invalid_token_format") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise fail("invalid_token_format")
    if not isinstance(claims.get("sub"), str) or claims.get("type", "access") != "access":
        raise fail("invalid_token_format")
    if any(name in claims and not _number(claims[name]) for name in ("iat", "exp")):
        raise fail("invalid_token_format")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise fail("invalid_token_format")
    return claims


def issue(user: dict[str, Any]) -> dict[str, Any]:
    """A fresh access token for ``user``, as login-json and refresh answer it."""
    lifetime = int(rule("token_lifetime")["access_token_s"])
    issued = int(now())
    claims = {
        "sub": user["email"],
        "role": user["role"],
        "type": "access",
        "iat": issued,
        "exp": issued + lifetime,
        "jti": secrets.token_hex(8),
    }
    return {"access_token": encode(claims), "token_type": "bearer", "expires_in": lifetime}


def _user_by_email(data: dict[str, Any], email: str) -> dict[str, Any] | None:
    return next((u for u in data["users"].values() if u["email"] == email.lower()), None)


def token_user(token: str, *, allow_expired: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """The user a bearer JWT names and its claims; refuses revoked, expired and unknown tokens."""
    claims = decode(token)
    with state() as data:
        revoked = claims.get("jti") in data["revoked_tokens"]
        found = _user_by_email(data, claims["sub"])
        user = dict(found) if found else None
    if revoked:
        raise fail("token_revoked")
    if not allow_expired and "exp" in claims and now() >= claims["exp"]:
        raise fail("token_expired")
    if user is None or not user["is_active"]:
        raise fail("invalid_token_format")
    return user, claims


def revoke(claims: dict[str, Any]) -> None:
    """Blacklist a token (by ``jti``) until it would have expired anyway."""
    if "jti" in claims:
        with state() as data:
            data["revoked_tokens"][claims["jti"]] = claims.get("exp")


def key_user(secret: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The user an API key belongs to, and the key; refuses unknown, revoked and expired keys."""
    with state() as data:
        key = next((k for k in data["api_keys"].values() if k["key"] == secret), None)
        if key is None:
            raise fail("invalid_api_key_typo")
        if key["revoked"]:
            raise fail("invalid_api_key_revoked")
        if key["expires_epoch"] is not None and now() >= key["expires_epoch"]:
            raise fail("invalid_api_key_expired")
        return dict(data["users"][key["user_id"]]), dict(key)


def authorization_token() -> str:
    """The token of ``Authorization: Bearer <token>``; the documented 401s when it is not that."""
    header = request.headers.get("Authorization")
    if header is None or not header.strip():
        raise fail("missing_authorization")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise fail("missing_bearer_prefix")
    if not token.strip():
        raise fail("invalid_token_format")
    return token.strip()


def authenticate() -> None:
    """Bearer JWT, Bearer API key or X-API-Key; then the per-credential rate limit."""
    api_key = request.headers.get("X-API-Key")
    if api_key is not None:
        user, key = key_user(api_key.strip())
        counter = f"key:{key['id']}"
    elif (
        request.headers.get("Authorization") is None and request.headers.get("Api-Key") is not None
    ):
        raise fail("invalid_api_key_wrong_header")
    else:
        token = authorization_token()
        if token.startswith("sk_"):
            user, key = key_user(token)
            counter = f"key:{key['id']}"
        else:
            user, _ = token_user(token)
            counter = f"user:{user['id']}"
    g.ainative_user = user
    count_request(counter, user["tier"])


def count_request(counter: str, tier: str | None = None) -> None:
    """One request against the credential's per-minute budget (``rate_limit``, by tier).

    A non-null ``limit`` in the rule (a test's override) replaces every tier's budget.
    """
    value = rule("rate_limit")
    per_tier = value["per_tier"]
    flat = value.get("limit")
    limit = int(flat if flat is not None else per_tier.get(tier, per_tier[value["default_tier"]]))
    window = hit(counter, float(value["window_s"]))
    if window.count > limit:
        raise fail("rate_limited", {"retry_after": max(1, math.ceil(window.reset_at - now()))})


def client_counter() -> str:
    """The counter of an anonymous request (register, login): the client address."""
    return f"ip:{request.remote_addr or 'unknown'}"


def current_user() -> dict[str, Any]:
    user: dict[str, Any] = g.ainative_user
    return user


def require_role(scenario: str, *roles: str) -> dict[str, Any]:
    """The current user if their role is one of ``roles``; else the 403 ``scenario``."""
    user = current_user()
    if user["role"] not in roles:
        raise fail(scenario)
    return user
