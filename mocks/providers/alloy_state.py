"""Alloy's session state and the checks that read it: servers and their token URLs, API keys and
JWTs, and the request budget.

Token URLs are issued at a time from the config clock and expire ``tokenExpiresInDays`` later;
a regenerated token is kept, marked ``replaced``, so the old URL can say why it stopped working.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import math
import secrets
from typing import Any

import orjson

from ..surface import fail, hit, now, rule, state
from .alloy_actions import iso

KEYS = frozenset({"alloy_test_key"})
DAY_S = 86_400.0
PAGE_TEXT = (
    "Agenda: review Q3 goals, staffing, budget and launch dates; "
    "owners confirm milestones and risks. "
)


def _server(
    server_id: str, name: str, restrictions: dict[str, Any], token: str, t0: float, **older: Any
) -> dict[str, Any]:
    return {
        "id": server_id,
        "name": name,
        "createdAt": t0 - 90 * DAY_S,
        "restrictions": restrictions,
        "token": token,
        "tokens": {token: {"issuedAt": t0, "replaced": False}, **older},
        "deleted": False,
    }


def seed() -> dict[str, Any]:
    """Private srv_demo (with the expired and regenerated test tokens), public srv_public and
    the deleted srv_deleted; user_demo's Slack and Notion credentials; the connectors' data."""
    t0, days = now(), float(rule("token_expires_in_days"))
    demo = _server(
        "srv_demo",
        "Demo server",
        copy.deepcopy(rule("server_restrictions")),
        "tok_demo_valid",
        t0,
        tok_demo_expired={"issuedAt": t0 - (days + 1) * DAY_S, "replaced": False},
        tok_demo_old={"issuedAt": t0 - DAY_S, "replaced": True},
    )
    public = _server("srv_public", "Public server", {"mode": "public"}, "tok_public_valid", t0)
    deleted = _server("srv_deleted", "Deleted server", {"mode": "public"}, "tok_deleted", t0)
    deleted["deleted"] = True
    credentials = {
        cid: {
            "credentialId": cid,
            "connectorId": connector,
            "userId": "user_demo",
            "authenticationType": "oauth2",
            "status": "active",
            "createdAt": iso(t0 - 7 * DAY_S),
        }
        for cid, connector in (("cred_abc123", "slack"), ("cred_notion123", "notion"))
    }
    servers = {s["id"]: s for s in (demo, public, deleted)}
    return {"servers": servers, "credentials": credentials, "next_id": 0, **seed_data()}


def seed_data() -> dict[str, Any]:
    """Connector-side data: 137 Slack channels (40 active), Notion pages, contacts, orders."""
    channels = [
        {
            "id": f"C{i:04d}",
            "name": f"channel-{i:02d}",
            "status": "active" if i <= 40 else "archived",
        }
        for i in range(1, 138)
    ]
    contacts = [
        {"id": f"hs_{i:03d}", "name": f"Contact {i}", "email": f"contact{i}@example.com"}
        for i in range(1, 13)
    ]
    orders = [
        {
            "id": f"ord_{i:03d}",
            "status": "shipped" if i % 3 else "awaiting_shipment",
            "total": 10.0 * i,
        }
        for i in range(1, 9)
    ]
    pages = {
        "pg_demo": {
            "id": "pg_demo",
            "title": "Quarterly planning notes",
            "content": PAGE_TEXT * 60,
        },
        "pg_roadmap": {
            "id": "pg_roadmap",
            "title": "Product roadmap",
            "content": "Q3: connectors. Q4: search.",
        },
    }
    return {
        "channels": channels,
        "contacts": contacts,
        "orders": orders,
        "pages": pages,
        "messages": [],
    }


def digest(text: str) -> str:
    """A short fixed-size counter key for a credential or URL of any length."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def key_problem(token: str) -> str | None:
    """Why an API key or JWT is refused (a scenario name), or ``None`` when it is good.

    A JWT (three dot-separated parts) is accepted while its ``exp`` claim is in the future; the
    seed documents no signing key, so the signature is not checked.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None if token in KEYS else "auth_invalid_key"
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return "auth_invalid_key"
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return "auth_invalid_key"
    return "auth_jwt_expired" if exp <= now() else None


def over_limit(key: str) -> int | None:
    """Count a request; the Retry-After seconds when it is over the budget, else ``None``."""
    limit = rule("rate_limit")
    count = hit(key, float(limit["window_s"]))
    if count.count <= int(limit["limit"]):
        return None
    return max(1, math.ceil(count.reset_at - now()))


def expired(entry: dict[str, Any]) -> bool:
    return now() >= float(entry["issuedAt"]) + float(rule("token_expires_in_days")) * DAY_S


def issue(server: dict[str, Any]) -> None:
    """Give ``server`` a fresh current token."""
    token = f"tok_{secrets.token_hex(12)}"
    server["tokens"][token] = {"issuedAt": now(), "replaced": False}
    server["token"] = token


def owned(data: dict[str, Any], server_id: str) -> dict[str, Any]:
    """A live server of the account, for the REST API; 404 otherwise."""
    server = data["servers"].get(server_id)
    if server is None or server["deleted"]:
        raise fail("server_not_found")
    result: dict[str, Any] = server
    return result


def token_restrictions(server_id: str, token: str, rid: Any) -> dict[str, Any]:
    """The server's restrictions when its token URL is good; the 404 or 401 that says why not."""
    with state() as data:
        server = data["servers"].get(server_id)
        if server is None:
            raise fail("NOT_FOUND", id=rid)
        if server["deleted"]:
            raise fail("server_deleted", id=rid)
        entry = server["tokens"].get(token)
        if entry is None:
            raise fail("UNAUTHORIZED", id=rid)
        if entry["replaced"]:
            raise fail("token_regenerated", id=rid)
        if expired(entry):
            raise fail("token_expired", id=rid)
        return copy.deepcopy(server["restrictions"])
