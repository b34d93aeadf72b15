"""A value for an OpenAPI schema where the document gives no example: deterministic, small,
and shaped like what the schema describes (every property, so an error body carries the
fields a client reads)."""

from __future__ import annotations

from typing import Any

from .document import Document, join

FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "hostname": "example.com",
}
MAX_DEPTH = 6


def example_of(node: dict[str, Any], document: Document, pointer: str) -> tuple[bool, Any]:
    """The documented example of a media type or parameter: ``(True, value)``, else
    ``(False, None)`` (``example``, else the first of ``examples``, else the schema's)."""
    if "example" in node:
        return True, node["example"]
    examples = node.get("examples")
    if isinstance(examples, dict):
        for name, spelled in examples.items():
            found, value = example_value(document, spelled, join(pointer, "examples", name))
            if found:
                return True, value
    schema, _ = document.resolve(node.get("schema"), f"{pointer}/schema")
    if isinstance(schema, dict):
        if "example" in schema:
            return True, schema["example"]
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return True, schema["examples"][0]
    return False, None


def example_value(document: Document, spelled: Any, pointer: str) -> tuple[bool, Any]:
    """An Example Object's value: ``(True, value)``, else ``(False, None)``. A value that is a
    bare ``$ref`` to another Example Object (as GitHub's document writes them) is followed."""
    example, where = document.resolve(spelled, pointer)
    if not isinstance(example, dict) or "value" not in example:
        return False, None
    value = example["value"]
    if isinstance(value, dict) and set(value) == {"$ref"}:
        return example_value(document, value, join(where, "value"))
    return True, value


def sample(schema: Any, document: Document, pointer: str, depth: int = 0) -> Any:
    """A value valid for most schemas (``pattern`` and ``not`` are not solved)."""
    schema, pointer = document.resolve(schema, pointer)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    for key in ("const", "example", "default"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for index, part in enumerate(schema["allOf"]):
            value = sample(part, document, f"{pointer}/allOf/{index}", depth + 1)
            if not isinstance(value, dict):
                return value
            merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return sample(schema[key][0], document, f"{pointer}/{key}/0", depth + 1)
    return _typed(schema, document, pointer, depth)


def _typed(schema: dict[str, Any], document: Document, pointer: str, depth: int) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        properties = schema.get("properties") or {}
        return {
            name: sample(sub, document, f"{pointer}/properties/{name}", depth + 1)
            for name, sub in properties.items()
        }
    if kind == "array":
        item = sample(schema.get("items", {}), document, f"{pointer}/items", depth + 1)
        return [item] * max(1, int(schema.get("minItems", 1)))
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = low + 1 if "exclusiveMinimum" in schema and "minimum" not in schema else low
        value = value if isinstance(value, (int, float)) and not isinstance(value, bool) else 1
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    text = FORMATS.get(str(schema.get("format")), "example")
    return text + "x" * max(0, int(schema.get("minLength", 0)) - len(text))
