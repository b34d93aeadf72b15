"""``securitySchemes`` and per-operation ``security`` for the OpenAPI documents.

Why derived, not written: each catalogue operation already carries the credentials a client
sends (``Authorization: Bearer ...``, ``X-API-Key``, a session cookie); a scheme per distinct
credential, and on each route the schemes of the catalogue operations it serves, state what
the mock checks without a second copy to keep in step. A route no catalogue operation reaches
gets no ``security`` (the document makes no claim it cannot back).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from faultproof.contracts import Provider
from faultproof.contracts.redaction import secret_name
from faultproof.contracts.scenario import Operation

from .surface import Route

PATH_PARAM = re.compile(r"<(?:[a-z]+:)?[a-zA-Z_][a-zA-Z0-9_]*>")


def _schemes_of(operation: Operation) -> dict[str, dict[str, Any]]:
    """The schemes one operation's credentials use, by scheme name."""
    found: dict[str, dict[str, Any]] = {}
    for name, value in operation.headers.items():
        lower = name.lower()
        if lower == "authorization" and value.lower().startswith("bearer "):
            found["bearerAuth"] = {"type": "http", "scheme": "bearer"}
        elif lower == "cookie":
            for cookie in value.split(";"):
                cookie_name = cookie.split("=", 1)[0].strip()
                if cookie_name:
                    found[f"cookie_{cookie_name}"] = {
                        "type": "apiKey",
                        "in": "cookie",
                        "name": cookie_name,
                    }
        elif secret_name(name):
            found[f"header_{name}"] = {"type": "apiKey", "in": "header", "name": name}
    for name in operation.query:
        if secret_name(name):
            found[f"query_{name}"] = {"type": "apiKey", "in": "query", "name": name}
    return found


def _matches(route: Route, operation: Operation) -> bool:
    pattern = "^" + PATH_PARAM.sub("[^/]+", re.escape(route.rule).replace(r"\<", "<")) + "$"
    path = operation.path.split("?", 1)[0]
    return route.method == operation.method and re.match(pattern, path) is not None


def schemes(provider: Provider) -> dict[str, dict[str, Any]]:
    """Every scheme the provider's operations use (``components.securitySchemes``)."""
    found: dict[str, dict[str, Any]] = {}
    for operation in provider.operations.values():
        found.update(_schemes_of(operation))
    return dict(sorted(found.items()))


def requirements(route: Route, operations: Iterable[Operation]) -> list[dict[str, list[str]]]:
    """The ``security`` of one route: each matching operation's schemes, as alternatives."""
    alternatives: list[dict[str, list[str]]] = []
    for operation in operations:
        if _matches(route, operation):
            needed: dict[str, list[str]] = {name: [] for name in sorted(_schemes_of(operation))}
            for option in (needed, {}) if operation.auth_optional else (needed,):
                if option not in alternatives:
                    alternatives.append(option)
    return alternatives
