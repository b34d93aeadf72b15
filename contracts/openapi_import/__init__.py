"""``faultproof import openapi``: a provider catalogue from an OpenAPI 3.0 or 3.1 document.

What the document states is ``documented``, pointing at the place (a JSON Pointer) and quoting
it; what faultproof adds (the client policy, bodies the document does not show, how a client
should react) is ``assumed`` with the reason. The result is checked by the same loader as the
built-in catalogues before it is written.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..normal_form import NormalForm
from ..schemas import first_error
from .document import Document, DocumentError
from .normal_guess import Shapes, guess
from .operations import import_operations
from .policy import LONG_WAIT_S, RETRYABLE, checks, client_policy, expectation
from .scenarios import ErrorReader, Found
from .schemas import Collector, envelope

ID = re.compile(r"[a-z][a-z0-9_]*")
IDEMPOTENT = frozenset({"get", "put", "delete"})
UNDESCRIBED = "_as_documented"


@dataclass(frozen=True, slots=True)
class Imported:
    """A catalogue made from a document: the provider file's data and its envelope schema.

    Attributes:
        catalogue: What ``providers/<id>.yaml`` holds.
        schema: What ``schemas/<id>.json`` holds.
        notes: What was left out or could not be read as documented, for the user.
    """

    catalogue: dict[str, Any]
    schema: dict[str, Any]
    notes: tuple[str, ...]


def import_document(path: Path, provider_id: str) -> Imported:
    """The catalogue of the document at ``path``, as provider ``provider_id``."""
    if not ID.fullmatch(provider_id):
        raise DocumentError(
            f"--id {provider_id!r} is no provider id: lowercase letters, digits and _, "
            "starting with a letter"
        )
    document = Document.load(path)
    found = import_operations(document)
    if not found.operations:
        raise document.fail("/paths", "has no GET, POST, PUT, PATCH or DELETE operation")
    collector = Collector(document)
    reader = ErrorReader(document, collector)
    for name, operation in found.sources.items():
        reader.read(name, operation)
    errors = reader.errors
    notes = [*found.notes, *errors.notes]
    if not errors.found:
        raise document.fail(
            "/paths", "documents no error response (4xx or 5xx): there is nothing to grade"
        )
    normal = guess(Shapes(document), errors.shapes)
    if not errors.shapes:
        notes.append("no error response has a schema or example; the normal form is /message")
    _generate_bodies(errors.generated, normal, collector)
    _describe_samples(errors.found, normal)
    title = str((document.data.get("info") or {}).get("title") or provider_id)
    schema = envelope(provider_id, title, collector, errors.schema_names)
    collector.defs[UNDESCRIBED] = {"description": "A body the document's schema does not describe."}
    collector.defs["_text"] = {"type": "string"}
    policy = client_policy(errors.found, lambda p: _quote(document, p))
    form = NormalForm.from_data(normal)
    scenarios = [
        _scenario(item, form, schema, canonical) for item, canonical in _canonical(errors.found)
    ]
    if not any("caps_retry_after" in s["checks"] for s in scenarios):
        scenarios += _long_wait(errors.found, reader, form, schema)
    content_type = Counter(s.content_type for s in errors.found).most_common(1)[0][0]
    for scenario in scenarios:
        if scenario.get("content_type") == content_type:
            del scenario["content_type"]
    catalogue = {
        "provider": provider_id,
        "title": title,
        "seed": document.name,
        "content_type": content_type,
        "normal_form": normal,
        "operations": found.operations,
        "default_operation": _default_operation(found.operations),
        "policy": policy,
        "rules": {},
        "scenarios": scenarios,
        "routes": found.routes,
    }
    if found.secrets:
        catalogue["secrets"] = found.secrets
    return Imported(catalogue, schema, tuple(notes))


def _quote(document: Document, pointer: str) -> str:
    node = document.at(pointer)
    text = node.get("description") if isinstance(node, dict) else None
    return text if isinstance(text, str) and text else pointer.rsplit("/", 1)[1]


def _canonical(found: list[Found]) -> list[tuple[Found, bool]]:
    seen: set[int] = set()
    out = []
    for item in found:
        out.append((item, item.status not in seen))
        seen.add(item.status)
    return out


def _generate_bodies(
    generated: list[Found], normal: dict[str, list[str]], collector: Collector
) -> None:
    """A body for responses the document gives none: its description, where a client of the
    provider reads a message (its schema says just that, so nothing else is claimed)."""
    pointer = next((p for p in normal["message"] if not re.search(r"/\d", p)), "/message")
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    schema: dict[str, Any] = {"type": "string"}
    for token in reversed(tokens):
        schema = {"type": "object", "required": [token], "properties": {token: schema}}
    if generated:
        collector.defs["_generated"] = schema
    for item in generated:
        body: Any = item.quote
        for token in reversed(tokens):
            body = {token: body}
        item.body = body
        item.body_schema = "_generated"
        item.assumptions.append(
            f"the document gives this response no body; faultproof sends its description "
            f"at {pointer}, where the provider's other errors keep their message"
        )


def _describe_samples(found: list[Found], normal: dict[str, list[str]]) -> None:
    """A body generated from its schema says the response's description where the message
    is read, instead of a placeholder word (only where the schema has a string there)."""
    for item in found:
        if not any(a.startswith("the document gives no example") for a in item.assumptions):
            continue
        for pointer in normal["message"]:
            *parents, last = [
                t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]
            ]
            node = item.body
            for token in parents:
                node = node.get(token) if isinstance(node, dict) else None
            if isinstance(node, dict) and isinstance(node.get(last), str):
                node[last] = item.quote
                break


def _body_schema(item: Found, schema: dict[str, Any]) -> str:
    name = item.body_schema or UNDESCRIBED
    if name != UNDESCRIBED and not item.params:
        problem = first_error(schema, item.body, f"#/$defs/{name}")
        if problem:
            item.assumptions.append(
                f"the documented body does not match its schema ({problem}); it is sent as "
                "documented"
            )
            name = UNDESCRIBED
    elif name == UNDESCRIBED:
        item.assumptions.append("the document gives this body no schema")
    return f"#/$defs/{name}"


def _scenario(
    item: Found,
    form: NormalForm,
    schema: dict[str, Any],
    canonical: bool,
) -> dict[str, Any]:
    idempotent = item.operation_method in IDEMPOTENT
    message = form.apply(item.body).message if item.body is not None else None
    source: dict[str, Any] = {"kind": "documented", "pointer": item.pointer, "quote": item.quote}
    body_schema = _body_schema(item, schema)
    source["assumptions"] = [
        *item.assumptions,
        "how a client should react (retry or not, how long to wait) is faultproof's generic "
        "policy, not the document's",
    ]
    out: dict[str, Any] = {"name": item.name, "kind": "error", "status": item.status}
    if item.params:
        out["params"] = item.params
    if item.headers:
        out["headers"] = item.headers
    out.update(
        body=item.body,
        body_schema=body_schema,
        content_type=item.content_type,
        retryable=_retryable(item),
        canonical=canonical,
        checks=checks(item, idempotent),
        operation=item.operation,
        expectation=expectation(item, idempotent, message),
        source=source,
    )
    return out


def _retryable(item: Found) -> bool:
    return item.status in RETRYABLE


def _long_wait(
    found: list[Found], reader: ErrorReader, form: NormalForm, schema: dict[str, Any]
) -> list[dict[str, Any]]:
    """A wait above the policy's longest, so ``caps_retry_after`` has something to judge."""
    waiting = next((i for i in found if i.waits and _retryable(i)), None)
    if waiting is None:
        return []
    scenario = _scenario(waiting, form, schema, False)
    scenario.update(
        name=reader.unique_name(f"{waiting.name}_long_wait"),
        params={**waiting.params, "retry_after": LONG_WAIT_S},
        checks=[scenario["checks"][0], "caps_retry_after", "bounded_attempts"],
        expectation=(
            f"A {waiting.status} asking for {LONG_WAIT_S} s: cap the wait or surface the error, "
            "never sleep that long."
        ),
        source={
            "kind": "assumed",
            "reason": f"The document names no longest wait; faultproof asks for {LONG_WAIT_S} s, "
            "above the generic policy's 60 s, to see the client cap it.",
        },
    )
    return [scenario]


def _default_operation(operations: dict[str, Any]) -> str:
    """The first GET without a body, else the first operation."""
    for name, operation in operations.items():
        if operation["method"] == "GET":
            return name
    return next(iter(operations))


def write(imported: Imported, out: Path) -> tuple[Path, Path]:
    """``out/providers/<id>.yaml`` and ``out/schemas/<id>.json``."""
    import yaml

    provider_id = imported.catalogue["provider"]
    (out / "providers").mkdir(parents=True, exist_ok=True)
    (out / "schemas").mkdir(parents=True, exist_ok=True)
    data_path = out / "providers" / f"{provider_id}.yaml"
    schema_path = out / "schemas" / f"{provider_id}.json"
    header = (
        f"# {provider_id}: imported by faultproof import openapi from "
        f"{imported.catalogue['seed']}.\n# Documented items point at the document (pointer) "
        "and quote it; everything else is assumed, with the reason.\n"
    )
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(
        imported.catalogue, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100
    )
    data_path.write_text(header + text, encoding="utf-8")
    schema_path.write_bytes(orjson.dumps(imported.schema, option=orjson.OPT_INDENT_2) + b"\n")
    return data_path, schema_path


__all__ = ["DocumentError", "Imported", "import_document", "write"]
