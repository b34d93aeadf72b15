"""OpenAPI schemas as one JSON Schema (draft 2020-12): the envelope of an imported provider.

OpenAPI 3.1 schemas are 2020-12 already; 3.0's dialect differs in two keywords a validator
reads (``nullable``, and boolean ``exclusiveMinimum``/``exclusiveMaximum``), rewritten here.
``#/components/schemas/X`` becomes ``#/$defs/X`` and X is carried along; any other reference
inside the document is inlined.
"""

from __future__ import annotations

from typing import Any

from .document import Document, join

COMPONENT = "#/components/schemas/"
MAX_INLINE_DEPTH = 32


class Collector:
    """Converts schemas of one document, gathering the components they use as ``$defs``."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.defs: dict[str, Any] = {}

    def convert(self, schema: Any, pointer: str, depth: int = 0) -> Any:
        """``schema`` (at ``pointer``) in draft 2020-12."""
        if isinstance(schema, list):
            return [self.convert(item, join(pointer, i), depth) for i, item in enumerate(schema)]
        if not isinstance(schema, dict):
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref.startswith(COMPONENT) and "/" not in ref[len(COMPONENT) :]:
                self._component(ref[len(COMPONENT) :].replace("~1", "/").replace("~0", "~"))
                return {"$ref": f"#/$defs/{ref[len(COMPONENT) :]}"}
            if depth >= MAX_INLINE_DEPTH:
                raise self.document.fail(
                    join(pointer, "$ref"),
                    "is a reference cycle outside components/schemas, which cannot be inlined",
                )
            target, where = self.document.resolve(schema, pointer)
            return self.convert(target, where, depth + 1)
        out = {
            key: self.convert(value, join(pointer, key), depth)
            for key, value in schema.items()
            if key not in ("nullable", "discriminator", "xml", "externalDocs")
        }
        if self.document.version == "3.0":
            _dialect_30(schema, out)
        return out

    def _component(self, name: str) -> None:
        if name in self.defs:
            return
        self.defs[name] = {}  # claimed first: a recursive schema refers to itself
        pointer = join("/components/schemas", name)
        self.defs[name] = self.convert(self.document.at(pointer), pointer)


def _dialect_30(schema: dict[str, Any], out: dict[str, Any]) -> None:
    """OpenAPI 3.0's ``nullable`` and boolean exclusive bounds, as 2020-12 says them."""
    if schema.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = schema.get(flag)
        if isinstance(value, bool):
            del out[flag]
            if value and bound in out:
                out[flag] = out.pop(bound)


def envelope(provider_id: str, title: str, collector: Collector, names: list[str]) -> Any:
    """The provider's envelope schema: any of the error bodies ``names`` (``$defs`` keys)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://faultproof.dev/schemas/{provider_id}.json",
        "title": f"{title}: error envelope",
        "description": "Every error body the imported document describes (faultproof import).",
        "anyOf": [{"$ref": f"#/$defs/{name}"} for name in names] or [{"type": "object"}],
        "$defs": collector.defs,
    }
