"""One scenario per documented error response (one per named example where it has several).

A response that many operations share (``$ref: '#/components/responses/not_found'``, or the
same inline response repeated) is one scenario, driven through the first operation that lists
it (a GET when one does). Its provenance points at the response in the document and quotes its
description; what the document does not say (a body generated from the schema, a body for a
response without content) is listed as an assumption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..template import PLACEHOLDER
from .document import Document, Operation, join
from .sample import example_value, sample
from .schemas import Collector

ERROR = re.compile(r"[45][0-9][0-9]")
RANGE = re.compile(r"[45]XX")
WAIT_HEADERS = {"retry-after": "{{retry_after}}", "x-ratelimit-reset": "{{reset_epoch}}"}


def is_json(media: str) -> bool:
    return media.split(";")[0].strip().lower().endswith("json")


@dataclass
class Found:
    """An error answer the document documents, before policy decides how a client reacts."""

    name: str
    status: int
    body: Any
    content_type: str
    headers: dict[str, str]
    params: dict[str, Any]
    operation: str
    operation_method: str
    pointer: str
    quote: str
    body_schema: str
    assumptions: list[str] = field(default_factory=list)
    waits: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Errors:
    found: list[Found] = field(default_factory=list)
    #: Body schemas (``$defs`` names) and raw schemas of every error body, for the normal form.
    schema_names: list[str] = field(default_factory=list)
    shapes: list[Any] = field(default_factory=list)
    generated: list[Found] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class ErrorReader:
    """Reads every operation's error responses of one document."""

    def __init__(self, document: Document, collector: Collector) -> None:
        self.document = document
        self.collector = collector
        self.errors = Errors()
        self._seen: dict[str, int] = {}
        self._names: set[str] = set()

    def read(self, name: str, operation: Operation) -> None:
        responses = operation.data.get("responses") or {}
        for status, spelled in responses.items():
            status = str(status)
            pointer = join(operation.pointer, "responses", status)
            if status == "default" or RANGE.fullmatch(status):
                response, _ = self.document.resolve(spelled, pointer)
                self._shapes_only(response, pointer)
                continue
            if not ERROR.fullmatch(status):
                continue
            response, where = self.document.resolve(spelled, pointer)
            if not isinstance(response, dict):
                raise self.document.fail(where, "is not a response object")
            key = (
                where
                if where != pointer
                else orjson.dumps([status, response], option=orjson.OPT_SORT_KEYS).decode()
            )
            if key in self._seen:
                self._prefer_get(self._seen[key], name, operation)
                continue
            self._seen[key] = len(self.errors.found)
            self._add(int(status), response, where, name, operation)

    def _prefer_get(self, first: int, name: str, operation: Operation) -> None:
        """A shared response is driven through a GET when one lists it: a retry is safe."""
        for found in self.errors.found[first:]:
            if found.pointer != self.errors.found[first].pointer:
                break
            if operation.method == "get" and found.operation_method != "get":
                found.operation, found.operation_method = name, "get"

    def _shapes_only(self, response: Any, pointer: str) -> None:
        for media, node in ((response or {}).get("content") or {}).items():
            if is_json(media) and isinstance(node, dict) and "schema" in node:
                self.errors.shapes.append(node["schema"])

    def unique_name(self, spelled: str) -> str:
        """A scenario name (``[A-Za-z][A-Za-z0-9_]*``), unique within the provider."""
        base = re.sub(r"[^A-Za-z0-9_]+", "_", spelled).strip("_")
        base = base if base[:1].isalpha() else f"e_{base}"
        name, n = base, 2
        while name in self._names:
            name, n = f"{base}_{n}", n + 1
        self._names.add(name)
        return name

    def _add(
        self, status: int, response: dict[str, Any], pointer: str, operation: str, op: Operation
    ) -> None:
        description = response.get("description")
        quote = description if isinstance(description, str) and description else str(status)
        component = pointer.rsplit("/", 1)[1] if pointer.startswith("/components/") else None
        default_name = component or f"{operation}_{status}"
        headers, params, waits, assumptions = self._headers(response, pointer)
        content = response.get("content") or {}
        ordered = sorted(content, key=lambda m: not is_json(m))  # JSON first, then the rest
        # (name, body, media, body schema, assumptions)
        bodies: list[tuple[str, Any, str, str, list[str]]] = []
        if not ordered:
            bodies.append(
                (default_name, None, "", "", ["the document gives this response no body"])
            )
        for media in ordered:
            node = content[media] or {}
            media_pointer = join(pointer, "content", media)
            schema_name = (
                self._schema(node, media_pointer, default_name) if is_json(media) else "_text"
            )
            spelled_examples = node.get("examples")
            examples = spelled_examples if isinstance(spelled_examples, dict) else {}
            for key, spelled in examples.items():
                where = join(media_pointer, "examples", key)
                has_value, value = example_value(self.document, spelled, where)
                if has_value:
                    bodies.append((str(key), value, media, schema_name, []))
            if "example" in node and not examples:
                bodies.append((default_name, node["example"], media, schema_name, []))
        if ordered and not bodies:
            media = ordered[0]
            node = content[media] or {}
            media_pointer = join(pointer, "content", media)
            schema = node.get("schema")
            value = (
                sample(schema, self.document, join(media_pointer, "schema"))
                if schema is not None
                else quote
            )
            generated = (
                "the document gives no example; the body is generated from the schema at "
                f"{media_pointer}/schema"
            )
            schema_name = (
                self._schema(node, media_pointer, default_name) if is_json(media) else "_text"
            )
            bodies.append((default_name, value, media, schema_name, [generated]))
        for spelled, body, media, schema_name, notes in bodies:
            found = Found(
                name=self.unique_name(spelled),
                status=status,
                body=body,
                content_type=media or "application/json",
                headers=dict(headers),
                params=dict(params),
                operation=operation,
                operation_method=op.method,
                pointer=pointer,
                quote=quote,
                body_schema=schema_name,
                assumptions=[*assumptions, *notes],
                waits=list(waits),
            )
            _literal_placeholders(found)
            if body is None:
                self.errors.generated.append(found)
            self.errors.found.append(found)

    def _schema(self, node: dict[str, Any], pointer: str, name: str) -> str:
        schema = node.get("schema")
        if schema is None:
            if "example" in node:
                self.errors.shapes.append(_example_shape(node["example"]))
            return ""
        self.errors.shapes.append(schema)
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        converted = self.collector.convert(schema, join(pointer, "schema"))
        if isinstance(ref, str) and converted == {"$ref": f"#/$defs/{ref.rsplit('/', 1)[1]}"}:
            def_name = ref.rsplit("/", 1)[1]
        else:
            def_name = f"{name}_body"
            self.collector.defs[def_name] = converted
        if def_name not in self.errors.schema_names:
            self.errors.schema_names.append(def_name)
        return def_name

    def _headers(
        self, response: dict[str, Any], pointer: str
    ) -> tuple[dict[str, str], dict[str, Any], list[tuple[str, str]], list[str]]:
        headers: dict[str, str] = {}
        params: dict[str, Any] = {}
        waits: list[tuple[str, str]] = []
        assumptions: list[str] = []
        for name, spelled in (response.get("headers") or {}).items():
            where = join(pointer, "headers", name)
            header, where = self.document.resolve(spelled, where)
            if not isinstance(header, dict) or name.lower() == "content-type":
                continue
            lower = name.lower()
            example = header.get("example", (header.get("schema") or {}).get("example"))
            if lower in WAIT_HEADERS:
                waits.append((lower, where))
                wait = _seconds(example)
                if lower == "retry-after" and example is not None and wait is None:
                    headers[name] = "{{retry_after_http_date}}"
                else:
                    headers[name] = WAIT_HEADERS[lower]
                params.setdefault("retry_after", wait if wait is not None else 1)
                if example is None:
                    assumptions.append(
                        f"{name} has no example at {where}; faultproof sends a 1 s wait"
                    )
            elif example is not None:
                headers[name] = str(example).lower() if isinstance(example, bool) else str(example)
            elif header.get("required"):
                value = sample(header.get("schema", {}), self.document, join(where, "schema"))
                headers[name] = str(value)
                assumptions.append(f"{name} has no example at {where}; its value is generated")
        return headers, params, waits, assumptions


def _seconds(example: Any) -> int | None:
    if isinstance(example, bool):
        return None
    if isinstance(example, int):
        return example
    if isinstance(example, str) and example.strip().isdigit():
        return int(example.strip())
    return None


def _example_shape(example: Any) -> Any:
    from .normal_guess import shape_of

    return shape_of(example)


def _literal_placeholders(found: Found) -> None:
    """A documented ``{{...}}`` text is sent as written, not taken for a parameter."""

    def visit(value: Any) -> Any:
        if (
            isinstance(value, str)
            and PLACEHOLDER.search(value)
            and value not in WAIT_HEADERS.values()
        ):
            name = f"literal_{len(found.params)}"
            found.params[name] = value
            return "{{" + name + "}}"
        if isinstance(value, dict):
            return {k: visit(v) for k, v in value.items()}
        if isinstance(value, list):
            return [visit(v) for v in value]
        return value

    found.body = visit(found.body)
