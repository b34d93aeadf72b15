"""Airbyte data: the seeded workspaces, connectors and upstream records, JSON Schemas, actions.

The mock's test connector is Stripe-like (``entity_names`` rule): ``customers`` (list, get) and
``balance`` (get). Upstream failures of an action come back inside the result, as the SDK's
``result.error`` (the seed's retry helper reads its first characters as the status).
"""

from __future__ import annotations

import time
from typing import Any

from ..surface import rule
from .airbyte_auth import ORG

OTHER_ORG = "org_other"
DEFINITION_ID = "6b1c8c3e-2f4a-4d5e-9a7b-1c2d3e4f5a6b"
DEFINITIONS = {
    DEFINITION_ID: {
        "name": "test-connector",
        "auth_structures": [["api_key"], ["access_key", "access_key_secret"]],
    }
}
INSTANCE_ID = "c0ffee00-0000-4000-8000-000000000001"
OTHER_ORG_INSTANCE_ID = "c0ffee00-0000-4000-8000-0000000000aa"
NAME = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"}
WORKSPACE = {
    "type": "object",
    "required": ["id", "name", "organization_id", "created_at"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "organization_id": {"type": "string"},
        "created_at": {"type": "string"},
    },
}
CONNECTOR = {
    "type": "object",
    "required": [
        "id",
        "name",
        "workspace_name",
        "workspace_id",
        "connector_definition_id",
        "created_at",
    ],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "workspace_name": {"type": "string"},
        "workspace_id": {"type": "string"},
        "connector_definition_id": {"type": "string"},
        "created_at": {"type": "string"},
    },
}
CREATE_WORKSPACE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": NAME},
}
CREATE_CONNECTOR = {
    "type": "object",
    "additionalProperties": False,
    "required": ["workspace_name", "connector_definition_id", "name", "credentials"],
    "properties": {
        "workspace_name": NAME,
        "connector_definition_id": {"enum": sorted(DEFINITIONS)},
        "name": NAME,
        # One branch per accepted field set, so every schema-valid body is a body the API takes.
        "credentials": {
            "oneOf": [
                {
                    "type": "object",
                    "required": list(fields),
                    "additionalProperties": False,
                    "properties": {
                        f: {"type": "string", "minLength": 1, "maxLength": 4096} for f in fields
                    },
                }
                for fields in sorted(
                    {tuple(s) for d in DEFINITIONS.values() for s in d["auth_structures"]}
                )
            ]
        },
    },
}
EXECUTE = {
    "type": "object",
    "required": ["entity", "action"],
    "additionalProperties": False,
    "properties": {
        "entity": {"type": "string", "minLength": 1, "maxLength": 100},
        "action": {"type": "string", "minLength": 1, "maxLength": 50},
        "params": {"type": "object"},
    },
}
EXECUTE_OK = {
    "type": "object",
    "required": ["success", "data", "error", "meta"],
    "properties": {
        "success": {"type": "boolean"},
        "data": {},
        "error": {"type": ["string", "null"]},
        "meta": {"type": "object"},
    },
}


def list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "array", "items": item}},
    }


def stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def seed() -> dict[str, Any]:
    created = "2025-01-15T09:30:00Z"
    workspaces = {
        "test-workspace": {
            "id": "3f1e0a52-7c2b-4e8d-9f40-5b6a7c8d9e01",
            "name": "test-workspace",
            "organization_id": ORG,
            "created_at": created,
        },
        "other-org-workspace": {
            "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "name": "other-org-workspace",
            "organization_id": OTHER_ORG,
            "created_at": created,
        },
    }
    connectors = {
        INSTANCE_ID: {
            "id": INSTANCE_ID,
            "name": "stripe-main",
            "workspace_name": "test-workspace",
            "workspace_id": workspaces["test-workspace"]["id"],
            "connector_definition_id": DEFINITION_ID,
            "created_at": created,
        },
        OTHER_ORG_INSTANCE_ID: {
            "id": OTHER_ORG_INSTANCE_ID,
            "name": "stripe-other",
            "created_at": created,
            "workspace_name": "other-org-workspace",
            "workspace_id": workspaces["other-org-workspace"]["id"],
            "connector_definition_id": DEFINITION_ID,
        },
    }
    customers = [
        {
            "id": f"cus_00{i}",
            "object": "customer",
            "email": email,
            "name": name,
            "created": 1736930000 + i,
        }
        for i, (email, name) in enumerate(
            [
                ("ada@example.com", "Ada Lovelace"),
                ("pattern@example.com", "Pat Tern"),
                ("grace@example.com", "Grace Hopper"),
            ],
            start=1,
        )
    ]
    balance = {
        "object": "balance",
        "available": [{"amount": 125000, "currency": "usd"}],
        "pending": [{"amount": 4200, "currency": "usd"}],
    }
    return {
        "workspaces": workspaces,
        "connectors": connectors,
        "tokens": {},
        "in_flight": {},
        "upstream": {"customers": customers, "balance": balance},
    }


def params_schema(entity: str, action: str) -> dict[str, Any]:
    if (entity, action) == ("customers", "list"):
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "limit": {"type": "integer", "minimum": 1, "maximum": int(rule("bulk_list_limit"))},
                "email": {"type": "string", "maxLength": 254},
                "starting_after": {"type": "string", "maxLength": 100},
            },
        }
    if action == "get" and entity != "balance":
        return {
            "type": "object",
            "additionalProperties": False,
            "required": ["id"],
            "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 100}},
        }
    return {"type": "object", "maxProperties": 0}


def run_action(
    upstream: dict[str, Any], entity: str, action: str, params: dict[str, Any]
) -> dict[str, Any]:
    """The upstream call; upstream failures come back in the result (the SDK's result.error)."""
    meta: dict[str, Any] = {"entity": entity, "action": action}
    records = upstream.get(entity, [])
    if action == "list" and isinstance(records, list):
        chosen = [r for r in records if params.get("email") in (None, r.get("email"))]
        after = params.get("starting_after")
        if after is not None:
            ids = [r["id"] for r in chosen]
            chosen = chosen[ids.index(after) + 1 :] if after in ids else []
        limit = int(params.get("limit", 20))
        meta.update(count=len(chosen[:limit]), has_more=len(chosen) > limit)
        return {"success": True, "data": chosen[:limit], "error": None, "meta": meta}
    if action == "get" and isinstance(records, list):
        match = next((r for r in records if r.get("id") == params["id"]), None)
        if match is None:
            return {
                "success": False,
                "data": None,
                "error": f"404: No such {entity} record: {params['id']}",
                "meta": meta,
            }
        return {"success": True, "data": match, "error": None, "meta": meta}
    return {"success": True, "data": records, "error": None, "meta": meta}
