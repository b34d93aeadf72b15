"""Error-envelope JSON Schemas (draft 2020-12), one per provider, read from ``schemas/``."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from typing import TYPE_CHECKING, Any

from .errors import CatalogueError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

# jsonschema is imported where it is used: a cached catalogue needs no validator at start-up.

SCHEMA_DIR = resources.files(__package__) / "schemas"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema stored as ``schemas/<name>.json``, checked against draft 2020-12."""
    return load_schema_file(SCHEMA_DIR / f"{name}.json", f"schemas/{name}.json")


def load_schema_file(path: Traversable, shown: str | None = None) -> dict[str, Any]:
    """The schema in ``path`` (named ``shown`` in errors), checked against draft 2020-12."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    where = shown or str(path)
    try:
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
    except FileNotFoundError as exc:
        raise CatalogueError(f"no schema file {where}") from exc
    except (json.JSONDecodeError, SchemaError) as exc:
        raise CatalogueError(f"{where} is not a valid JSON Schema: {exc}") from exc
    if not isinstance(schema.get("$id"), str):
        raise CatalogueError(f"{where} has no $id: a provider schema names itself")
    return schema


def validator(schema: dict[str, Any], pointer: str | None = None) -> Draft202012Validator:
    """A validator for the whole schema, or for the part ``pointer`` (``#/$defs/x``) names."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    if not pointer or pointer == "#":
        return Draft202012Validator(schema)
    base = schema["$id"]
    registry: Registry = Registry().with_resource(base, Resource.from_contents(schema))
    return Draft202012Validator({"$ref": f"{base}{pointer}"}, registry=registry)


def first_error(schema: dict[str, Any], instance: Any, pointer: str | None = None) -> str | None:
    """The most relevant validation error as one line, or ``None`` when valid."""
    from jsonschema.exceptions import best_match

    error = best_match(validator(schema, pointer).iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {where}: {error.message}"
