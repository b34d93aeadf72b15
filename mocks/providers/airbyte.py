"""Airbyte Agent Connectors: the hosted API under /api/v1 and its OAuth token endpoint.

Rules from seed 001: workspaces looked up by NAME (``workspace_not_found``), ``auth_type`` refused
in connector credentials, the SDK's wrong path ``/v1/integrations/connectors`` (404), connector
execution with case-sensitive entity and action names, plus the credential, scope and rate-limit
rules of ``airbyte_auth``. Errors are RFC 7807 problems; the token endpoint answers RFC 6749.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from ..surface import Surface, args, fail, json_body, now, rule, state
from . import airbyte_auth as auth
from . import airbyte_data as model
from .airbyte_data import (
    CONNECTOR,
    CREATE_CONNECTOR,
    CREATE_WORKSPACE,
    DEFINITIONS,
    EXECUTE,
    EXECUTE_OK,
    NAME,
    WORKSPACE,
    list_of,
    seed,
    stamp,
)
from .json_schema import best_error

MAX_BODY = 64 * 1024
MAX_DETAIL = 300


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


def _path() -> str:
    return request.path.removeprefix("/airbyte") or "/"


def generic_error(status: int, title: str) -> Any:
    detail = (
        f"No route for {request.method} {_path()}"
        if status == 404
        else f"{title}: {request.method} {_path()}"
    )
    return {"type": "about:blank", "title": title, "status": status, "detail": _clip(detail)}


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return _clip(f"{where}: {error.message}")


def _validate(instance: Any, schema: dict[str, Any]) -> None:
    error = best_error(schema, instance)
    if error is not None:
        raise fail("validation_error", detail=_describe(error))


def _body(schema: dict[str, Any] | None = None) -> Any:
    if (request.content_length or 0) > MAX_BODY:
        raise RequestEntityTooLarge()
    try:
        body = json_body()
    except ValueError as exc:
        raise fail("validation_error", detail=_clip(str(exc))) from None
    if schema is not None:
        _validate(body, schema)
    return body


def _workspace(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The workspace named ``name`` (external_user_id is a workspace NAME) the token may use."""
    workspace = data["workspaces"].get(name)
    if workspace is None:
        raise fail(
            "workspace_not_found",
            detail=_clip(
                f"No workspace named {name}: external_user_id must match an existing workspace name"
            ),
        )
    if workspace["organization_id"] != auth.grant()["org"]:
        raise fail("forbidden", detail=_clip(f"Workspace {name} belongs to another organization"))
    found: dict[str, Any] = workspace
    return found


surface = Surface(
    "airbyte",
    seed=seed,
    authenticate=auth.authenticate,
    generic_error=generic_error,
    # Werkzeug's own errors (405, 413, unknown path) go out as problem+json like the others.
    generic_error_type="application/problem+json",
)
surface.blueprint.teardown_request(auth.release_slot)


@surface.route(
    "GET",
    "/api/v1/workspaces",
    summary="List the organization's workspaces",
    ok=list_of(WORKSPACE),
)
def list_workspaces() -> Any:
    auth.require("workspaces:read")
    with state() as data:
        own = [
            w for w in data["workspaces"].values() if w["organization_id"] == auth.grant()["org"]
        ]
    return {"data": own}


@surface.route(
    "POST",
    "/api/v1/workspaces",
    summary="Create a workspace (admin only)",
    body=CREATE_WORKSPACE,
    ok=WORKSPACE,
    ok_status=201,
)
def create_workspace() -> Any:
    auth.require("workspaces:write")
    auth.require_admin()
    name = _body(CREATE_WORKSPACE)["name"]
    with state() as data:
        if name in data["workspaces"]:
            raise fail(
                "workspace_already_exists", detail=_clip(f"A workspace named {name} already exists")
            )
        workspace = {
            "id": str(uuid.uuid4()),
            "name": name,
            "organization_id": auth.grant()["org"],
            "created_at": stamp(now()),
        }
        data["workspaces"][name] = workspace
    return workspace, 201


@surface.route(
    "GET",
    "/api/v1/integrations/connectors",
    summary="List connectors, optionally of one workspace",
    query={"workspace_name": NAME},
    ok=list_of(CONNECTOR),
)
def list_connectors() -> Any:
    auth.require("connectors:read")
    name = args().get("workspace_name")
    with state() as data:
        if name is not None:
            _workspace(data, name)
        own = {
            w["name"]
            for w in data["workspaces"].values()
            if w["organization_id"] == auth.grant()["org"]
        }
        found = [
            c
            for c in data["connectors"].values()
            if c["workspace_name"] in own and name in (None, c["workspace_name"])
        ]
    return {"data": found}


@surface.route(
    "POST",
    "/api/v1/integrations/connectors",
    summary="Create a hosted connector in a workspace",
    body=CREATE_CONNECTOR,
    ok=CONNECTOR,
    ok_status=201,
)
def create_connector() -> Any:
    auth.require("connectors:write")
    body = _body()
    credentials = body.get("credentials") if isinstance(body, dict) else None
    if isinstance(credentials, dict) and "auth_type" in credentials:
        raise fail("credentials_with_auth_type")
    _validate(body, CREATE_CONNECTOR)
    definition = DEFINITIONS.get(body["connector_definition_id"])
    if definition is None:
        raise fail(
            "validation_error",
            detail=_clip(
                f"connector_definition_id {body['connector_definition_id']} "
                "is not a known connector definition"
            ),
        )
    structures = definition["auth_structures"]
    if sorted(body["credentials"]) not in structures:
        expected = " | ".join(", ".join(s) for s in structures)
        raise fail(
            "validation_error",
            detail=f"credentials match no auth structure of this connector; "
            f"expected the fields {expected}",
        )
    with state() as data:
        workspace = _workspace(data, body["workspace_name"])
        connector = {
            "id": str(uuid.uuid4()),
            "name": body["name"],
            "workspace_name": workspace["name"],
            "workspace_id": workspace["id"],
            "connector_definition_id": body["connector_definition_id"],
            "created_at": stamp(now()),
        }
        data["connectors"][connector["id"]] = connector
    return connector, 201


@surface.route(
    "POST",
    "/api/v1/connectors/instances/<instance_id>/execute",
    summary="Execute an entity action on a connector instance",
    body=EXECUTE,
    ok=EXECUTE_OK,
)
def execute(instance_id: str) -> Any:
    auth.require("connectors:execute")
    with state() as data:
        connector = data["connectors"].get(instance_id)
        if connector is None:
            raise fail("connector_not_found", detail=_clip(f"No connector with id {instance_id}"))
        own = (
            data["workspaces"][connector["workspace_name"]]["organization_id"]
            == auth.grant()["org"]
        )
        upstream = data["upstream"]
    if not own:
        raise fail("resource_access_denied")
    call = _body(EXECUTE)
    entity, action, params = call["entity"], call["action"], call.get("params", {})
    entities: dict[str, list[str]] = rule("entity_names")["test_connector_entities"]
    if entity not in entities:
        raise fail(
            "entity_not_found",
            detail=f"EntityNotFoundError: entity '{entity}' does not exist on this "
            "connector (names are case sensitive)",
        )
    if action not in entities[entity]:
        raise fail(
            "action_not_supported",
            detail=f"ActionNotSupportedError: entity '{entity}' does not support action '{action}'",
        )
    _validate(params, model.params_schema(entity, action))
    return model.run_action(upstream, entity, action, params)


@surface.route(
    "POST",
    "/api/v1/oauth/token",
    summary="OAuth 2.0 token endpoint (refresh_token grant)",
    body=auth.TOKEN_BODY,
    ok=auth.TOKEN_OK,
    public=True,
)
def refresh_token() -> Any:
    return auth.token_endpoint()


def wrong_path() -> Any:
    """The SDK's create_hosted() path, without /api: not a route of the API (seed: HTTP 404)."""
    raise fail(
        "create_hosted_wrong_path",
        detail=f"No route for {request.method} /v1/integrations/connectors",
    )


# Not declared with surface.route: it is no operation of the API, so the OpenAPI document omits it.
surface.blueprint.add_url_rule(
    "/v1/integrations/connectors",
    "create_hosted_wrong_path",
    wrong_path,
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
)
