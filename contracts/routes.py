"""The generic surface of an imported provider: its routes as data, no code.

A provider imported from an OpenAPI document (``faultproof import openapi``) has no module of
its own under the mock: each route says what the document answers on success, and which
credentials it asks for, and the mock serves that (``faultproof.mocks.providers.generic``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Credential:
    """One credential a security scheme sends: a header, a query parameter or a cookie."""

    where: str
    name: str


@dataclass(frozen=True, slots=True)
class RouteData:
    """One operation of the document, as the generic surface answers it.

    Attributes:
        method: HTTP method.
        path: OpenAPI path template (``/repos/{owner}/{repo}``).
        operation: The catalogue operation it came from (its name).
        status: The documented success status.
        content_type: The success answer's media type, or ``None`` for an empty answer.
        body: The documented (or schema-generated) success body.
        credentials: Alternatives, any one of which lets a request in (OpenAPI security
            requirements: each alternative needs all of its credentials); empty: anonymous.
    """

    method: str
    path: str
    operation: str
    status: int
    content_type: str | None
    body: Any
    credentials: tuple[tuple[Credential, ...], ...] = ()

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RouteData:
        return cls(
            method=data["method"],
            path=data["path"],
            operation=data["operation"],
            status=data["status"],
            content_type=data.get("content_type"),
            body=data.get("body"),
            credentials=tuple(
                tuple(Credential(part["in"], part["name"]) for part in alternative)
                for alternative in data.get("credentials", ())
            ),
        )
