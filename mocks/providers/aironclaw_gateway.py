"""AIronClaw's gateway: the rule schema of MCP servers and LLM proxies, and the proxy itself.

The proxy (``POST /proxy/mcp/<id>``, a client key as Bearer) applies the MCP server's rules in
the gateway's order (seed 002): an ``ip_acl`` deny (403 ``IP address not allowed``, audit event
``ip_blocked``), an active ban (403 ``IP address temporarily banned``), then each ``rate_limit``
rule counted per ``match_key`` value (429 with Retry-After). A rule exceeded
``ban_after_n_exceeded`` times within ``ban_timespan`` bans that value for ``ban_timespan``
seconds (audit event ``ip_banned``); the next request finds the ban. Allowed requests get the
upstream's JSON-RPC answer from the discovered tools.
"""

from __future__ import annotations

import ipaddress
import json
import math
from typing import Any

from flask import request

from ..surface import fail, hit, now, rule, state
from . import aironclaw_schemas as s
from .aironclaw_core import Invalid, api, body, user

INT_FIELDS = {
    "limit": 1_000_000,
    "window_s": 86_400,
    "ban_after_n_exceeded": 1_000,
    "ban_timespan": 2_592_000,
}
SPEC: dict[str, dict[str, Any]] = {
    "rate_limit": {
        "limit": "int",
        "window_s": "int",
        "match_key": ("ip", "consumer"),
        "ban_after_n_exceeded": "int?",
        "ban_timespan": "int?",
    },
    "ip_acl": {"action": ("allow", "deny"), "cidr": "cidr"},
}
MAX_RULES = 50
OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = {**s.STR, "pattern": f"^({OCTET}\\.){{3}}{OCTET}(/(3[0-2]|[12]?[0-9]))?$"}
CIDR = {"anyOf": [IPV4, {**s.STR, "format": "ipv6"}]}
POSITIVE = {name: {**s.INT, "minimum": 1, "maximum": top} for name, top in INT_FIELDS.items()}
RATE_LIMIT = {
    **s.obj("type", "limit", "window_s", type={"const": "rate_limit"},
            match_key={"enum": ["ip", "consumer"]}, **POSITIVE),
    "additionalProperties": False,
    "dependentRequired": {"ban_after_n_exceeded": ["ban_timespan"]},
}  # fmt: skip
IP_ACL = {
    **s.obj("type", "action", "cidr", type={"const": "ip_acl"},
            action={"enum": ["allow", "deny"]}, cidr=CIDR),
    "additionalProperties": False,
}  # fmt: skip
RULES = s.obj("rules", rules={**s.array({"oneOf": [RATE_LIMIT, IP_ACL]}), "maxItems": MAX_RULES})


class RuleError(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def _check_field(where: str, name: str, kind: Any, value: Any) -> Any:
    if isinstance(kind, tuple):
        if value not in kind:
            raise RuleError(where, f"must be one of {', '.join(kind)}")
        return value
    if kind == "cidr":
        try:
            if not isinstance(value, str):
                raise TypeError(value)
            ipaddress.ip_network(value, strict=False)
        except (TypeError, ValueError):
            raise RuleError(where, "must be an IP address or CIDR block") from None
        return value  # kept as written: the rules read back as they were put
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema's integer includes 5.0
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise RuleError(where, "must be a positive integer")
    if value > INT_FIELDS[name]:
        raise RuleError(where, f"must be at most {INT_FIELDS[name]}")
    return value


def _check_rule(index: int, item: Any) -> dict[str, Any]:
    where = f"rules[{index}]"
    if not isinstance(item, dict):
        raise RuleError(where, "must be an object")
    kind = item.get("type")
    if not isinstance(kind, str) or kind not in SPEC:
        raise RuleError(f"{where}.type", f"must be one of {', '.join(SPEC)}")
    spec = SPEC[kind]
    unknown = sorted(set(item) - set(spec) - {"type"})
    if unknown:
        raise RuleError(where, f"unknown field {json.dumps(unknown[0])[:60]} for a {kind} rule")
    out: dict[str, Any] = {"type": kind}
    for name, field_kind in spec.items():
        optional = isinstance(field_kind, str) and field_kind.endswith("?")
        if name not in item:
            if name == "match_key":
                out[name] = "ip"
            elif not optional:
                raise RuleError(f"{where}.{name}", "is required")
            continue
        out[name] = _check_field(
            f"{where}.{name}", name, field_kind.rstrip("?") if optional else field_kind, item[name]
        )
    if "ban_after_n_exceeded" in out and "ban_timespan" not in out:
        raise RuleError(f"{where}.ban_timespan", "is required with ban_after_n_exceeded")
    return out


def validate_rules(payload: Any) -> list[dict[str, Any]]:
    """The rules of a PUT body, normalised; 400 ``<rule field>: <reason>`` on the first problem."""
    try:
        if not isinstance(payload, dict) or "rules" not in payload:
            raise RuleError("rules", "is required")
        items = payload["rules"]
        if not isinstance(items, list):
            raise RuleError("rules", "must be an array")
        if len(items) > MAX_RULES:
            raise RuleError("rules", f"must hold at most {MAX_RULES} rules")
        return [_check_rule(i, item) for i, item in enumerate(items)]
    except RuleError as exc:
        raise fail("invalid_rule", params={"field": exc.field, "reason": exc.reason}) from None


def client_ip() -> str:
    """The caller's address: the first X-Forwarded-For hop when it is an IP, else the peer."""
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(forwarded))
    except ValueError:
        return request.remote_addr or "127.0.0.1"


def acl_blocks(rules: list[dict[str, Any]], ip: str) -> bool:
    """Denied by an ip_acl deny rule, or outside every ip_acl allow rule when there are some."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    acl = [
        (r["action"], ipaddress.ip_network(r["cidr"], strict=False))
        for r in rules
        if r["type"] == "ip_acl"
    ]
    if any(action == "deny" and address in net for action, net in acl):
        return True
    allows = [net for action, net in acl if action == "allow"]
    return bool(allows) and not any(address in net for net in allows)


def log_event(
    data: dict[str, Any], owner: str, event: str, ip: str, target: str, detail: str
) -> None:
    logs = data["logs"]
    logs.append(
        {
            "id": f"log_{len(logs) + 1:04d}_{int(now())}",
            "event_type": event,
            "created": now(),
            "owner": owner,
            "ip": ip,
            "target": target,
            "detail": detail,
        }
    )
    del logs[:-1000]


def _match_value(limit: dict[str, Any], ip: str) -> str:
    return f"consumer:{user()}" if limit["match_key"] == "consumer" else ip


def _exceeded(mcp_id: str, owner: str, limit: dict[str, Any], value: str, ip: str) -> None:
    """Record one exceedance of a rate_limit rule; ban the value after ban_after_n_exceeded."""
    n, span = limit.get("ban_after_n_exceeded"), limit.get("ban_timespan", 0)
    if not n:
        return
    key = f"{mcp_id}|{value}"
    with state() as data:
        recent = [t for t in data["exceeded"].get(key, []) if t > now() - span] + [now()]
        data["exceeded"][key] = recent
        if len(recent) >= n:
            data["bans"][key] = now() + span
            data["exceeded"].pop(key)
            log_event(
                data,
                owner,
                "ip_banned",
                ip,
                mcp_id,
                f"rate_limit exceeded {n} times; banned for {span} s",
            )


def _gate(mcp_id: str) -> dict[str, Any]:
    """The MCP server, once the gateway's rules let the request through."""
    ip = client_ip()
    with state() as data:
        mcp = data["mcps"].get(mcp_id)
        if mcp is None or mcp["owner"] != user():
            raise fail("mcp_not_found")
        limits = [r for r in mcp["rules"] if r["type"] == "rate_limit"]
        blocked = acl_blocks(mcp["rules"], ip)
        if blocked:
            log_event(data, mcp["owner"], "ip_blocked", ip, mcp_id, "ip_acl rule")
        banned = [
            r for r in limits if data["bans"].get(f"{mcp_id}|{_match_value(r, ip)}", 0) > now()
        ]
        found = {**mcp, "rules": list(mcp["rules"])}
    if blocked:
        raise fail("ip_acl_denied")
    if banned:
        raise fail("ip_banned", params={"ban_timespan": int(banned[0].get("ban_timespan", 0))})
    for index, limit in enumerate(limits):
        value = _match_value(limit, ip)
        count = hit(f"proxy:{mcp_id}:{index}:{value}", float(limit["window_s"]))
        if count.count > int(limit["limit"]):
            _exceeded(mcp_id, found["owner"], limit, value, ip)
            http_date = rule("proxy_rate_limit").get("retry_after_format") == "http_date"
            raise fail(
                "proxy_rate_limited_http_date" if http_date else "proxy_rate_limited",
                params={"retry_after": max(1, math.ceil(count.reset_at - now()))},
            )
    return found


def _envelope_ok(call: dict[str, Any]) -> bool:
    """A JSON-RPC 2.0 request object, as the request schema describes it."""
    return (
        call.get("jsonrpc") == "2.0"
        and isinstance(call.get("method"), str)
        and ("id" not in call or s.valid(s.RPC_ID, call["id"]))
        and isinstance(call.get("params", {}), dict)
    )


def _rpc(mcp: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
    """The upstream MCP server's JSON-RPC answer."""
    method, params = call["method"], call.get("params") or {}
    tools = {t["name"]: t for t in mcp["tools"]}
    if method == "initialize":
        return {
            "result": {
                "protocolVersion": "2025-03-26",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": mcp["name"], "version": "1.0.0"},
            }
        }
    if method == "ping":
        return {"result": {}}
    if method == "tools/list":
        return {"result": {"tools": list(tools.values())}}
    if method == "tools/call":
        name = params.get("name") if isinstance(params, dict) else None
        if not isinstance(name, str) or name not in tools:
            return {"error": {"code": -32602, "message": "Unknown tool"}}
        return {
            "result": {
                "content": [{"type": "text", "text": f"{name}: 1 result from {mcp['name']}"}]
            }
        }
    return {"error": {"code": -32601, "message": "Method not found"}}


@api("POST", "/proxy/mcp/<mcp_id>", auth="client", summary="Proxy one MCP JSON-RPC call",
     body=s.RPC_IN, ok=s.RPC)  # fmt: skip
def proxy_mcp(mcp_id: str) -> Any:
    mcp = _gate(mcp_id)
    call = body()
    if not isinstance(call, dict) or not _envelope_ok(call):
        raise Invalid(
            "Invalid JSON-RPC request: jsonrpc 2.0, a method, an optional id and params object"
        )
    call_id = call.get("id")
    return {
        "jsonrpc": "2.0",
        "id": call_id if isinstance(call_id, (int, str)) else None,
        **_rpc(mcp, call),
    }
