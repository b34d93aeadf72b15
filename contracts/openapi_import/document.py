"""An OpenAPI 3.0 or 3.1 document as the importer reads it: loaded, checked, references followed.

Every place is named by its JSON Pointer (RFC 6901), so an error says where the document is
wrong and every imported scenario can say where the document states it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import FaultproofError

VERSION = re.compile(r"3\.[01]\.\d+")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: The methods a catalogue operation can have; the others are left out, and said so.
IMPORTED_METHODS = frozenset({"get", "put", "post", "delete", "patch"})
MAX_REF_CHAIN = 64


class DocumentError(FaultproofError):
    """A document the importer cannot read, naming the file and the place."""


def escape(token: str) -> str:
    """One RFC 6901 reference token (``/repos/{owner}`` as ``~1repos~1{owner}``)."""
    return token.replace("~", "~0").replace("/", "~1")


def join(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join(f"/{escape(str(t))}" for t in tokens)


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the document with the place it stands."""

    path: str
    method: str
    data: dict[str, Any]
    pointer: str
    parameters: tuple[tuple[dict[str, Any], str], ...]


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded OpenAPI document.

    Attributes:
        name: Its file name, the ``seed`` of the catalogue made from it.
        data: The parsed document.
        version: ``3.0`` or ``3.1``.
    """

    name: str
    data: dict[str, Any]
    version: str

    @classmethod
    def load(cls, path: Path) -> Document:
        """The document in ``path`` (JSON or YAML), checked to be OpenAPI 3.0 or 3.1."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise DocumentError(f"{path}: cannot read it: {exc.strerror}") from None
        data = _parse(path, raw)
        if not isinstance(data, dict):
            raise DocumentError(f"{path}: the document is not a mapping (an OpenAPI object)")
        spelled = data.get("openapi")
        if spelled is None and "swagger" in data:
            raise DocumentError(
                f"{path}: /swagger is {data['swagger']!r}: this is a Swagger 2.0 document; "
                "faultproof imports OpenAPI 3.0 and 3.1 (convert it first, e.g. with "
                "swagger2openapi)"
            )
        if not isinstance(spelled, str) or not VERSION.fullmatch(spelled):
            raise DocumentError(
                f"{path}: /openapi is {spelled!r}; faultproof imports OpenAPI 3.0.x and 3.1.x"
            )
        if not isinstance(data.get("paths"), dict) or not data["paths"]:
            raise DocumentError(f"{path}: /paths is missing or empty: there is nothing to import")
        return cls(path.name, data, spelled[:3])

    def fail(self, pointer: str, problem: str) -> DocumentError:
        return DocumentError(f"{self.name}: {pointer or '/'} {problem}")

    def at(self, pointer: str) -> Any:
        """The node ``pointer`` names; an error naming it when the document has none."""
        node: Any = self.data
        for raw in pointer.split("/")[1:]:
            token = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise self.fail(pointer, "does not exist in the document")
        return node

    def resolve(self, node: Any, pointer: str) -> tuple[Any, str]:
        """``node`` with its ``$ref`` chain followed, and the pointer of what it lands on."""
        for _ in range(MAX_REF_CHAIN):
            if not isinstance(node, dict) or "$ref" not in node:
                return node, pointer
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#"):
                raise self.fail(
                    join(pointer, "$ref"),
                    f"is {ref!r}: only references inside the document (#/...) are supported",
                )
            target = ref[1:]
            try:
                node = self.at(target)
            except DocumentError:
                raise self.fail(
                    join(pointer, "$ref"), f"points at {ref}, which the document does not have"
                ) from None
            pointer = target
        raise self.fail(pointer, f"starts a chain of more than {MAX_REF_CHAIN} references")

    def operations(self) -> Iterator[Operation]:
        """Every operation, in document order, with its path item's parameters."""
        for path, item in self.data["paths"].items():
            item_pointer = join("/paths", path)
            if not isinstance(path, str) or not path.startswith("/"):
                raise self.fail(item_pointer, "is not a path: paths start with /")
            item, item_pointer = self.resolve(item, item_pointer)
            if not isinstance(item, dict):
                raise self.fail(item_pointer, "is not a path item object")
            shared = self._parameters(item.get("parameters", []), join(item_pointer, "parameters"))
            for method in METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                pointer = join(item_pointer, method)
                if not isinstance(operation, dict):
                    raise self.fail(pointer, "is not an operation object")
                own = self._parameters(operation.get("parameters", []), join(pointer, "parameters"))
                named = {(p["in"], p["name"]) for p, _ in own}
                merged = [p for p in shared if (p[0]["in"], p[0]["name"]) not in named] + own
                yield Operation(path, method, operation, pointer, tuple(merged))

    def _parameters(self, items: Any, pointer: str) -> list[tuple[dict[str, Any], str]]:
        if not isinstance(items, list):
            raise self.fail(pointer, "is not a list of parameters")
        found = []
        for index, item in enumerate(items):
            param, where = self.resolve(item, join(pointer, index))
            if not isinstance(param, dict) or not {"name", "in"} <= param.keys():
                raise self.fail(where, "is not a parameter object (it needs name and in)")
            found.append((param, where))
        return found


def _parse(path: Path, raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        if path.suffix.lower() == ".json":
            raise DocumentError(f"{path}: not valid JSON") from None
    import yaml

    try:
        return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise DocumentError(f"{path}: neither JSON nor YAML: {exc}") from None
