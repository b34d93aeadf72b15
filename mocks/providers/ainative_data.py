"""AINative state and request bodies: the seed and pydantic-v1-style validation.

Validation answers as FastAPI does with pydantic v1 models (seed 004 shows v1 wording): every
field error in one ``{"detail": [{"loc", "msg", "type"}]}`` list, unknown fields ignored,
strict types (a number is not a string, and an ``int`` takes only integral JSON numbers, as
JSON Schema's ``integer`` does).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..surface import fail

PASSWORD = "SecurePass123!"
CREATED = 1_767_225_600.0  # 2026-01-01T00:00:00Z, when the seeded records were made
EXPIRED = 1_700_000_000.0  # 2023-11-14, long before any clock the mock runs on
TEST_KEY = "sk_test_ainative_4f9c2e7b1a6d3c58"
REVOKED_KEY = "sk_test_ainative_revoked_9d1e0a44"
EXPIRED_KEY = "sk_test_ainative_expired_2b7c8f13"


def iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def _user(uid: str, email: str, name: str, role: str, tier: str) -> dict[str, Any]:
    return {
        "id": uid,
        "email": email,
        "full_name": name,
        "role": role,
        "tier": tier,
        "password": PASSWORD,
        "is_active": True,
        "created_at": iso(CREATED),
    }


def _key(
    kid: str, secret: str, name: str, expires_at: float | None, revoked: bool
) -> dict[str, Any]:
    return {
        "id": kid,
        "user_id": "user_123",
        "name": name,
        "key": secret,
        "created_at": iso(CREATED),
        "expires_epoch": expires_at,
        "revoked": revoked,
    }


def seed() -> dict[str, Any]:
    users = [
        _user("user_123", "user@example.com", "John Doe", "USER", "free"),
        _user("user_456", "dev@example.com", "Dana Developer", "DEVELOPER", "pro"),
        _user("user_789", "admin@example.com", "Ada Admin", "ADMIN", "enterprise"),
    ]
    keys = [
        _key("key_1", TEST_KEY, "Test key", None, False),
        _key("key_2", REVOKED_KEY, "Revoked key", None, True),
        _key("key_3", EXPIRED_KEY, "Expired key", EXPIRED, False),
    ]
    projects = [
        ("proj_123", "user_123", "My Project"),
        ("proj_456", "user_456", "Dana's analytics"),
    ]
    return {
        "users": {u["id"]: u for u in users},
        "api_keys": {k["id"]: k for k in keys},
        "projects": {
            pid: {
                "id": pid,
                "name": name,
                "description": "Test",
                "owner_id": owner,
                "created_at": iso(CREATED),
            }
            for pid, owner, name in projects
        },
        "indexes": {},
        "webhooks": {
            "wh_1": {
                "id": "wh_1",
                "user_id": "user_456",
                "url": "https://hooks.example.com/ainative",
                "events": ["agent.task.completed"],
                "active": True,
                "created_at": iso(CREATED),
            }
        },
        "revoked_tokens": {},
        "pool_in_use": 0,
        "next_id": 1000,
    }


def public_user(user: dict[str, Any]) -> dict[str, Any]:
    return {k: user[k] for k in ("id", "email", "full_name", "role", "is_active", "created_at")}


def public_key(key: dict[str, Any]) -> dict[str, Any]:
    expires = key["expires_epoch"]
    return {
        "id": key["id"],
        "name": key["name"],
        "prefix": key["key"][:12],
        "created_at": key["created_at"],
        "expires_at": iso(expires) if expires is not None else None,
        "is_active": not key["revoked"],
    }


# --- validation ------------------------------------------------------------------------------
# A dotted domain whose last label has a letter (punycode TLDs such as xn--p1ai included).
EMAIL = re.compile(r"^[^@\s]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*$")
PASSWORD_RULES: tuple[tuple[Callable[[str], bool], str, str], ...] = (
    (lambda p: len(p) >= 8, "Password must be at least 8 characters", "password_too_short"),
    (
        lambda p: any(c.isupper() for c in p),
        "Password must contain uppercase letter",
        "password_missing_uppercase",
    ),
    (
        lambda p: any(c.islower() for c in p),
        "Password must contain lowercase letter",
        "password_missing_lowercase",
    ),
    (
        lambda p: any(c.isdigit() for c in p),
        "Password must contain number",
        "password_missing_number",
    ),
)
SCENARIO_BY_TYPE = {
    "value_error.missing": "validation_error_missing_field",
    "value_error.email": "validation_error_email",
}


@dataclass(frozen=True, slots=True)
class Field:
    """One body field: ``kind`` is ``str``, ``email``, ``password`` or ``int``."""

    name: str
    kind: str
    required: bool = True
    max_length: int = 255
    ge: int = 1
    le: int = 3650


def _item(name: str, msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", name], "msg": msg, "type": kind}


def _text(field: Field, value: Any) -> tuple[Any, dict[str, Any] | None]:
    if not isinstance(value, str):
        return None, _item(field.name, "str type expected", "type_error.str")
    if len(value) > field.max_length:
        return None, _item(
            field.name,
            f"ensure this value has at most {field.max_length} characters",
            "value_error.any_str.max_length",
        )
    if field.kind == "email" and not EMAIL.fullmatch(value):
        return None, _item(field.name, "value is not a valid email address", "value_error.email")
    if field.kind == "password":
        for check, msg, _ in PASSWORD_RULES:
            if not check(value):
                return None, _item(field.name, msg, "value_error")
    return (value.lower() if field.kind == "email" else value), None


def _integer(field: Field, value: Any) -> tuple[Any, dict[str, Any] | None]:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    if number is None:
        return None, _item(field.name, "value is not a valid integer", "type_error.integer")
    if number < field.ge:
        return None, _item(
            field.name,
            f"ensure this value is greater than or equal to {field.ge}",
            "value_error.number.not_ge",
        )
    if number > field.le:
        return None, _item(
            field.name,
            f"ensure this value is less than or equal to {field.le}",
            "value_error.number.not_le",
        )
    return number, None


def validate(body: Any, fields: tuple[Field, ...]) -> dict[str, Any]:
    """The body's fields, converted; raises the 422 scenario its first error names.

    A body that is not a JSON object is ``bad_request`` (the catalogue's 400), as is a body
    that is not JSON at all (the caller turns ``ValueError`` from ``json_body`` into it).
    """
    if not isinstance(body, dict):
        raise fail("bad_request")
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for field in fields:
        value = body.get(field.name)
        if value is None:
            if field.required:
                missing = field.name not in body
                errors.append(
                    _item(
                        field.name,
                        "field required" if missing else "none is not an allowed value",
                        "value_error.missing" if missing else "type_error.none.not_allowed",
                    )
                )
            values[field.name] = None
            continue
        converted, error = (_integer if field.kind == "int" else _text)(field, value)
        if error:
            errors.append(error)
        values[field.name] = converted
    if errors:
        raise fail(_scenario_for(errors[0]), detail=errors)
    return values


def _scenario_for(item: dict[str, Any]) -> str:
    if item["type"] == "value_error" and item["loc"][-1] == "password":
        return next(name for _, msg, name in PASSWORD_RULES if msg == item["msg"])
    return SCENARIO_BY_TYPE.get(item["type"], "validation_error_type")
