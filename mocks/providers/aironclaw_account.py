"""AIronClaw client keys, the audit log, health, 2FA and the personal access token.

Rules (seed 002): key names required and matching ``[a-zA-Z0-9_-]+``, the per-user key quota
(``API key limit reached (N/M)``), ``Key not found`` / ``Forbidden`` (another consumer's key) /
``Cannot modify personal token`` (the PAT's own key-auth credential), 409 for a legacy key
without a ``name:`` tag, permissions only for tools the last refresh discovered
(``tools[N] not found``), ``before`` as a YYYYMMDD integer, the session-only 2FA and token
endpoints (2FA steps in order, 10 challenge attempts per 5 minutes per user) and
single-instance PATs: rotating one invalidates the previous at once.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import g

from ..surface import args, fail, hit, now, rule, state
from . import aironclaw_schemas as s
from .aironclaw_core import TOTP_CODE, Invalid, api, body, body_object, iso, new_id, user

TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def _key_view(key_id: str, key: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": key_id, "name": key["name"], "tags": key["tags"], "personal": key["personal"],
        "permissions": key["permissions"], "created_at": iso(key["created"]),
        "key_prefix": "aic_pat_" if key["personal"] else key["secret"][:8],
    }  # fmt: skip


@api("GET", "/api/keys", summary="List your client keys and your PAT's credential", ok=s.KEY_LIST)
def list_keys() -> Any:
    with state() as data:
        mine = [_key_view(i, k) for i, k in data["keys"].items() if k["owner"] == user()]
    count = sum(not k["personal"] for k in mine)
    return {"keys": mine, "count": count, "limit": int(rule("api_key_quota"))}


@api("POST", "/api/keys", summary="Create a client key (its plaintext is returned once)",
     body=s.KEY_IN, ok=s.KEY, ok_status=201)  # fmt: skip
def create_key() -> Any:
    data_in = body()
    name = data_in.get("name") if isinstance(data_in, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise fail("key_name_required")
    if not re.fullmatch(str(rule("key_name_pattern")), name):
        raise fail("invalid_key_name")
    quota = int(rule("api_key_quota"))
    with state() as data:
        count = sum(k["owner"] == user() and not k["personal"] for k in data["keys"].values())
        if count >= quota:
            raise fail("api_key_limit_reached", params={"count": count, "limit": quota})
        key_id, secret = new_id(), f"ack_{uuid.uuid4().hex}"
        key = {"owner": user(), "name": name, "tags": [f"name:{name}"], "secret": secret,
               "personal": False, "permissions": {}, "created": now()}  # fmt: skip
        data["keys"][key_id] = key
        return {**_key_view(key_id, key), "key": secret}, 201


def _own_key(data: dict[str, Any], key_id: str) -> dict[str, Any]:
    key = data["keys"].get(key_id)
    if key is None:
        raise fail("key_not_found")
    if key["owner"] != user():
        raise fail("key_forbidden")
    if key["personal"]:
        raise fail("cannot_modify_personal_token")
    return dict(key)


def _permissions(data: dict[str, Any], value: Any) -> dict[str, Any]:
    """Permission tags, each naming an owned MCP server and tools its last refresh discovered."""
    if not isinstance(value, dict):
        raise Invalid("permissions must be an object of MCP server ids")
    out = {}
    for mcp_id, grant in value.items():
        tools = grant.get("tools") if isinstance(grant, dict) else None
        if not isinstance(tools, list):
            raise Invalid("permissions.<mcp id>.tools must be an array of tool names")
        mcp = data["mcps"].get(mcp_id)
        if mcp is None or mcp["owner"] != user():
            raise fail("key_forbidden")  # a permission on an MCP server the caller does not own
        known = {t["name"] for t in mcp["tools"]}
        for index, tool in enumerate(tools):
            if not isinstance(tool, str) or tool not in known:
                raise fail("tool_not_found", params={"tool_index": index})
        out[mcp_id] = {"tools": list(tools)}
    return out


@api("PATCH", "/api/keys/<key_id>", summary="Replace a key's permission tags", body=s.KEY_PATCH,
     ok=s.KEY)  # fmt: skip
def patch_key(key_id: str) -> Any:
    change = body_object()
    with state() as data:
        key = _own_key(data, key_id)
        if not any(tag.startswith("name:") for tag in key["tags"]):
            raise fail("key_missing_name_tag")
        if "permissions" not in change:
            raise Invalid("permissions is required")
        permissions = _permissions(data, change["permissions"])
        data["keys"][key_id]["permissions"] = permissions
        return _key_view(key_id, data["keys"][key_id])


@api("DELETE", "/api/keys/<key_id>", summary="Delete a client key", ok=s.DELETED)
def delete_key(key_id: str) -> Any:
    with state() as data:
        _own_key(data, key_id)
        del data["keys"][key_id]
    return {"deleted": True, "id": key_id}


def _mine(entry: dict[str, Any]) -> bool:
    return bool(entry["owner"] == user())


def _day(epoch: float) -> int:
    return int(datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y%m%d"))


@api("GET", "/api/logs", summary="The audit log (ip_blocked, ip_banned, ...), newest first",
     query=s.LOG_QUERY, ok=s.LOG_LIST)  # fmt: skip
def list_logs() -> Any:
    params = args()
    limit, event = params.get("limit", "100"), params.get("event_type")
    if not re.fullmatch("[0-9]{1,4}", limit) or not 1 <= int(limit) <= 1000:
        raise Invalid("limit must be an integer between 1 and 1000")
    with state() as data:
        logs = [e for e in data["logs"] if _mine(e) and event in (None, e["event_type"])]
    logs = sorted(logs, key=lambda e: float(e["created"]), reverse=True)[: int(limit)]
    hidden = ("created", "owner")
    return {"logs": [{**{k: v for k, v in e.items() if k not in hidden},
                      "created_at": iso(e["created"])} for e in logs]}  # fmt: skip


@api("DELETE", "/api/logs", summary="Delete audit log entries before a day (YYYYMMDD), or all",
     query=s.BEFORE_QUERY, ok=s.LOGS_DELETED)  # fmt: skip
def delete_logs() -> Any:
    before = args().get("before", "99991231")
    if not re.fullmatch(str(s.BEFORE["pattern"]), before):
        raise fail("invalid_before")
    with state() as data:
        old = [e for e in data["logs"] if _mine(e) and _day(e["created"]) < int(before)]
        data["logs"] = [e for e in data["logs"] if e not in old]
    return {"deleted": len(old)}


@api(
    "GET", "/api/health", summary="Gateway status (no credential needed)", ok=s.HEALTH, public=True
)
def health() -> Any:
    return {"status": "ok", "gateway": "ok", "redis": "ok", "time": iso(now())}


def _check_code(data_in: dict[str, Any]) -> None:
    code = data_in.get("code")
    if not isinstance(code, str) or not re.fullmatch(r"[0-9]{6}", code):
        raise Invalid("code must be a 6-digit string")
    if code != TOTP_CODE:
        raise Invalid("Invalid 2FA code")


@api("POST", "/api/2fa/challenge", auth="session", summary="Answer the TOTP challenge",
     body=s.CODE, ok=s.VERIFIED)  # fmt: skip
def twofa_challenge() -> Any:
    limit = rule("twofa_challenge_rate_limit")
    if hit(f"2fa:{user()}", float(limit["window_s"])).count > int(limit["limit"]):
        raise fail("twofa_challenge_rate_limited")
    _check_code(body_object())
    with state() as data:
        data["sessions"][g.aironclaw_session]["mfa_pending"] = False
    return {"verified": True, "mfa_pending": False}


@api("POST", "/api/2fa/setup", auth="session", summary="Enrol TOTP 2FA", ok=s.TWOFA_ON)
def twofa_setup() -> Any:
    with state() as data:
        account = data["users"][user()]
        if account["twofa"]:
            raise fail("twofa_already_enabled")
        account["twofa"] = True
    uri = f"otpauth://totp/AIronClaw:{user()}?secret={TOTP_SECRET}&issuer=AIronClaw"
    return {"enabled": True, "secret": TOTP_SECRET, "otpauth_url": uri}


@api("POST", "/api/2fa/disable", auth="session", summary="Turn 2FA off (needs a current code)",
     body=s.CODE, ok=s.TWOFA_OFF)  # fmt: skip
def twofa_disable() -> Any:
    data_in = body_object()
    with state() as data:
        enabled = data["users"][user()]["twofa"]
    if not enabled:
        raise fail("twofa_not_enabled")
    _check_code(data_in)
    with state() as data:
        data["users"][user()]["twofa"] = False
    return {"enabled": False}


@api("POST", "/api/profile/token", auth="session", summary="Issue a new PAT (the old one stops)",
     ok=s.TOKEN, ok_status=201)  # fmt: skip
def rotate_token() -> Any:
    token = f"aic_pat_{uuid.uuid4().hex[:24]}"
    with state() as data:
        data["users"][user()]["pat"] = token
    return {"token": token, "created_at": iso(now())}, 201
