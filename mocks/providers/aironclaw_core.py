"""AIronClaw's surface object, seed state, credentials and small helpers.

Three kinds of caller (seed 002): a personal access token (PAT) as ``Authorization: Bearer``, the
dashboard session cookie ``aironclaw_session`` (required by the session-only ``/api/2fa/*`` and
``/api/profile/token``), and, on the gateway proxy, a client key as ``Authorization: Bearer``.
Routes declare which with ``api(..., auth=...)``; ``authenticate`` applies it before the view.

Two test users: ``usr_test`` (the PAT, the normal session, 2FA off, the seeded MCP server, LLM
proxy and keys) and ``usr_mfa`` (2FA on, a session whose MFA step is pending, and resources that
``usr_test`` must not see: ``MCP server not found`` / ``Forbidden`` come from ownership).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from flask import g, request
from werkzeug.exceptions import BadRequest

from ..surface import ResponseContext, Surface, bearer, fail, json_body, rule, state

PAT = "aic_pat_test_4f1c2a9b7e3d"
SESSION = "sess_test_7d2e9a41c0b5"
MFA_SESSION = "sess_test_mfa_5b0e3c92d4a7"
COOKIE = "aironclaw_session"
CLIENT_KEY = "ack_test_client_9b2e5c7a"
TOTP_CODE = "123456"
MCP_ID = "3f6c1e2a-8b4d-4c7e-9f10-2a5b6c7d8e9f"
OTHER_MCP_ID = "e7f8a9b0-c1d2-4e3f-8a4b-5c6d7e8f9a0b"
LLM_ID = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
RESOURCE_ID = "5d7e9f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a"
KEY_ID = "b2d4f6a8-1c3e-4a5b-8d7f-9e0a1b2c3d4e"
LEGACY_KEY_ID = "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"
OTHER_KEY_ID = "c0ffee00-1111-4222-8333-444455556666"
PAT_KEY_ID = "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
SEEDED_AT = 1_767_312_000.0  # 2026-01-02T00:00:00Z
TOOLS = [
    {
        "name": "search_docs",
        "description": "Full-text search over the documentation",
        "inputSchema": {
            "type": "object",
            "required": ["query"],
            "properties": {"query": {"type": "string"}},
        },
    },
    {
        "name": "fetch_page",
        "description": "Fetch one documentation page by path",
        "inputSchema": {
            "type": "object",
            "required": ["path"],
            "properties": {"path": {"type": "string"}},
        },
    },
]


class Invalid(BadRequest):
    """A malformed field no documented message covers: a 400 in the envelope via generic_error."""

    @property
    def name(self) -> str:
        return str(self.description)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


def default_rules() -> list[dict[str, Any]]:
    """The mock's default rate_limit rule of a new MCP server or LLM proxy (catalogue rules)."""
    limit, ban = rule("proxy_rate_limit"), rule("proxy_ban")
    return [
        {
            "type": "rate_limit",
            "limit": int(limit["limit"]),
            "window_s": int(limit["window_s"]),
            "match_key": str(limit["match_key"]),
            "ban_after_n_exceeded": int(ban["ban_after_n_exceeded"]),
            "ban_timespan": int(ban["ban_timespan"]),
        }
    ]


def new_mcp(
    owner: str, name: str, url: str, created: float, auth: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "owner": owner,
        "name": name,
        "url": url,
        "auth": auth or {"type": "none"},
        "tools": [],
        "tools_refreshed_at": None,
        "rules": default_rules(),
        "resources": {},
        "created": created,
        "updated": created,
    }


def _key(owner: str, name: str | None, secret: str, **extra: Any) -> dict[str, Any]:
    tags = [f"name:{name}"] if name else []
    return {
        "owner": owner,
        "name": name,
        "tags": tags,
        "secret": secret,
        "personal": False,
        "permissions": {},
        "created": SEEDED_AT,
        **extra,
    }


def seed() -> dict[str, Any]:
    mcp = {
        **new_mcp("usr_test", "docs-search", "https://mcp.example.com/mcp", SEEDED_AT),
        "id": MCP_ID,
        "tools": TOOLS,
        "tools_refreshed_at": SEEDED_AT,
    }
    mcp["rules"] = [*mcp["rules"], {"type": "ip_acl", "action": "deny", "cidr": "198.51.100.0/24"}]
    mcp["resources"] = {
        RESOURCE_ID: {
            "id": RESOURCE_ID,
            "uri": "docs://index",
            "name": "README",
            "mime_type": "text/markdown",
        }
    }
    other = {
        **new_mcp("usr_mfa", "ops-runbooks", "https://ops.example.com/mcp", SEEDED_AT),
        "id": OTHER_MCP_ID,
    }
    return {
        "users": {
            "usr_test": {"pat": PAT, "twofa": False},
            "usr_mfa": {"pat": None, "twofa": True},
        },
        "sessions": {
            SESSION: {"user": "usr_test", "mfa_pending": False},
            MFA_SESSION: {"user": "usr_mfa", "mfa_pending": True},
        },
        "mcps": {MCP_ID: mcp, OTHER_MCP_ID: other},
        "llms": {
            LLM_ID: {
                "id": LLM_ID,
                "owner": "usr_test",
                "name": "gpt-gateway",
                "rules": default_rules(),
            }
        },
        "keys": {
            KEY_ID: _key(
                "usr_test", "docs-bot", CLIENT_KEY, permissions={MCP_ID: {"tools": ["search_docs"]}}
            ),
            LEGACY_KEY_ID: _key("usr_test", None, "ack_test_legacy_1f3a8c"),
            OTHER_KEY_ID: _key("usr_mfa", "ops-bot", "ack_test_other_6d2b0e"),
            PAT_KEY_ID: {**_key("usr_test", None, ""), "personal": True},
        },
        "logs": [
            {
                "id": "log_0001",
                "event_type": "ip_blocked",
                "created": SEEDED_AT + 86_400 * 8,
                "owner": "usr_test",
                "ip": "198.51.100.23",
                "target": MCP_ID,
                "detail": "ip_acl deny 198.51.100.0/24",
            },
            {
                "id": "log_0002",
                "event_type": "ip_banned",
                "created": SEEDED_AT + 86_400 * 18,
                "owner": "usr_test",
                "ip": "192.0.2.44",
                "target": MCP_ID,
                "detail": "rate_limit exceeded 3 times; banned for 600 s",
            },
        ],
        "bans": {},
        "exceeded": {},
    }


AUTH: dict[str, str] = {}  # endpoint name -> "any" | "session" | "client"


def authenticate() -> None:
    """Refuse a request without the credential its route takes; remember who called in ``g``."""
    kind = AUTH.get((request.endpoint or "").rpartition(".")[2], "any")
    token = bearer()
    if kind == "client":
        with state() as data:
            found = next((k for k in data["keys"].values() if token and k["secret"] == token), None)
        if found is None:
            raise fail("not_authenticated")
        g.aironclaw_user, g.aironclaw_via = found["owner"], "client"
        return
    if token:
        with state() as data:
            user = next((u for u, v in data["users"].items() if v["pat"] == token), None)
        if user is None:
            raise fail("invalid_pat")
        if kind == "session":
            raise fail("pat_not_accepted")
        g.aironclaw_user, g.aironclaw_via = user, "pat"
        return
    cookie = request.cookies.get(COOKIE)
    with state() as data:
        session = data["sessions"].get(cookie) if cookie else None
    if session is None:
        raise fail("not_authenticated")
    if (
        session["mfa_pending"]
        and request.path.rstrip("/").rpartition("/api/")[2] not in _mfa_allowed()
    ):
        raise fail("mfa_required")
    g.aironclaw_user, g.aironclaw_via, g.aironclaw_session = session["user"], "session", cookie


def _mfa_allowed() -> set[str]:
    return {str(p).removeprefix("/api/") for p in rule("mfa_pending")["allowed"]}


def user() -> str:
    return str(g.aironclaw_user)


def body() -> Any:
    """The JSON body, or 400 Invalid JSON body (not JSON, or no JSON Content-Type)."""
    try:
        return json_body()
    except ValueError:
        raise fail("invalid_json_body") from None


def body_object() -> dict[str, Any]:
    data = body()
    if not isinstance(data, dict):
        raise Invalid("body must be a JSON object")
    return data


def owned_mcp(data: dict[str, Any], mcp_id: str) -> dict[str, Any]:
    mcp: dict[str, Any] | None = data["mcps"].get(mcp_id)
    if mcp is None or mcp["owner"] != user():
        raise fail("mcp_not_found")
    return mcp


def generic_error(status: int, title: str) -> Any:
    return {"error": title}


def no_store(ctx: ResponseContext) -> dict[str, str]:
    """The API is no-store (seed: 'the dashboard caches GETs but the API is no-store')."""
    return {"Cache-Control": str(ctx.rule("api_no_store")["cache_control"])}


surface = Surface(
    "aironclaw",
    seed=seed,
    authenticate=authenticate,
    generic_error=generic_error,
    not_found="endpoint_not_found",
    every_response=no_store,
)


def api(
    method: str, path: str, *, auth: str = "any", **kwargs: Any
) -> Callable[[Callable[..., Any]], Any]:
    """``surface.route`` plus the credential the route takes: ``any``, ``session`` or ``client``."""

    def register(view: Callable[..., Any]) -> Any:
        AUTH[f"{view.__name__}_{method.lower()}"] = auth
        return surface.route(method, path, **kwargs)(view)

    return register
