"""Alloy's five MCP tools (seed 000, "MCP Protocol Issues" and "OAuth & Credential Issues"):
their input schemas, the credential rules and the connector and action checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from flask import request

from ..surface import fail, now, rule, state
from .alloy_actions import CONNECTORS, ID, Missing, bound, iso, item_result, limits, list_result
from .json_schema import best_error

EXECUTE = "execute_action_alloy"


@dataclass(frozen=True, slots=True)
class Context:
    """Who calls, on which server.

    Attributes:
        rid: The JSON-RPC id to echo.
        user: The x-alloy-userid (``anonymous`` on a public server without one).
        restrictions: The server's restrictions.
    """

    rid: Any
    user: str
    restrictions: dict[str, Any]


def args_schema(required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


TOOLS: dict[str, tuple[str, dict[str, Any]]] = {
    "get_connector_resources_alloy": (
        "List a connector's actions and authentication types.",
        args_schema(["connectorId"], connectorId=ID),
    ),
    "create_credential_alloy": (
        "Create an OAuth (needs the x-redirect-uri header) or API-key credential.",
        args_schema(
            ["connectorId", "authenticationType"],
            connectorId=ID,
            authenticationType={"enum": ["oauth2", "apiKey"]},
            fields={
                "type": "object",
                "maxProperties": 20,
                "propertyNames": {"minLength": 1, "maxLength": 200},
                "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 4096},
            },
        ),
    ),
    "get_credentials_alloy": (
        "List this user's credentials, optionally for one connector.",
        args_schema([], connectorId=ID),
    ),
    "get_credential_metadata_alloy": (
        "The exact credential fields a connector requires.",
        args_schema(["connectorId"], connectorId=ID),
    ),
    EXECUTE: (
        "Run a connector action with a credential.",
        args_schema(
            ["connectorId", "actionId"],
            connectorId=ID,
            actionId=ID,
            credentialId=ID,
            parameters={"type": "object"},
        ),
    ),
}


def invalid(rid: Any, message: str, code: int = -32600) -> Any:
    return fail("INVALID_REQUEST", id=rid, error__code=code, error__message=message[:500])


def validate(schema: dict[str, Any], instance: Any, rid: Any, what: str) -> None:
    error = best_error(schema, instance)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise invalid(rid, f"Invalid {what} at {where}: {error.message[:300]}", -32602)


def _connector(connector_id: str, ctx: Context, restricted: bool) -> dict[str, Any]:
    spec = CONNECTORS.get(connector_id)
    if spec is None:
        raise fail("CONNECTOR_NOT_FOUND", id=ctx.rid, error__data__connectorId=connector_id)
    allowed = ctx.restrictions.get("connectors") or {}
    if (
        restricted
        and allowed.get("mode") == "allowlist"
        and connector_id not in allowed.get("allowedIds", [])
    ):
        raise fail(
            "forbidden_connector_not_allowed", id=ctx.rid, error__data__connectorId=connector_id
        )
    return spec


def _bounded(structured: dict[str, Any]) -> dict[str, Any]:
    """Management tools' results cut to the same limits, marked when cut."""
    _, max_items, max_bytes = limits()
    out, cut = bound(structured, max_items, max_bytes)
    return {**out, "truncated": True, "truncatedFields": cut} if cut else out


def _blocked(ctx: Context, connector_id: str, action_id: str) -> bool:
    actions = ctx.restrictions.get("actions") or {}
    return actions.get("mode") == "blocklist" and f"{connector_id}.{action_id}" in actions.get(
        "blockedIds", []
    )


def get_connector_resources(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    cid = args["connectorId"]
    spec = _connector(cid, ctx, restricted=True)
    actions = [
        {"id": a, "description": d, "blocked": _blocked(ctx, cid, a), "inputSchema": s}
        for a, (d, s, _) in spec["actions"].items()
    ]
    return _bounded(
        {
            "connectorId": cid,
            "name": spec["name"],
            "authenticationTypes": spec["authenticationTypes"],
            "actions": actions,
        }
    )


def get_credential_metadata(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    cid = args["connectorId"]
    spec = _connector(cid, ctx, restricted=False)
    fields = [
        {"name": f, "required": True, "type": "string"}
        for f in rule("credential_fields").get(cid, [])
    ]
    meta: dict[str, Any] = {
        "connectorId": cid,
        "authenticationTypes": spec["authenticationTypes"],
        "fields": fields,
    }
    if "oauth2" in spec["authenticationTypes"]:
        meta["requiredHeaders"] = ["x-redirect-uri"]
    return _bounded(meta)


def create_credential(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    cid, kind = args["connectorId"], args["authenticationType"]
    spec = _connector(cid, ctx, restricted=False)
    if kind not in spec["authenticationTypes"]:
        raise invalid(
            ctx.rid,
            f"{cid} does not take {kind} credentials; it takes "
            f"{', '.join(spec['authenticationTypes'])}",
            -32602,
        )
    extra: dict[str, Any] = {}
    if kind == "oauth2":
        redirect = request.headers.get("x-redirect-uri", "").strip()
        if not redirect:
            raise fail("oauth_redirect_uri_missing", id=ctx.rid, error__data__connectorId=cid)
        parts = urlsplit(redirect)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise fail(
                "oauth_redirect_uri_missing",
                id=ctx.rid,
                error__data__connectorId=cid,
                error__message="x-redirect-uri must be an absolute http(s) URL",
            )
        extra["authorizationUrl"] = (
            f"https://auth.runalloy.com/oauth/{quote(cid)}/authorize"
            f"?redirect_uri={quote(redirect, safe='')}"
        )
    else:
        expected = list(rule("credential_fields").get(cid, []))
        fields = args.get("fields", {})
        unknown = [f for f in fields if f not in expected]
        missing = [f for f in expected if f not in fields]
        if unknown:
            raise fail(
                "credential_wrong_field_names",
                id=ctx.rid,
                error__message=f"Unknown credential fields for {cid}",
                error__data__connectorId=cid,
                error__data__unknownFields=unknown[:25],
                error__data__expectedFields=expected,
            )
        if missing:
            raise fail(
                "credential_missing_required_fields",
                id=ctx.rid,
                error__data__connectorId=cid,
                error__message=f"Missing required credential fields for {cid}",
                error__data__missingFields=missing,
                error__data__expectedFields=expected,
            )
    with state() as data:
        data["next_id"] += 1
        credential = {
            "credentialId": f"cred_{data['next_id']:04d}",
            "connectorId": cid,
            "userId": ctx.user,
            "authenticationType": kind,
            "status": "active",
            "createdAt": iso(now()),
        }
        data["credentials"][credential["credentialId"]] = credential
    return _bounded({**credential, **extra})


def get_credentials(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    cid = args.get("connectorId")
    if cid is not None:
        _connector(cid, ctx, restricted=False)
    with state() as data:
        found = [
            dict(c)
            for c in data["credentials"].values()
            if c["userId"] == ctx.user and cid in (None, c["connectorId"])
        ]
    return _bounded({"credentials": found})


def execute_action(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    cid, action_id = args["connectorId"], args["actionId"]
    spec = _connector(cid, ctx, restricted=True)
    if action_id not in spec["actions"]:
        folded = any(a.lower() == action_id.lower() for a in spec["actions"])
        raise fail(
            "action_not_found" if folded else "ACTION_NOT_FOUND",
            id=ctx.rid,
            error__data__connectorId=cid,
            error__data__actionId=action_id,
        )
    if _blocked(ctx, cid, action_id):
        raise fail(
            "forbidden_action_blocked",
            id=ctx.rid,
            error__data__connectorId=cid,
            error__data__actionId=action_id,
        )
    _, schema, run = spec["actions"][action_id]
    parameters = args.get("parameters", {})
    validate(schema, parameters, ctx.rid, f"parameters of {cid}.{action_id}")
    with state() as data:
        credential_id = args.get("credentialId")
        if credential_id is not None:
            credential = data["credentials"].get(credential_id)
            if credential is None or (credential["userId"], credential["connectorId"]) != (
                ctx.user,
                cid,
            ):
                raise fail(
                    "credential_not_found", id=ctx.rid, error__data__credentialId=credential_id
                )
        elif not any(
            (c["userId"], c["connectorId"]) == (ctx.user, cid) for c in data["credentials"].values()
        ):
            raise fail("CREDENTIAL_NOT_FOUND", id=ctx.rid, error__data__connectorId=cid)
        try:
            outcome = run(data, parameters)
        except Missing as exc:
            raise fail("NOT_FOUND", id=ctx.rid, error__message=str(exc)[:300]) from None
    if isinstance(outcome, list):
        return list_result(ctx.rid, outcome, parameters)
    return item_result(ctx.rid, outcome, spec["noun"])


HANDLERS = {
    "get_connector_resources_alloy": get_connector_resources,
    "create_credential_alloy": create_credential,
    "get_credentials_alloy": get_credentials,
    "get_credential_metadata_alloy": get_credential_metadata,
    EXECUTE: execute_action,
}
