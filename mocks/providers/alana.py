"""Alana: products, catalogs, search, the MCP feed and tools, NDJSON streaming.

Rules from seed 003: an API key in ``X-API-Key`` or ``Authorization: Bearer`` (AUTH_001/002),
scopes (AUTH_003), workspace (AUTH_004), a per-key request budget (RATE_001) and a per-IP
concurrency limit (RATE_002), ``X-RateLimit-*`` on every response, 512-character queries
(SEARCH_002), 404/409/422 from state, unknown MCP tools and bad tool arguments.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from flask import Response, g, request

from ..answers import SCENARIO_HEADER
from ..surface import (
    ResponseContext,
    Surface,
    args,
    bearer,
    fail,
    hit,
    json_body,
    now,
    rule,
    state,
    stream_error,
)
from .json_schema import validator

KEYS = {
    "alana_test_key": {"workspace": "ws_demo", "scopes": ["read", "write"]},
    "alana_readonly_key": {"workspace": "ws_demo", "scopes": ["read"]},
    "alana_other_workspace_key": {"workspace": "ws_other", "scopes": ["read", "write"]},
}
PLATFORMS = {"google": "published", "meta": "invalid", "tiktok": "unpublished"}
PRODUCT_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
PRODUCT = {
    "type": "object",
    "required": ["id", "name", "price"],
    "properties": {
        "id": PRODUCT_ID,
        "name": {"type": "string", "minLength": 1},
        "price": {"type": "number", "minimum": 0},
        "currency": {"type": "string"},
    },
}
TOOLS = {
    "search_products": {
        "type": "object",
        "required": ["q"],
        "additionalProperties": False,
        "properties": {"q": {"type": "string", "maxLength": 512}, "limit": {"type": "integer"}},
    },
    "get_product": {
        "type": "object",
        "required": ["id"],
        "additionalProperties": False,
        "properties": {"id": {"type": "string"}},
    },
}
#: The call body as OpenAPI shows it: one branch per tool, so schema-valid calls are valid calls.
TOOL_CALL = {
    "oneOf": [
        {
            "type": "object",
            "required": ["name", "arguments"],
            "additionalProperties": False,
            "properties": {"name": {"const": name}, "arguments": schema},
        }
        for name, schema in TOOLS.items()
    ]
}
CATALOG_ID = "7f3c9a52-0d3b-4d0e-9b57-2f7a3c8e1a10"


def seed() -> dict[str, Any]:
    products = {
        str(i): {"id": str(i), "name": f"Trail shoe {i}", "price": 40.0 + i, "currency": "EUR"}
        for i in (1, 2, 3, 42)
    }
    return {
        "products": products,
        "catalogs": {CATALOG_ID: {"id": CATALOG_ID, "name": "Spring", "products": 4}},
    }


def _key(header: Callable[[str], str | None] | None = None) -> str | None:
    """The API key sent, looked up with ``header`` (the current request's by default)."""
    get = header or request.headers.get
    return get("X-API-Key") or bearer(get)


def authenticate() -> None:
    key = _key()
    if not key:
        raise fail("AUTH_001")
    grant = KEYS.get(key)
    if grant is None:
        raise fail("AUTH_002")
    workspace = request.headers.get("X-Workspace-Id")
    if workspace and workspace != grant["workspace"]:
        raise fail("AUTH_004")
    if grant["workspace"] != "ws_demo":
        raise fail("AUTH_004")
    limit = rule("rate_limit")
    count = hit(f"key:{key}", float(limit["window_s"]))
    if count.count > int(limit["limit"]):
        raise fail(
            "RATE_001",
            {
                "retry_after": max(1, math.ceil(count.reset_at - now())),
                "limit": int(limit["limit"]),
            },
        )
    if request.method != "GET" and "write" not in grant["scopes"]:
        raise fail("AUTH_003")


def rate_headers(ctx: ResponseContext) -> dict[str, str]:
    """X-RateLimit-* on every response, success or error (seed: 'included on every response')."""
    limit = ctx.rule("rate_limit")
    key = _key(ctx.header) or "anonymous"
    window = ctx.peek(f"key:{key}", float(limit["window_s"]))
    return {
        "X-RateLimit-Limit": str(limit["limit"]),
        "X-RateLimit-Remaining": str(max(0, int(limit["limit"]) - window.count)),
        "X-RateLimit-Reset": str(math.ceil(window.reset_at)),
    }


def generic_error(status: int, title: str) -> Any:
    return {
        "error": {
            "code": f"HTTP_{status}",
            "message": title,
            "request_id": "req_" + g.get("request_tag", "mock"),
        }
    }


surface = Surface(
    "alana",
    seed=seed,
    authenticate=authenticate,
    generic_error=generic_error,
    every_response=rate_headers,
)
ERROR = {"$ref": "#/components/schemas/Error"}


@surface.route("GET", "/api/v1/products/<product_id>", summary="Get one product", ok=PRODUCT)
def get_product(product_id: str) -> Any:
    with state() as data:
        product = data["products"].get(product_id)
    if product is None:
        raise fail("DATA_001")
    return product


@surface.route(
    "GET",
    "/api/v1/products",
    summary="List products (NDJSON with Accept: application/x-ndjson)",
    ok={"type": "object", "properties": {"items": {"type": "array", "items": PRODUCT}}},
)
def list_products() -> Any:
    with state() as data:
        items = list(data["products"].values())
    if "application/x-ndjson" not in request.headers.get("Accept", ""):
        return {"items": items}
    failure = stream_error()

    def lines() -> Iterator[bytes]:
        for index, item in enumerate(items):
            if failure is not None and index == len(items) // 2:
                yield orjson.dumps(failure.scenario.render(failure.params).body) + b"\n"
                return
            yield orjson.dumps(item) + b"\n"

    headers = {SCENARIO_HEADER: failure.scenario.id} if failure is not None else {}
    return Response(lines(), content_type="application/x-ndjson", headers=headers)


def valid_product() -> dict[str, Any]:
    """The request's product, or DATA_004 with a details array naming every problem."""
    try:
        product = json_body()
    except ValueError as exc:
        raise fail("DATA_004", error__details=[{"field": "(body)", "issue": str(exc)}]) from None
    problems = [
        {"field": "/".join(map(str, e.absolute_path)) or "(body)", "issue": e.message}
        for e in validator(PRODUCT).iter_errors(product)
    ]
    if problems:
        raise fail("DATA_004", error__details=problems)
    return dict(product)


@surface.route(
    "POST", "/api/v1/products", summary="Create a product", body=PRODUCT, ok=PRODUCT, ok_status=201
)
def create_product() -> Any:
    product = valid_product()
    with state() as data:
        if product["id"] in data["products"]:
            raise fail("DATA_003")
        data["products"][product["id"]] = product
    return product, 201


@surface.route(
    "PUT", "/api/v1/products/<product_id>", summary="Update a product", body=PRODUCT, ok=PRODUCT
)
def update_product(product_id: str) -> Any:
    product = valid_product()
    with state() as data:
        if product_id not in data["products"]:
            raise fail("DATA_001")
        data["products"][product_id] = {**product, "id": product_id}
        return data["products"][product_id]


@surface.route(
    "GET",
    "/api/v1/search",
    summary="Search products",
    query={
        "q": {"type": "string", "maxLength": 512},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
    },
    ok={"type": "object", "properties": {"items": {"type": "array", "items": PRODUCT}}},
)
def search() -> Any:
    params = args()
    query = params.get("q", "")
    if len(query) > int(rule("query_max_chars")):
        raise fail("SEARCH_002")
    limit = params.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        raise fail("SEARCH_001", error__detail="limit must be an integer between 1 and 100")
    with state() as data:
        found = [p for p in data["products"].values() if query.lower() in p["name"].lower()]
    return {"items": found[: int(limit)]}


@surface.route(
    "GET",
    "/api/v1/catalogs/<catalog_id>",
    summary="Get one catalog",
    ok={"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
)
def get_catalog(catalog_id: str) -> Any:
    with state() as data:
        catalog = data["catalogs"].get(catalog_id)
    if catalog is None:
        raise fail("DATA_002")
    return catalog


@surface.route(
    "GET",
    "/api/mcp/feed",
    summary="Supported platforms, or one platform's feed",
    query={"platform": {"enum": sorted(p for p, s in PLATFORMS.items() if s != "invalid")}},
    ok={"type": "object"},
)
def feed() -> Any:
    platform = args().get("platform")
    if platform is None:
        return {"platforms": sorted(PLATFORMS)}
    status = PLATFORMS.get(platform)
    if status is None:
        raise fail("FEED_001")
    if status == "unpublished":
        raise fail("FEED_002")
    if status == "invalid":
        raise fail("FEED_003")
    with state() as data:
        return {"platform": platform, "items": list(data["products"].values())}


@surface.route(
    "GET",
    "/api/v1/manifest",
    summary="MCP tools and their input schemas",
    ok={"type": "object", "properties": {"tools": {"type": "array"}}},
)
def manifest() -> Any:
    return {"tools": [{"name": name, "inputSchema": schema} for name, schema in TOOLS.items()]}


@surface.route(
    "POST",
    "/api/mcp/tools/call",
    summary="Call an MCP tool",
    body=TOOL_CALL,
    ok={"type": "object", "properties": {"content": {"type": "array"}}},
)
def call_tool() -> Any:
    try:
        call = json_body()
    except ValueError:
        raise fail("MCP_002") from None
    name = call.get("name") if isinstance(call, dict) else None
    if not isinstance(name, str) or name not in TOOLS:
        raise fail("MCP_001")
    if not validator(TOOL_CALL).is_valid(call):
        raise fail("MCP_002")
    arguments = call["arguments"]
    if name == "get_product":
        return {"content": [{"type": "json", "json": get_product(arguments["id"])}]}
    with state() as data:
        hits = [p for p in data["products"].values() if arguments["q"].lower() in p["name"].lower()]
    return {"content": [{"type": "json", "json": hits}]}
