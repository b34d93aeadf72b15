"""Literal responses: an answer given as data (status, headers, body), not as a catalogue id.

A plan step ``{"response": {"status": 503, "headers": {"Retry-After": "2"}, "body": {...}},
"id": "fuzz.alana.3"}`` is served exactly as given, like a WireMock stub response;
``faultproof run --fuzz`` serves its generated variants this way and grades them with the same
checks as catalogue scenarios, through a ``LiteralScenario``. Unlike a catalogue body, a literal
body is not a template: ``{{name}}`` in it is sent as written, except ``{{jsonrpc_id}}``, the
request's JSON-RPC id (a generated JSON-RPC answer echoes the id as a catalogue one does).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from . import template
from .errors import FaultproofError
from .normal_form import NormalForm
from .scenario import Response, Scenario
from .source import Source

#: RFC 9110 token characters: what a header name may be made of.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: A literal answer's journal id: dotted like a scenario id (``fuzz.alana.3``).
LITERAL_ID = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+")
DEFAULT_ID = "plan.response"
#: Framing headers the server computes; a literal one would contradict the body it sends.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
FIELDS = ("status", "headers", "body")
SOURCE = Source("assumed", None, (), "a literal response given in a session plan", ())


def header_safe(value: str) -> bool:
    """Whether ``value`` can go on the wire as a header value (visible Latin-1, spaces, tabs)."""
    return all(c == "\t" or " " <= c <= "~" or "\xa0" <= c <= "\xff" for c in value)


@dataclass(frozen=True, slots=True)
class LiteralScenario(Scenario):
    """A scenario whose answer is given verbatim: rendering fills in no placeholder."""

    def render(
        self,
        params: Mapping[str, Any] | None = None,
        now: float | None = None,
        request_body: bytes | None = None,
    ) -> Response:
        headers = dict(self.headers)
        has_type = any(k.lower() == "content-type" for k in headers)
        if self.body is not None and self.content_type and not has_type:
            headers["Content-Type"] = self.content_type
        return Response(self.status, headers, template.fill_request(self.body, request_body))

    def response_json(self) -> dict[str, Any]:
        """The ``response`` object of a plan step: status, headers and body as given."""
        return {"status": self.status, "headers": dict(self.headers), "body": self.body}

    def plan_step(self) -> dict[str, Any]:
        """The plan step that serves this answer."""
        return {"response": self.response_json(), "id": self.id}


def _fail(message: str) -> None:
    raise FaultproofError(message)


def check_response(data: Any) -> None:
    """Refuse a ``response`` object the mock could not serve as given, saying why."""
    if not isinstance(data, dict):
        _fail(f"'response' is an object with {', '.join(FIELDS)}; got {type(data).__name__}")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        _fail(f"'response' has unknown fields {unknown}; valid: {', '.join(FIELDS)}")
    status = data.get("status")
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        _fail(f"response.status must be an integer from 200 to 599, got {status!r}")
    try:
        orjson.dumps(data.get("body"))
    except TypeError as exc:
        _fail(f"response.body cannot be sent as JSON: {exc} (integers must fit in 64 bits)")
    headers = data.get("headers", {})
    if not isinstance(headers, dict):
        _fail("response.headers is an object of header name to text value")
    for name, value in headers.items():
        if not HEADER_NAME.fullmatch(name):
            _fail(f"response.headers: {name!r} is not a valid header name")
        if name.lower() in FRAMING_HEADERS:
            _fail(f"response.headers: {name} is set by the server from the body; leave it out")
        if not isinstance(value, str) or not header_safe(value):
            _fail(
                f"response.headers.{name} must be text of visible Latin-1 characters "
                f"(no line breaks or control characters), got {value!r}"
            )


def literal_scenario(
    data: Mapping[str, Any],
    scenario_id: str = DEFAULT_ID,
    *,
    normal_form: NormalForm | None = None,
    retryable: bool = False,
    checks: tuple[str, ...] = (),
    expectation: str = "",
) -> LiteralScenario:
    """A checked ``response`` object as a scenario; ``normal_form`` fills in code and message."""
    check_response(data)
    if not LITERAL_ID.fullmatch(scenario_id):
        _fail(f"a literal response id is dotted like fuzz.alana.3, got {scenario_id!r}")
    body = data.get("body")
    normal = normal_form.apply(body) if normal_form and not isinstance(body, str) else None
    return LiteralScenario(
        id=scenario_id,
        provider=None,
        name=scenario_id.split(".", 1)[1],
        kind="error",
        status=data["status"],
        code=normal.code if normal else None,
        message=normal.message if normal else None,
        headers=dict(data.get("headers", {})),
        body=body,
        content_type="text/plain; charset=utf-8" if isinstance(body, str) else "application/json",
        fault=None,
        params={},
        retryable=retryable,
        canonical=False,
        checks=checks,
        operation=None,
        rule=None,
        expectation=expectation,
        source=SOURCE,
    )


__all__ = ["LiteralScenario", "check_response", "header_safe", "literal_scenario"]
