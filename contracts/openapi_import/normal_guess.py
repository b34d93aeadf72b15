"""The normal form of an imported provider, guessed from the shapes of its error bodies.

The common shapes: RFC 7807 problem details (``title``, ``detail``), ``{"error": {"code",
"message"}}`` (with JSON-RPC's ``error.data.code``), RFC 6749's ``{"error",
"error_description"}``, ``{"error": "..."}``, ``{"detail": ...}`` (FastAPI's list of
``{"msg"}`` too), ``{"message": ...}`` and a top-level ``code``. Each body's schema and its
example are read; every pointer found is kept, in order, since the first that resolves wins.
"""

from __future__ import annotations

from typing import Any

from .document import Document

REQUEST_IDS = ("request_id", "requestId", "requestID")
MAX_DEPTH = 8


def shape_of(value: Any) -> dict[str, Any]:
    """A schema-like description of an example value, so examples and schemas read alike."""
    if isinstance(value, dict):
        return {"type": "object", "properties": {k: shape_of(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"type": "array", "items": shape_of(value[0]) if value else {}}
    if isinstance(value, str):
        return {"type": "string"}
    return {}


class Shapes:
    """Reads properties through references and combinators of one document."""

    def __init__(self, document: Document) -> None:
        self.document = document

    def properties(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        schema, _ = self.document.resolve(schema, "")
        if not isinstance(schema, dict) or depth > MAX_DEPTH:
            return {}
        found = dict(schema.get("properties") or {})
        for key in ("allOf", "anyOf", "oneOf"):
            for part in schema.get(key) or []:
                for name, sub in self.properties(part, depth + 1).items():
                    found[name] = {"anyOf": [found[name], sub]} if name in found else sub
        return found

    def items(self, schema: Any, depth: int = 0) -> list[Any]:
        """The item schemas an array (or any branch of it) holds."""
        schema, _ = self.document.resolve(schema, "")
        if not isinstance(schema, dict) or depth > MAX_DEPTH:
            return []
        found = [schema["items"]] if "items" in schema else []
        for key in ("anyOf", "oneOf", "allOf"):
            for part in schema.get(key) or []:
                found += self.items(part, depth + 1)
        return found

    def is_text(self, schema: Any) -> bool:
        schema, _ = self.document.resolve(schema, "")
        if not isinstance(schema, dict):
            return False
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        branches = [*(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
        return "string" in kinds or any(self.is_text(b) for b in branches)


def guess(shapes: Shapes, bodies: list[Any]) -> dict[str, list[str]]:
    """The normal form (pointers per field) that reads every body shape in ``bodies``."""
    code: list[str] = []
    message: list[str] = []
    request_id: list[str] = []
    for body in bodies:
        props = shapes.properties(body)
        if "error" in props:
            inner = shapes.properties(props["error"])
            if inner:
                if "code" in shapes.properties(inner.get("data")):
                    code.append("/error/data/code")
                if "code" in inner:
                    code.append("/error/code")
                if "message" in inner:
                    message.append("/error/message")
                request_id += [f"/error/{name}" for name in REQUEST_IDS if name in inner]
            elif "error_description" in props:
                code.append("/error")
                message.append("/error_description")
            else:
                message.append("/error")
        if "title" in props and ({"detail", "type", "status"} & props.keys()):
            code.append("/title")
        if "detail" in props:
            message.append("/detail")
            if any("msg" in shapes.properties(item) for item in shapes.items(props["detail"])):
                message.append("/detail/0/msg")
        if "message" in props:
            message.append("/message")
        if "code" in props and shapes.is_text(props["code"]):
            code.append("/code")
        request_id += [f"/{name}" for name in REQUEST_IDS if name in props]
    return {
        "code": list(dict.fromkeys(code)),
        "message": list(dict.fromkeys(message)) or ["/message"],
        "request_id": list(dict.fromkeys(request_id)),
    }
