"""JSON Schema validation for the surfaces' request rules, importing jsonschema on first use.

Why: importing jsonschema is about a tenth of `faultproof serve`'s start-up, and no start needs
it: only a request that a rule validates does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A draft 2020-12 validator of ``schema``."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


def best_error(schema: dict[str, Any], instance: Any) -> ValidationError | None:
    """The most relevant way ``instance`` breaks ``schema`` (jsonschema's ``best_match``)."""
    from jsonschema.exceptions import best_match

    found: ValidationError | None = best_match(validator(schema).iter_errors(instance))
    return found
