"""AINative request and response bodies as JSON Schemas (for the OpenAPI document).

The request bodies are the ``Field`` tuples ``ainative_data.validate`` checks; ``body_schema``
describes what it accepts, and the response schemas what the views return.
"""

from __future__ import annotations

from typing import Any

from .ainative_data import Field

AUTH_HEADERS = {
    "Authorization": {"type": "string", "pattern": "^Bearer .+"},
    "X-API-Key": {"type": "string", "pattern": "^sk_"},
}
STR = {"type": "string"}
USER = {
    "type": "object",
    "required": ["id", "email", "full_name", "role"],
    "properties": {
        "id": STR,
        "email": {"type": "string", "format": "email"},
        "full_name": STR,
        "role": {"enum": ["USER", "ADMIN", "DEVELOPER"]},
        "is_active": {"type": "boolean"},
        "created_at": STR,
    },
}
TOKEN = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in"],
    "properties": {
        "access_token": STR,
        "token_type": {"const": "bearer"},
        "expires_in": {"type": "integer"},
    },
}
KEY: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name", "created_at", "expires_at"],
    "properties": {
        "id": STR,
        "name": STR,
        "prefix": STR,
        "created_at": STR,
        "expires_at": {"type": ["string", "null"]},
        "is_active": {"type": "boolean"},
    },
}
NEW_KEY = {
    **KEY,
    "required": [*KEY["required"], "api_key"],
    "properties": {**KEY["properties"], "api_key": STR},
}
PROJECT = {
    "type": "object",
    "required": ["id", "name", "owner_id"],
    "properties": {
        "id": STR,
        "name": STR,
        "description": {"type": ["string", "null"]},
        "owner_id": STR,
        "created_at": STR,
    },
}
WEBHOOK = {
    "type": "object",
    "required": ["id", "url", "events", "active"],
    "properties": {
        "id": STR,
        "url": STR,
        "events": {"type": "array", "items": STR},
        "active": {"type": "boolean"},
        "created_at": STR,
    },
}
QUERY_RESULT = {
    "type": "object",
    "required": ["rows", "row_count"],
    "properties": {
        "rows": {"type": "array", "items": {"type": "object"}},
        "row_count": {"type": "integer", "minimum": 0},
    },
}

REGISTER = (
    Field("email", "email"),
    Field("password", "password", max_length=128),
    Field("full_name", "str"),
)
LOGIN = (Field("username", "str"), Field("password", "str", max_length=128))
CREATE_KEY = (Field("name", "str"), Field("expires_in_days", "int", required=False))
CREATE_PROJECT = (
    Field("name", "str"),
    Field("description", "str", required=False, max_length=2000),
)
QUERY = (Field("project_id", "str"), Field("query", "str", max_length=10_000))


def body_schema(fields: tuple[Field, ...]) -> dict[str, Any]:
    """The JSON Schema of a body that ``validate(body, fields)`` accepts (for OpenAPI)."""
    props: dict[str, Any] = {}
    for f in fields:
        if f.kind == "int":
            props[f.name] = {"type": "integer", "minimum": f.ge, "maximum": f.le}
        else:
            props[f.name] = {"type": "string", "maxLength": f.max_length}
        if f.kind == "email":
            props[f.name]["format"] = "email"
        if not f.required:
            props[f.name]["type"] = [props[f.name]["type"], "null"]
    if any(f.kind == "password" for f in fields):
        props["password"] = {
            "type": "string",
            "minLength": 8,
            "maxLength": 128,
            "pattern": "^(?=[\\s\\S]*[A-Z])(?=[\\s\\S]*[a-z])(?=[\\s\\S]*[0-9])",
        }
    return {
        "type": "object",
        "required": [f.name for f in fields if f.required],
        "properties": props,
    }
