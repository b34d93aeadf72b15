"""Catalogue operations and generic-surface routes from the document's operations.

An operation is a request a client can be driven through: its path filled with example
values, its required query and header parameters, a JSON body when it takes one, and valid
credentials of its security schemes. The route beside it says what the mock answers on
success, and which credentials let a request in.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from .document import IMPORTED_METHODS, Document, Operation, join
from .sample import example_of, sample

TOKEN = "faultproof_test_token"
KEY = "faultproof_test_key"
PATH_PARAM = re.compile(r"\{([^{}]+)\}")
SUCCESS = re.compile(r"[23][0-9][0-9]")


def name_of(text: str) -> str:
    """A catalogue name (``[a-z][a-z0-9_]*``) for an operationId or a path."""
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return name if name[:1].isalpha() else f"op_{name}".rstrip("_")


@dataclass
class Imported:
    """What this module made of the document's operations."""

    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    routes: list[dict[str, Any]] = field(default_factory=list)
    #: Each document operation kept, by name, for the error responses it lists.
    sources: dict[str, Operation] = field(default_factory=dict)
    secrets: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def import_operations(document: Document) -> Imported:
    found = Imported()
    schemes = _schemes(document)
    for operation in document.operations():
        if operation.method not in IMPORTED_METHODS:
            found.notes.append(
                f"{operation.pointer}: {operation.method.upper()} operations are left out "
                "(a catalogue operation is GET, POST, PUT, PATCH or DELETE)"
            )
            continue
        spelled = operation.data.get("operationId")
        base = name_of(
            spelled if isinstance(spelled, str) else f"{operation.method}{operation.path}"
        )
        name, n = base, 2
        while name in found.operations:
            name, n = f"{base}_{n}", n + 1
        alternatives = _security(document, operation, schemes)
        found.operations[name] = _request(document, operation, alternatives, schemes)
        found.routes.append(_route(document, operation, name, alternatives, found.notes))
        found.sources[name] = operation
    for scheme_name, (scheme, pointer) in schemes.items():
        if scheme.get("type") == "apiKey" and scheme.get("in") in ("header", "query"):
            found.secrets.append(
                {
                    "in": scheme["in"],
                    "name": scheme["name"],
                    "reason": f"the document's security scheme {scheme_name} ({pointer}) sends it",
                }
            )
    return found


def _schemes(document: Document) -> dict[str, tuple[dict[str, Any], str]]:
    declared = (document.data.get("components") or {}).get("securitySchemes") or {}
    schemes = {}
    for name, scheme in declared.items():
        resolved, where = document.resolve(scheme, join("/components/securitySchemes", name))
        if not isinstance(resolved, dict) or "type" not in resolved:
            raise document.fail(where, "is not a security scheme object (it needs type)")
        if resolved["type"] == "apiKey" and not {"in", "name"} <= resolved.keys():
            raise document.fail(where, "is an apiKey scheme without in and name")
        schemes[name] = (resolved, where)
    return schemes


def _security(
    document: Document, operation: Operation, schemes: dict[str, tuple[dict[str, Any], str]]
) -> list[list[str]]:
    """The operation's security alternatives, as lists of scheme names (``[]``: anonymous)."""
    pointer = join(operation.pointer, "security")
    spelled = operation.data.get("security")
    if spelled is None:
        spelled, pointer = document.data.get("security") or [], "/security"
    alternatives = []
    for index, requirement in enumerate(spelled):
        if not isinstance(requirement, dict):
            raise document.fail(join(pointer, index), "is not a security requirement object")
        for name in requirement:
            if name not in schemes:
                raise document.fail(
                    join(pointer, index, name),
                    f"names the security scheme {name!r}, which components/securitySchemes "
                    f"does not declare (declared: {', '.join(schemes) or 'none'})",
                )
        alternatives.append([n for n in requirement if schemes[n][0].get("type") != "mutualTLS"])
    return alternatives


def _credential(scheme: dict[str, Any]) -> tuple[str, str, str]:
    """Where a scheme's credential goes, its name and a value the mock accepts."""
    kind = scheme.get("type")
    if kind == "apiKey":
        return scheme["in"], scheme["name"], KEY
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
        return "header", "Authorization", "Basic " + base64.b64encode(b"faultproof:test").decode()
    if kind == "http":
        spelled = str(scheme.get("scheme") or "Bearer")
        return "header", "Authorization", f"{spelled[:1].upper()}{spelled[1:]} {TOKEN}"
    return "header", "Authorization", f"Bearer {TOKEN}"


def _request(
    document: Document,
    operation: Operation,
    alternatives: list[list[str]],
    schemes: dict[str, tuple[dict[str, Any], str]],
) -> dict[str, Any]:
    values: dict[str, str] = {}
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    for param, where in operation.parameters:
        if param["in"] == "path" or param.get("required"):
            value = _value(document, param, where)
            target = {"path": values, "query": query, "header": headers}.get(param["in"])
            if target is not None:
                target[param["name"]] = value
    path = PATH_PARAM.sub(lambda m: values.get(m.group(1), "1"), operation.path)
    chosen = next((a for a in alternatives if a), [])
    for scheme_name in chosen:
        where, name, value = _credential(schemes[scheme_name][0])
        {"query": query, "cookie": headers}.get(where, headers)[
            "Cookie" if where == "cookie" else name
        ] = f"{name}={value}" if where == "cookie" else value
    request: dict[str, Any] = {"method": operation.method.upper(), "path": path}
    body = _json_body(document, operation)
    if body is not None:
        headers["Content-Type"] = body[0]
        request["json"] = body[1]
    if query:
        request["query"] = query
    if headers:
        request["headers"] = headers
    if chosen and any(not a for a in alternatives):
        request["auth"] = "optional"
    return request


def _value(document: Document, param: dict[str, Any], where: str) -> str:
    found, value = example_of(param, document, where)
    if not found:
        value = sample(param.get("schema", {}), document, join(where, "schema"))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if value is not None and str(value) else "1"


def _json_body(document: Document, operation: Operation) -> tuple[str, Any] | None:
    spelled = operation.data.get("requestBody")
    if spelled is None:
        return None
    body, where = document.resolve(spelled, join(operation.pointer, "requestBody"))
    content = (body or {}).get("content") or {}
    for media, node in content.items():
        if media.split(";")[0].strip().endswith("json") and isinstance(node, dict):
            media_pointer = join(where, "content", media)
            found, value = example_of(node, document, media_pointer)
            if not found:
                value = sample(node.get("schema", {}), document, join(media_pointer, "schema"))
            return media, value
    return None


def _route(
    document: Document,
    operation: Operation,
    name: str,
    alternatives: list[list[str]],
    notes: list[str],
) -> dict[str, Any]:
    responses = operation.data.get("responses") or {}
    statuses = sorted(str(s) for s in responses if SUCCESS.fullmatch(str(s)))
    route: dict[str, Any] = {"method": operation.method.upper(), "path": operation.path}
    route["operation"] = name
    if not statuses:
        notes.append(f"{operation.pointer}/responses: no success response; the mock answers 204")
        route.update(status=204, content_type=None, body=None)
    else:
        status = statuses[0]
        pointer = join(operation.pointer, "responses", status)
        response, pointer = document.resolve(responses[status], pointer)
        route["status"] = int(status)
        route.update(_success_body(document, response or {}, pointer))
    schemes = (document.data.get("components") or {}).get("securitySchemes") or {}
    if alternatives and all(alternatives):
        route["credentials"] = [
            [_where(_credential(_scheme(document, schemes, n))) for n in a] for a in alternatives
        ]
    return route


def _where(credential: tuple[str, str, str]) -> dict[str, str]:
    return {"in": credential[0], "name": credential[1]}


def _scheme(document: Document, schemes: dict[str, Any], name: str) -> dict[str, Any]:
    resolved, _ = document.resolve(schemes[name], join("/components/securitySchemes", name))
    return dict(resolved)


def _success_body(document: Document, response: dict[str, Any], pointer: str) -> dict[str, Any]:
    content = response.get("content") or {}
    if not content:
        return {"content_type": None, "body": None}
    media, node = next(iter(content.items()))
    media_pointer = join(pointer, "content", media)
    found, value = example_of(node or {}, document, media_pointer)
    if not found:
        value = sample((node or {}).get("schema", {}), document, join(media_pointer, "schema"))
    return {"content_type": media, "body": value}
