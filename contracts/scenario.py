"""Scenarios (one documented behaviour each) and the operations clients are driven through."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from . import template
from .errors import FaultproofError, UnknownIdError
from .param_ranges import FINITE, ParamRange
from .source import Source

Kind = Literal["error", "stream_error", "result", "fault", "webhook"]
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Operation:
    """One request a client under test is asked to make (the adapter protocol's operation).

    Attributes:
        name: Operation name an SDK adapter may map to its own method (``get_product``).
        method: HTTP method.
        path: Path below the provider's base URL.
        query: Query parameters.
        headers: Headers, including valid credentials for the mock.
        json: JSON body, or ``None``.
        idempotent: Whether repeating it is harmless (``safe_retries`` depends on it).
        auth_optional: Whether the path also answers without the credentials in ``headers``.
        before: For a request that documents an answer (``openapi_examples``), the requests
            sent first in its session.
    """

    name: str
    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    idempotent: bool = True
    auth_optional: bool = False
    before: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, name: str, data: dict[str, Any]) -> Operation:
        method = data["method"]
        return cls(
            name=name,
            method=method,
            path=data["path"],
            query=dict(data.get("query", {})),
            headers=dict(data.get("headers", {})),
            json=data.get("json"),
            idempotent=data.get("idempotent", method in IDEMPOTENT_METHODS),
            auth_optional=data.get("auth", "required") == "optional",
            before=tuple(data.get("before", ())),
        )

    def to_json(self) -> dict[str, Any]:
        """The ``FAULTPROOF_OPERATION`` object of DESIGN.md."""
        return {
            "name": self.name,
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "json": self.json,
        }


@dataclass(frozen=True, slots=True)
class Response:
    """A scenario rendered for one request.

    Attributes:
        status: HTTP status, or ``None`` for a fault that sends none.
        headers: Response headers, Content-Type included when there is a body.
        body: The body as data (dict, list) or text; ``None`` for no body.
    """

    status: int | None
    headers: dict[str, str]
    body: Any

    def content(self) -> bytes:
        """The body as bytes: JSON for data, UTF-8 for text, one line for NDJSON."""
        if self.body is None:
            return b""
        if isinstance(self.body, str):
            return self.body.encode()
        content = orjson.dumps(self.body)
        if self.headers.get("Content-Type", "").startswith("application/x-ndjson"):
            content += b"\n"
        return content


@dataclass(frozen=True, slots=True)
class Scenario:
    """One documented (or assumed) behaviour of a provider, or a generic transport fault.

    Attributes:
        id: ``<provider>.<name>`` or ``fault.<name>``.
        provider: Provider id, ``None`` for generic faults (available on every provider).
        name: The part after the dot.
        kind: ``error``, ``stream_error``, ``result``, ``fault`` or ``webhook``.
        status: HTTP status, ``None`` for faults that send no response.
        code: The normal-form code of the body, or ``None``.
        message: The normal-form message of the body, or ``None``.
        headers: Header templates (``{{param}}`` placeholders).
        body: Body template.
        content_type: Content-Type of the body.
        fault: Name of the transport fault to apply, for ``fault`` scenarios.
        params: Parameters with their default values.
        retryable: Whether a client should retry after this answer.
        canonical: The provider's canonical error for its status (``Prefer: code=``).
        checks: Check ids that grade a client against this scenario.
        operation: Operation name the runner drives (``None``: the provider default).
        rule: The server-side rule that produces it without a trigger, if any.
        expectation: What a well-behaved client does.
        source: Provenance.
        body_schema: Pointer into the provider schema the body must match.
        retryable_reason: Why ``retryable`` departs from the policy's status list.
        ranges: Where each numeric parameter may go (``faults.yaml``'s ``param_ranges``).
    """

    id: str
    provider: str | None
    name: str
    kind: Kind
    status: int | None
    code: str | None
    message: str | None
    headers: Mapping[str, str]
    body: Any
    content_type: str | None
    fault: str | None
    params: Mapping[str, Any]
    retryable: bool
    canonical: bool
    checks: tuple[str, ...]
    operation: str | None
    rule: str | None
    expectation: str
    source: Source
    body_schema: str | None = None
    retryable_reason: str | None = None
    ranges: Mapping[str, ParamRange] = field(default_factory=dict)

    def resolve_params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults updated with ``overrides``; unknown names and wrong types are refused."""
        values = dict(self.params)
        for name, value in (overrides or {}).items():
            if name not in self.params:
                raise UnknownIdError(f"parameter of {self.id}", name, self.params)
            bounds = self.ranges.get(name, FINITE)
            values[name] = _coerce(self.id, name, self.params[name], value, bounds)
        return values

    def render(
        self,
        params: Mapping[str, Any] | None = None,
        now: float | None = None,
        request_body: bytes | None = None,
    ) -> Response:
        """Status, headers and body for one request, with parameters filled in at ``now`` and
        request values (``{{jsonrpc_id}}``) from ``request_body``."""
        values = template.context(
            self.resolve_params(params), time.time() if now is None else now, request_body
        )
        headers = {k: str(v) for k, v in template.render(dict(self.headers), values).items()}
        body = template.render(self.body, values)
        if body is not None and self.content_type:
            headers.setdefault("Content-Type", self.content_type)
        return Response(self.status, headers, body)

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        """The DESIGN.md catalogue object, with headers and body rendered at their defaults."""
        rendered = self.render(now=now)
        return {
            "id": self.id,
            "provider": self.provider,
            "kind": self.kind,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
            "checks": list(self.checks),
            "headers": rendered.headers,
            "body": rendered.body,
            "params": dict(self.params),
            "fault": self.fault,
            "canonical": self.canonical,
            "operation": self.operation,
            "rule": self.rule,
            "expectation": self.expectation,
            "source": self.source.to_json(),
        }


def _coerce(scenario_id: str, name: str, default: Any, value: Any, bounds: ParamRange) -> Any:
    """A parameter value of its default's type; numbers given as text are accepted, and a
    number must hold in ``bounds`` (finite, within its range)."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
    elif isinstance(default, (int, float)):
        number = _number(value)
        if number is not None and bounds.holds(number):
            return int(number) if bounds.integer else number
        raise FaultproofError(
            f"parameter {name!r} of {scenario_id} takes {bounds.describe()} "
            f"(default {default!r}), got {value!r}"
        )
    elif isinstance(default, str):
        return str(value)
    kind = type(default).__name__
    raise FaultproofError(
        f"parameter {name!r} of {scenario_id} takes a {kind} (default {default!r}), got {value!r}"
    )


def _number(value: Any) -> int | float | None:
    """``value`` as a number (text too: ``"nan"`` and ``"1.e999"`` parse, ranges refuse them)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        for parse in (int, float):
            try:
                return parse(value)
            except ValueError:
                pass
    return None
