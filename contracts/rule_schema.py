"""What a catalogue rule may be overridden with (``faultproof serve --set``), as JSON Schema.

Why inferred: a rule's default value already says its shape (a count, seconds, a list of
names, a mapping of fields), so the catalogue states a type only where the default cannot, such
as a field whose default is ``null`` (``types:`` in the rule). An override is checked against
that schema when the server starts, so a misspelt field or a word where a number belongs is
refused then, naming the rule's fields and their types, never answered later as a 500.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import FaultproofError

#: What a rule's number may be overridden with: a count, a size or seconds.
NUMBER_RANGE = (0, 1_000_000_000)


#: Bounds of every number a rule takes (JSON Schema applies them to numbers only).
BOUNDS = {"minimum": NUMBER_RANGE[0], "maximum": NUMBER_RANGE[1]}


def value_schema(value: Any, name: str = "") -> dict[str, Any]:
    """The schema of values shaped like ``value``; a count stays whole, and seconds (a name
    ending in ``_s`` or ``seconds``, the catalogues' convention) may be fractional."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, (int, float)):
        seconds = name.endswith(("_s", "seconds"))
        kind = "integer" if isinstance(value, int) and not seconds else "number"
        return {"type": kind, **BOUNDS}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        items = value_schema(value[0]) if value else {}
        return {"type": "array", "items": items}
    if isinstance(value, Mapping):
        # An override merges into the default at every depth, so no field is required.
        return {
            "type": "object",
            "properties": {k: value_schema(v, k) for k, v in value.items()},
            "additionalProperties": False,
        }
    return {}


def rule_schema(
    value: Any, types: Mapping[str, Any] | None = None, name: str = ""
) -> dict[str, Any]:
    """A rule's schema: inferred from its default, with ``types`` (field -> JSON type or list
    of types) where the default cannot tell, such as ``null``."""
    schema = value_schema(value, name)
    for field, kind in (types or {}).items():
        schema["properties"][field] = {"type": kind, **BOUNDS}
    return schema


def describe(schema: Mapping[str, Any]) -> str:
    """``integer from 0 to 1_000_000_000``, ``integer or null``, ``list of string``."""
    kind = schema.get("type")
    if kind is None:
        return "any value"
    if isinstance(kind, list):
        return " or ".join(describe({**schema, "type": k}) for k in kind)
    if kind == "array":
        return f"list of {describe(schema.get('items', {}))}"
    if kind == "object":
        return "object of " + ", ".join(
            f"{n}: {describe(s)}" for n, s in schema["properties"].items()
        )
    if kind in ("integer", "number") and "maximum" in schema:
        return f"{kind} from {schema['minimum']} to {schema['maximum']:_}"
    return str(kind)


def fields(schema: Mapping[str, Any]) -> dict[str, str]:
    """Each field of an object rule, described; empty for a rule that is one value."""
    return {name: describe(sub) for name, sub in schema.get("properties", {}).items()}


def check_override(key: str, schema: Mapping[str, Any], override: Any) -> None:
    """Refuse an override ``schema`` does not admit, saying what the rule takes."""
    if schema.get("type") == "object" and isinstance(override, Mapping):
        known = schema["properties"]
        for name, value in override.items():
            if name not in known:
                listed = ", ".join(f"{n} ({describe(s)})" for n, s in known.items())
                raise FaultproofError(f"rule {key} has no field {name!r}; its fields: {listed}")
            check_override(f"{key}.{name}", known[name], value)
        return
    if not _admits(schema, override):
        raise FaultproofError(f"rule {key} takes {_takes(schema)}, got {override!r}")


def _takes(schema: Mapping[str, Any]) -> str:
    if schema.get("type") == "object":
        listed = ", ".join(f"{n} ({describe(s)})" for n, s in schema["properties"].items())
        return f"fields {listed} (as PROVIDER.RULE.FIELD=VALUE)"
    return describe(schema)


def _admits(schema: Mapping[str, Any], value: Any) -> bool:
    # jsonschema only when an override is given: a plain start never imports it.
    from jsonschema import Draft202012Validator

    if isinstance(value, float) and not math.isfinite(value):
        return False
    return Draft202012Validator(dict(schema)).is_valid(value)
