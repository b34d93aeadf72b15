"""JSON Schemas of AIronClaw's request and success bodies, for the OpenAPI document.

The views check request fields with these same schemas (``valid``), so a body the document
calls valid is never refused for its shape and a body it calls invalid is never accepted.
"""

from __future__ import annotations

from typing import Any

from .json_schema import validator

STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
STR_OR_NULL: dict[str, Any] = {"type": ["string", "null"]}
TEXT: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": "\\S"}
URL: dict[str, Any] = {"type": "string", "pattern": "^https?://[^\\s/?#]+"}


def obj(*required: str, **properties: Any) -> dict[str, Any]:
    """An object schema: ``required`` names, then each property's schema."""
    return {"type": "object", "required": list(required), "properties": properties}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def anchored(pattern: str) -> dict[str, Any]:
    """A ``^...$`` string as JavaScript reads it (Python's ``$`` also allows a final newline)."""
    return {"type": "string", "pattern": pattern, "not": {"pattern": "\n"}}


_VALIDATORS: dict[int, Any] = {}


def valid(schema: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` matches ``schema`` (one of this module's; validators cached)."""
    checker = _VALIDATORS.get(id(schema)) or _VALIDATORS.setdefault(id(schema), validator(schema))
    return bool(checker.is_valid(value))


DELETED = obj("deleted", "id", deleted={"const": True}, id=STR)
#: A structurally valid JWKS, as ``auth.jwksJson`` must be (the server also takes it as JSON text).
JWKS = obj("keys", keys={**array(obj("kty", kty={**STR, "minLength": 1})), "minItems": 1})
AUTH_TYPE = {"enum": ["none", "bearer", "jwt"]}
AUTH = obj(type=AUTH_TYPE, bearer=STR, jwksJson=JWKS)
MCP_IN = obj("name", "url", name=TEXT, url=URL, auth=AUTH)
MCP = obj(
    "id", "name", "url", "tools", "created_at",
    id=STR, name=STR, url=STR, auth={"type": "object"}, tools=array(STR),
    tools_refreshed_at=STR_OR_NULL, created_at=STR, updated_at=STR,
)  # fmt: skip
MCP_LIST = obj("mcps", mcps=array(MCP), count=INT, limit=INT)
JWKS_TEST_IN = obj("jwksJson", jwksJson=JWKS)
JWKS_TEST = obj("valid", valid={"const": True}, keys=INT)
TOOL_LIST = obj("tools", tools=array(obj("name", name=STR)), refreshed_at=STR_OR_NULL)
RESOURCE_FIELDS = {k: TEXT for k in ("uri", "name", "description", "mime_type")}
RESOURCE_IN = obj("uri", **RESOURCE_FIELDS)
RESOURCE = obj("id", "uri", "name", id=STR, **{k: STR for k in RESOURCE_FIELDS})
RESOURCE_LIST = obj("resources", resources=array(RESOURCE))

KEY = obj(
    "id", "name", "tags", "personal", "permissions", "created_at",
    id=STR, name=STR_OR_NULL, tags=array(STR), personal={"type": "boolean"},
    permissions={"type": "object"}, key_prefix=STR, created_at=STR, key=STR,
)  # fmt: skip
KEY_LIST = obj("keys", keys=array(KEY), count=INT, limit=INT)
KEY_IN = obj("name", name=anchored("^[a-zA-Z0-9_-]+$"))
PERMISSIONS = {"type": "object", "additionalProperties": obj("tools", tools=array(TEXT))}
KEY_PATCH = obj("permissions", permissions=PERMISSIONS)
LOG = obj(
    "id", "event_type", "created_at",
    id=STR, event_type=STR, created_at=STR, ip=STR, target=STR, detail=STR,
)  # fmt: skip
LOG_LIST = obj("logs", logs=array(LOG))
LOG_QUERY = {"event_type": STR, "limit": {**INT, "minimum": 1, "maximum": 1000}}
#: YYYYMMDD (seed: "Pass `20260115`, not `2026-01-15`"); without it, every entry goes.
BEFORE = {
    **anchored("^[0-9]{4}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$"),
    "example": "20260115",
}
BEFORE_QUERY = {"before": BEFORE}
LOGS_DELETED = obj("deleted", deleted=INT)
HEALTH = obj("status", status={"const": "ok"}, gateway=STR, redis=STR, time=STR)
CODE = obj("code", code=anchored("^[0-9]{6}$"))
VERIFIED = obj("verified", verified={"const": True}, mfa_pending={"const": False})
TWOFA_ON = obj("enabled", "secret", enabled={"const": True}, secret=STR, otpauth_url=STR)
TWOFA_OFF = obj("enabled", enabled={"const": False})
TOKEN = obj("token", token=STR, created_at=STR)

RPC_ID = {"type": ["integer", "string", "null"]}
RPC_IN = obj(
    "jsonrpc", "method",
    jsonrpc={"const": "2.0"}, id=RPC_ID, method=STR,
    params={"type": "object"},
)  # fmt: skip
RPC = obj(
    "jsonrpc", jsonrpc={"const": "2.0"}, id={}, result={"type": "object"}, error={"type": "object"}
)
