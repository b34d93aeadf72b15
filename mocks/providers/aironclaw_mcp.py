"""AIronClaw MCP servers, their tools and rules, and LLM proxy rules.

Rules (seed 002): ``name e url sono obbligatori`` without a name or url, ``auth.jwksJson:
<reason>`` for a JWKS document that fails structural validation, the per-user MCP quota
(``MCP limit reached (N/M)``), ``MCP server not found`` / ``LLM proxy not found`` from ownership
and state (and, with ``api_no_store.read_lag_s`` set, right after a create), and rule schema
validation (``<rule field>: <reason>``). A tool refresh contacts the MCP's url: in the mock, a
clearly fake url decides the 502 (``.invalid`` hosts and TEST-NET addresses do not answer, an
``.html`` page is not JSON); any other url discovers the two test tools.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from ..surface import fail, now, rule, state
from . import aironclaw_schemas as s
from .aironclaw_core import TOOLS, Invalid, api, body, body_object, iso, new_mcp, owned_mcp, user
from .aironclaw_gateway import RULES, validate_rules

NETS = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
TEST_NETS = [ipaddress.ip_network(n) for n in NETS]


def _view(mcp: dict[str, Any]) -> dict[str, Any]:
    refreshed = mcp["tools_refreshed_at"]
    return {
        "id": mcp["id"], "name": mcp["name"], "url": mcp["url"],
        "auth": {k: v for k, v in mcp["auth"].items() if k != "bearer"},
        "tools": [t["name"] for t in mcp["tools"]],
        "tools_refreshed_at": iso(refreshed) if refreshed else None,
        "created_at": iso(mcp["created"]), "updated_at": iso(mcp["updated"]),
    }  # fmt: skip


def jwks_problem(value: Any) -> str | None:
    """Why ``value`` is not a structurally valid JWKS document, or ``None``."""
    if not isinstance(value, dict):
        return "must be a JSON object"
    keys = value.get("keys")
    if not isinstance(keys, list) or not keys:
        return "keys must be a non-empty array"
    for index, key in enumerate(keys):
        if not isinstance(key, dict):
            return f"keys[{index}] must be an object"
        if not isinstance(key.get("kty"), str) or not key["kty"]:
            return f"keys[{index}].kty is required"
    return None


def _fields(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    """name, url and auth of a create (name and url required) or an update (all optional)."""
    out: dict[str, Any] = {}
    for name in ("name", "url"):
        if partial and name not in data:
            continue
        value: Any = data.get(name)
        if not s.valid(s.TEXT, value):
            raise fail("mcp_name_url_required")
        if name == "url" and not s.valid(s.URL, value):
            raise Invalid("url must be an http(s) URL")
        out[name] = value.strip()
    if "auth" in data:
        auth = data["auth"]
        if not isinstance(auth, dict):
            raise Invalid("auth must be an object")
        if "type" in auth and not s.valid(s.AUTH_TYPE, auth["type"]):
            raise Invalid("auth.type must be one of none, bearer, jwt")
        if "bearer" in auth and not isinstance(auth["bearer"], str):
            raise Invalid("auth.bearer must be a string")
        if "jwksJson" in auth and (problem := jwks_problem(auth["jwksJson"])):
            raise fail("invalid_jwks", params={"reason": problem})
        out["auth"] = {k: v for k, v in auth.items() if k in ("type", "bearer", "jwksJson")}
    return out


@api("GET", "/api/mcp", summary="List your MCP servers", ok=s.MCP_LIST)
def list_mcp() -> Any:
    with state() as data:
        mine = [_view(m) for m in data["mcps"].values() if m["owner"] == user()]
    return {"mcps": mine, "count": len(mine), "limit": int(rule("mcp_quota"))}


@api("POST", "/api/mcp", summary="Register an MCP server", body=s.MCP_IN, ok=s.MCP, ok_status=201)
def create_mcp() -> Any:
    data_in = body()
    fields = _fields(data_in if isinstance(data_in, dict) else {}, partial=False)
    quota = int(rule("mcp_quota"))
    with state() as data:
        count = sum(m["owner"] == user() for m in data["mcps"].values())
        if count >= quota:
            raise fail("mcp_limit_reached", params={"count": count, "limit": quota})
        mcp = new_mcp(user(), fields["name"], fields["url"], now(), fields.get("auth"))
        data["mcps"][mcp["id"]] = mcp
        return _view(mcp), 201


@api("POST", "/api/mcp/jwks/test", summary="Check a JWKS document before saving it",
     body=s.JWKS_TEST_IN, ok=s.JWKS_TEST)  # fmt: skip
def check_jwks() -> Any:
    jwks: Any = body_object().get("jwksJson")
    problem = jwks_problem(jwks)
    if problem:
        raise fail("invalid_jwks", params={"reason": problem})
    return {"valid": True, "keys": len(jwks["keys"])}


@api("GET", "/api/mcp/<mcp_id>", summary="Get one MCP server", ok=s.MCP)
def get_mcp(mcp_id: str) -> Any:
    with state() as data:
        mcp = owned_mcp(data, mcp_id)
        view, created = _view(mcp), mcp["created"]
    if now() - created < float(rule("api_no_store")["read_lag_s"]):
        raise fail("mcp_not_found_after_create")
    return view


@api("PATCH", "/api/mcp/<mcp_id>", summary="Update an MCP server's name, url or auth",
     body={**s.MCP_IN, "required": []}, ok=s.MCP)  # fmt: skip
def update_mcp(mcp_id: str) -> Any:
    fields = _fields(body_object(), partial=True)
    with state() as data:
        mcp = owned_mcp(data, mcp_id)
        mcp.update(fields, updated=now())
        return _view(mcp)


@api("DELETE", "/api/mcp/<mcp_id>", summary="Delete an MCP server", ok=s.DELETED)
def delete_mcp(mcp_id: str) -> Any:
    with state() as data:
        owned_mcp(data, mcp_id)
        del data["mcps"][mcp_id]
    return {"deleted": True, "id": mcp_id}


def upstream_failure(url: str) -> tuple[str, str] | None:
    """The scenario and relayed error of a tool refresh against ``url``; ``None`` if it answers."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "upstream_mcp_unreachable", "Invalid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "upstream_mcp_unreachable", "Invalid URL"
    if host == "invalid" or host.endswith(".invalid"):
        return "upstream_mcp_unreachable", f"getaddrinfo ENOTFOUND {host[:100]}"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and any(address in net for net in TEST_NETS):
        return "upstream_mcp_unreachable", f"connect ECONNREFUSED {address}:{port}"
    if parts.path.lower().endswith((".html", ".htm")):
        return "upstream_mcp_non_json", "upstream returned non-JSON (HTTP 200, text/html)"
    return None


@api("GET", "/api/mcp/<mcp_id>/tools", summary="Tools found by the last refresh", ok=s.TOOL_LIST)
def list_tools(mcp_id: str) -> Any:
    with state() as data:
        mcp = owned_mcp(data, mcp_id)
        refreshed = mcp["tools_refreshed_at"]
        return {"tools": mcp["tools"], "refreshed_at": iso(refreshed) if refreshed else None}


@api("POST", "/api/mcp/<mcp_id>/tools", summary="Refresh the tools from the upstream MCP server",
     ok=s.TOOL_LIST)  # fmt: skip
def refresh_tools(mcp_id: str) -> Any:
    with state() as data:
        url = owned_mcp(data, mcp_id)["url"]
    failure = upstream_failure(url)
    if failure:
        raise fail(failure[0], params={"upstream_error": failure[1]})
    with state() as data:
        mcp = owned_mcp(data, mcp_id)
        mcp.update(tools=[dict(t) for t in TOOLS], tools_refreshed_at=now())
        return {"tools": mcp["tools"], "refreshed_at": iso(now())}


def _rules(kind: str, item_id: str, new: list[dict[str, Any]] | None) -> Any:
    """Read (or replace) the rules of an owned MCP server (``mcps``) or LLM proxy (``llms``)."""
    with state() as data:
        item = data[kind].get(item_id)
        if item is None or item["owner"] != user():
            raise fail("mcp_not_found" if kind == "mcps" else "llm_proxy_not_found")
        if new is not None:
            item["rules"] = new
        return {"rules": item["rules"]}


@api("GET", "/api/mcp/<mcp_id>/rules", summary="An MCP server's gateway rules", ok=RULES)
def get_rules(mcp_id: str) -> Any:
    return _rules("mcps", mcp_id, None)


@api(
    "PUT", "/api/mcp/<mcp_id>/rules", summary="Replace an MCP server's rules", body=RULES, ok=RULES
)
def put_rules(mcp_id: str) -> Any:
    return _rules("mcps", mcp_id, validate_rules(body()))


@api("GET", "/api/llm/<llm_id>/rules", summary="An LLM proxy's gateway rules", ok=RULES)
def get_llm_rules(llm_id: str) -> Any:
    return _rules("llms", llm_id, None)


@api("PUT", "/api/llm/<llm_id>/rules", summary="Replace an LLM proxy's rules", body=RULES, ok=RULES)
def put_llm_rules(llm_id: str) -> Any:
    return _rules("llms", llm_id, validate_rules(body()))
