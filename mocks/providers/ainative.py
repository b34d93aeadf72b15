"""AINative Studio: auth (register, login-json, refresh, me), API keys, users, database, webhooks.

Rules from seed 004, each answering with its catalogue scenario: credentials (no header, no
``Bearer`` prefix, a malformed, expired or blacklisted JWT, an unknown, revoked or expired API
key, the ``Api-Key`` header), roles (``/v1/webhooks`` needs DEVELOPER or ADMIN, another user's
``/v1/users/<id>`` needs ADMIN, another user's project is refused), pydantic-v1 validation with
the password rules (422), the registered email (409), unknown projects (404), the per-minute
budget by tier (429 with ``retry_after`` and ``Retry-After``), the database pool (503) and
unpaginated reads of a large table (504). Every endpoint also answers with a trailing slash.
Credentials and the limit are in ``ainative_auth``, the seed and validation in ``ainative_data``,
the SQL endpoint in ``ainative_sql``, the OpenAPI schemas of the bodies in ``ainative_schemas``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..surface import Surface, View, fail, json_body, now, rule, state
from . import ainative_auth as auth
from . import ainative_schemas as sc
from .ainative_data import Field, iso, public_key, public_user, seed, validate
from .ainative_sql import run_query


def generic_error(status: int, title: str) -> Any:
    return {"detail": title}


surface = Surface(
    "ainative",
    seed=seed,
    authenticate=auth.authenticate,
    generic_error=generic_error,
    not_found="not_found_endpoint",
)


def route(method: str, rule_: str, **options: Any) -> Callable[[View], View]:
    """``surface.route`` plus the same endpoint with a trailing slash (seed: "Both should work").

    The slash variant maps to the endpoint ``surface.route`` registered (``<view>_<method>``),
    so it shares its authentication and stays out of the OpenAPI document.
    """
    options.setdefault("headers", {} if options.get("public") else sc.AUTH_HEADERS)

    def register(view: View) -> View:
        surface.route(method, rule_, **options)(view)
        surface.blueprint.add_url_rule(
            f"{rule_}/", endpoint=f"{view.__name__}_{method.lower()}", methods=[method]
        )
        return view

    return register


def _body(fields: tuple[Field, ...]) -> dict[str, Any]:
    try:
        body = json_body()
    except ValueError:
        raise fail("bad_request") from None
    return validate(body, fields)


def _next_id(data: dict[str, Any], prefix: str) -> str:
    data["next_id"] += 1
    return f"{prefix}_{data['next_id']}"


@contextmanager
def _connection(scenario: str) -> Iterator[None]:
    """Hold one of the pool's connections (``connection_pool``) for the request."""
    pool = rule("connection_pool")
    with state() as data:
        if data["pool_in_use"] >= int(pool["pool_size"]) + int(pool["max_overflow"]):
            raise fail(scenario)
        data["pool_in_use"] += 1
    try:
        yield
    finally:
        with state() as data:
            data["pool_in_use"] -= 1


def _own_project(data: dict[str, Any], project_id: str) -> dict[str, Any]:
    project = data["projects"].get(project_id)
    if project is None:
        raise fail("not_found")
    user = auth.current_user()
    if project["owner_id"] != user["id"] and user["role"] != "ADMIN":
        raise fail("insufficient_permissions_other_user")
    return dict(project)


# --- auth ----------------------------------------------------------------------------------------
@route(
    "POST",
    "/v1/auth/register",
    summary="Register a user",
    public=True,
    body=sc.body_schema(sc.REGISTER),
    ok=sc.USER,
    ok_status=201,
)
def register() -> Any:
    auth.count_request(auth.client_counter())
    values = _body(sc.REGISTER)
    with state() as data:
        if any(u["email"] == values["email"] for u in data["users"].values()):
            raise fail("email_already_registered")
        uid = _next_id(data, "user")
        user = {
            **values,
            "id": uid,
            "role": "USER",
            "tier": "free",
            "is_active": True,
            "created_at": iso(now()),
        }
        data["users"][uid] = user
        return public_user(user), 201


@route(
    "POST",
    "/v1/auth/login-json",
    summary="Log in with a JSON body; returns an access token",
    public=True,
    body=sc.body_schema(sc.LOGIN),
    ok=sc.TOKEN,
)
def login() -> Any:
    auth.count_request(auth.client_counter())
    values = _body(sc.LOGIN)
    with state() as data:
        user = next(
            (u for u in data["users"].values() if u["email"] == values["username"].lower()), None
        )
        if user is None or user["password"] != values["password"] or not user["is_active"]:
            raise fail("incorrect_credentials")
        user = dict(user)
    return auth.issue(user)


@route(
    "POST",
    "/v1/auth/refresh",
    summary="A new access token for the current (possibly expired) one",
    public=True,
    headers={"Authorization": sc.AUTH_HEADERS["Authorization"]},
    ok=sc.TOKEN,
)
def refresh() -> Any:
    user, claims = auth.token_user(auth.authorization_token(), allow_expired=True)
    window = float(rule("token_refresh")["refresh_window_s"])
    if "iat" in claims and now() - claims["iat"] > window:
        raise fail("refresh_token_too_old")
    auth.count_request(f"user:{user['id']}", user["tier"])
    auth.revoke(claims)
    return auth.issue(user)


@route("GET", "/v1/auth/me", summary="The current user and role", ok=sc.USER)
def me() -> Any:
    return public_user(auth.current_user())


@route(
    "GET", "/v1/users/<user_id>", summary="One user (another user's record needs ADMIN)", ok=sc.USER
)
def get_user(user_id: str) -> Any:
    if user_id != auth.current_user()["id"]:
        auth.require_role("insufficient_permissions_admin_only", "ADMIN")
    with state() as data:
        user = data["users"].get(user_id)
        if user is None:
            raise fail("not_found")
        return public_user(user)


# --- API keys --------------------------------------------------------------------------------
@route(
    "GET",
    "/v1/api-keys",
    summary="The current user's API keys (secrets not shown)",
    ok={"type": "array", "items": sc.KEY},
)
def list_api_keys() -> Any:
    uid = auth.current_user()["id"]
    with state() as data:
        return [public_key(k) for k in data["api_keys"].values() if k["user_id"] == uid]


@route(
    "POST",
    "/v1/api-keys",
    summary="Create an API key; the secret is returned once as api_key",
    body=sc.body_schema(sc.CREATE_KEY),
    ok=sc.NEW_KEY,
    ok_status=201,
)
def create_api_key() -> Any:
    values = _body(sc.CREATE_KEY)
    days = values["expires_in_days"]
    with state() as data:
        key = {
            "id": _next_id(data, "key"),
            "user_id": auth.current_user()["id"],
            "name": values["name"],
            "key": "sk_test_" + secrets.token_hex(16),
            "created_at": iso(now()),
            "expires_epoch": now() + days * 86400 if days is not None else None,
            "revoked": False,
        }
        data["api_keys"][key["id"]] = key
    return {**public_key(key), "api_key": key["key"]}, 201


@route("DELETE", "/v1/api-keys/<key_id>", summary="Revoke an API key", ok=sc.KEY)
def revoke_api_key(key_id: str) -> Any:
    with state() as data:
        key = data["api_keys"].get(key_id)
        if key is None or key["user_id"] != auth.current_user()["id"]:
            raise fail("not_found")
        key["revoked"] = True
        return public_key(key)


# --- database --------------------------------------------------------------------------------
@route(
    "GET",
    "/v1/database/projects",
    summary="The current user's projects",
    ok={"type": "array", "items": sc.PROJECT},
)
def list_projects() -> Any:
    uid = auth.current_user()["id"]
    with _connection("connection_pool_exhausted"), state() as data:
        return [dict(p) for p in data["projects"].values() if p["owner_id"] == uid]


@route(
    "POST",
    "/v1/database/projects",
    summary="Create a project",
    body=sc.body_schema(sc.CREATE_PROJECT),
    ok=sc.PROJECT,
    ok_status=201,
)
def create_project() -> Any:
    values = _body(sc.CREATE_PROJECT)
    with _connection("connection_pool_exhausted"), state() as data:
        project = {
            "id": _next_id(data, "proj"),
            "name": values["name"],
            "description": values["description"],
            "owner_id": auth.current_user()["id"],
            "created_at": iso(now()),
        }
        data["projects"][project["id"]] = project
        return dict(project), 201


@route("GET", "/v1/database/projects/<project_id>", summary="One project", ok=sc.PROJECT)
def get_project(project_id: str) -> Any:
    with _connection("connection_pool_exhausted"), state() as data:
        return _own_project(data, project_id)


@route(
    "POST",
    "/v1/database/query",
    summary="Run SQL in a project",
    body=sc.body_schema(sc.QUERY),
    ok=sc.QUERY_RESULT,
)
def query() -> Any:
    values = _body(sc.QUERY)
    with _connection("connection_pool_exhausted_on_query"):
        with state() as data:
            _own_project(data, values["project_id"])
            indexes = data["indexes"].get(values["project_id"], {})
        result, indexes = run_query(values["query"], indexes)
        with state() as data:
            data["indexes"][values["project_id"]] = indexes
        return result


# --- webhooks --------------------------------------------------------------------------------
@route(
    "GET",
    "/v1/webhooks",
    summary="The current user's webhooks (DEVELOPER or ADMIN)",
    ok={"type": "array", "items": sc.WEBHOOK},
)
def list_webhooks() -> Any:
    uid = auth.require_role("insufficient_permissions_role", "DEVELOPER", "ADMIN")["id"]
    with state() as data:
        return [
            {k: v for k, v in w.items() if k != "user_id"}
            for w in data["webhooks"].values()
            if w["user_id"] == uid
        ]
