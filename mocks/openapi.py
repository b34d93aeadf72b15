"""An OpenAPI 3.1 document per provider, built from its surface routes and its catalogue.

Every documented error can be triggered on every operation, so each operation lists every
status the provider's catalogue holds, with each scenario's body as a named example, besides
its own success response. The provider's envelope schema becomes ``components/schemas/Error``
(its ``$defs`` moved alongside, references rewritten).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from flask import Flask

from faultproof.contracts import Provider, Scenario

from . import openapi_security
from .faults import HTML_502
from .surface import Route, Surface

#: A request context for the bodies providers write from the request (404, 405 examples).
_EXAMPLE_APP = Flask(__name__)
PATH_PARAM = re.compile(r"<(?:([a-z]+):)?([a-zA-Z_][a-zA-Z0-9_]*)>")
CONVERTERS = {"int": {"type": "integer"}, "float": {"type": "number"}}


def _relocate(schema: Any, prefix: str) -> Any:
    """Rewrite ``#/$defs/x`` references to ``#/components/schemas/<prefix>x``."""
    if isinstance(schema, dict):
        out = {
            k: _relocate(v, prefix)
            for k, v in schema.items()
            if k not in ("$schema", "$id", "$defs")
        }
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = f"#/components/schemas/{prefix}{ref[len('#/$defs/') :]}"
        return out
    if isinstance(schema, list):
        return [_relocate(item, prefix) for item in schema]
    return schema


def _components(provider: Provider) -> dict[str, Any]:
    schema = provider.schema
    schemas = {"Error": _relocate(schema, "Error_")}
    for name, sub in schema.get("$defs", {}).items():
        schemas[f"Error_{name}"] = _relocate(sub, "Error_")
    return {"schemas": schemas, "securitySchemes": openapi_security.schemes(provider)}


def _parameters(route: Route) -> list[dict[str, Any]]:
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": CONVERTERS.get(conv or "", {"type": "string"}),
        }
        for conv, name in PATH_PARAM.findall(route.rule)
    ]
    params += [
        {"name": n, "in": "query", "required": False, "schema": s} for n, s in route.query.items()
    ]
    params += [
        {"name": n, "in": "header", "required": False, "schema": s}
        for n, s in route.headers.items()
    ]
    return params


#: What each header a documented error carries means, for the document's readers.
HEADER_DESCRIPTIONS = {
    "retry-after": "Seconds to wait, or an HTTP-date (RFC 9110), before retrying.",
    "x-ratelimit-limit": "Requests allowed in the current window.",
    "x-ratelimit-remaining": "Requests left in the current window.",
    "x-ratelimit-reset": "When the window resets, as the provider counts it.",
    "www-authenticate": "The authentication scheme the provider asks for.",
}


def _headers(renders: list[tuple[Scenario, Mapping[str, str]]]) -> dict[str, Any]:
    """Each header the status's scenarios send (but Content-Type, which OpenAPI ignores),
    required when all of them send it, with the canonical scenario's value as the example so
    that a mock serving this document (Prism) sends it too."""
    ordered = sorted(renders, key=lambda item: not item[0].canonical)
    names: dict[str, str] = {}
    for _, headers in ordered:
        for name in headers:
            if name.lower() != "content-type":
                names.setdefault(name.lower(), name)
    described: dict[str, Any] = {}
    for key, name in names.items():
        values = [h[name] for _, h in ordered if name in h]
        described[name] = {
            "description": HEADER_DESCRIPTIONS.get(key, f"Sent with the provider's {name}."),
            "required": len(values) == len(ordered),
            "schema": {"type": "string"},
            "example": values[0],
        }
    return described


def _error_responses(provider: Provider, surface: Surface) -> dict[str, Any]:
    by_status: dict[int, dict[str, Any]] = defaultdict(dict)
    renders: dict[int, list[tuple[Scenario, Mapping[str, str]]]] = defaultdict(list)
    for scenario in provider.scenarios.values():
        if scenario.kind != "error" or scenario.status is None:
            continue
        rendered = scenario.render(now=0)
        by_status[scenario.status][scenario.name] = {
            "summary": scenario.expectation,
            "value": rendered.body,
        }
        renders[scenario.status].append((scenario, rendered.headers))
    responses: dict[str, Any] = {}
    for status in sorted(by_status):
        examples = by_status[status]
        json_examples = {k: v for k, v in examples.items() if not isinstance(v["value"], str)}
        content: dict[str, Any] = {}
        if json_examples:
            content[provider.content_type] = {
                "schema": {"$ref": "#/components/schemas/Error"},
                "examples": json_examples,
            }
            if provider.content_type != "application/json":
                content["application/json"] = {
                    "schema": {"$ref": "#/components/schemas/Error"},
                    "examples": json_examples,
                }
        if len(json_examples) < len(examples):
            content["text/plain"] = {
                "schema": {"type": "string"},
                "examples": {k: v for k, v in examples.items() if k not in json_examples},
            }
        responses[str(status)] = {
            "description": f"{provider.title}: documented {status} answers",
            "content": content,
        }
        headers = _headers(renders[status])
        if headers:
            responses[str(status)]["headers"] = headers
    for status, name in ((404, "Not Found"), (405, "Method Not Allowed")):
        # A provider writes these from the request it answers: a representative one here.
        with _EXAMPLE_APP.test_request_context(f"/{provider.id}/"):
            example = surface.http_error_body(status, name)
        responses.setdefault(
            str(status),
            {
                "description": "Unknown path or method, in the provider's envelope",
                "content": {
                    surface.generic_error_type: {
                        "schema": {"$ref": "#/components/schemas/Error"},
                        "example": example,
                    }
                },
            },
        )
    responses.setdefault(
        "502", {"description": "A proxy's error page (fault.html_502)", "content": {}}
    )
    responses["502"]["content"]["text/html"] = {
        "schema": {"type": "string"},
        "example": HTML_502.decode(),
    }
    return responses


def _operation(
    route: Route, provider: Provider, errors: dict[str, Any], examples: Mapping[str, Any]
) -> dict[str, Any]:
    ok_content: dict[str, Any] = {route.ok_type: {"schema": route.ok or {}}}
    if route.endpoint in examples:
        ok_content[route.ok_type]["example"] = examples[route.endpoint]
    if route.ok_type == "application/json" and "ndjson" in route.summary.lower():
        ok_content["application/x-ndjson"] = {"schema": {"type": "string"}}
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [provider.id],
        "parameters": _parameters(route),
        "responses": {
            # 204 No Content has no body, so no media type (RFC 9110 section 15.3.5)
            str(route.ok_status): {"description": "Success"}
            if route.ok_status == 204
            else {"description": "Success", "content": ok_content},
            **errors,
        },
    }
    security = openapi_security.requirements(route, provider.operations.values())
    if security:
        # No credential on any operation the route serves: it needs none (an empty list).
        operation["security"] = [] if security == [{}] else security
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": route.body}},
        }
    return operation


def build(
    provider: Provider,
    surface: Surface,
    server_url: str = "",
    examples: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one provider's mocked surface; ``examples`` are success
    bodies by endpoint (``openapi_examples.success_examples``)."""
    errors = _error_responses(provider, surface)
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    for route in surface.routes:
        paths[route.openapi_path][route.method.lower()] = _operation(
            route, provider, errors, examples or {}
        )
    documented = sum(s.source.kind == "documented" for s in provider.scenarios.values())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{provider.title} (faultproof mock)",
            "version": "1.0.0",
            "description": (
                f"The mocked surface of {provider.title}, with every catalogued error response "
                f"({len(provider.scenarios)} scenarios, {documented} documented "
                f"in {provider.seed}). "
                "Any documented error can be requested on any operation with `Prefer: code=NNN` "
                "or `Prefer: scenario=NAME`."
            ),
        },
        "servers": [{"url": f"{server_url}/{provider.id}"}],
        "paths": dict(paths),
        "components": _components(provider),
    }
