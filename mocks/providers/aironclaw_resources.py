"""AIronClaw MCP resources: URIs unique per MCP server, ``Resource not found`` from state."""

from __future__ import annotations

from typing import Any

from ..surface import fail, state
from . import aironclaw_schemas as s
from .aironclaw_core import Invalid, api, body_object, new_id, owned_mcp


def _fields(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    out = {}
    for name in s.RESOURCE_FIELDS:
        if name not in data:
            if name == "uri" and not partial:
                raise Invalid("uri is required")
            continue
        if not isinstance(data[name], str) or not data[name].strip():
            raise Invalid(f"{name} must be a non-empty string")
        out[name] = data[name].strip()
    return out


def _uri_taken(mcp: dict[str, Any], uri: str | None, resource_id: str | None) -> bool:
    resources = mcp["resources"].values()
    return uri is not None and any(r["uri"] == uri and r["id"] != resource_id for r in resources)


@api("GET", "/api/mcp/<mcp_id>/resources", summary="An MCP server's resources", ok=s.RESOURCE_LIST)
def list_resources(mcp_id: str) -> Any:
    with state() as data:
        return {"resources": list(owned_mcp(data, mcp_id)["resources"].values())}


@api("POST", "/api/mcp/<mcp_id>/resources", summary="Add a resource (URI unique per MCP server)",
     body=s.RESOURCE_IN, ok=s.RESOURCE, ok_status=201)  # fmt: skip
def create_resource(mcp_id: str) -> Any:
    fields = _fields(body_object(), partial=False)
    with state() as data:
        mcp = owned_mcp(data, mcp_id)
        if _uri_taken(mcp, fields["uri"], None):
            raise fail("resource_uri_in_use")
        resource = {"id": new_id(), "name": fields["uri"], **fields}
        mcp["resources"][resource["id"]] = resource
        return resource, 201


@api("PATCH", "/api/mcp/<mcp_id>/resources/<resource_id>", summary="Update a resource",
     body={**s.RESOURCE_IN, "required": []}, ok=s.RESOURCE)  # fmt: skip
def patch_resource(mcp_id: str, resource_id: str) -> Any:
    fields = _fields(body_object(), partial=True)
    with state() as data:
        mcp = owned_mcp(data, mcp_id)
        resource = mcp["resources"].get(resource_id)
        if resource is None:
            raise fail("resource_not_found")
        if _uri_taken(mcp, fields.get("uri"), resource_id):
            raise fail("resource_uri_in_use")
        resource.update(fields)
        return resource


@api("DELETE", "/api/mcp/<mcp_id>/resources/<resource_id>", summary="Delete a resource",
     ok=s.DELETED)  # fmt: skip
def delete_resource(mcp_id: str, resource_id: str) -> Any:
    with state() as data:
        mcp = owned_mcp(data, mcp_id)
        if mcp["resources"].pop(resource_id, None) is None:
            raise fail("resource_not_found")
    return {"deleted": True, "id": resource_id}
