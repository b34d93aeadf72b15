"""Answering with a scenario: the one place a provider envelope becomes an HTTP response.

Provider code never builds error responses itself: it raises ``ScenarioAnswer`` (through
``fail``) and the app's single error handler renders the scenario from the catalogue, so the
body a rule produces is byte for byte the body the catalogue documents.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Response
from werkzeug.test import EnvironBuilder

from faultproof.contracts import Scenario

SCENARIO_HEADER = "X-Faultproof-Scenario"


class ScenarioAnswer(Exception):
    """Raised to answer the current request with a catalogue scenario.

    Attributes:
        scenario: The scenario to render.
        params: Parameter overrides (``retry_after``), validated against the scenario's.
        overrides: Body fields to replace after rendering (a message naming the bad field).
    """

    def __init__(
        self,
        scenario: Scenario,
        params: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(scenario.id)
        self.scenario = scenario
        self.params = dict(params or {})
        self.overrides = dict(overrides or {})


def _apply(body: Any, overrides: Mapping[str, Any]) -> Any:
    """Replace values at JSON Pointer keys (``/error/message``) of a rendered body."""
    for pointer, value in overrides.items():
        node = body
        parts = pointer.strip("/").split("/")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(parts[-1])] = value
        else:
            node[parts[-1]] = value
    return body


def render(
    answer: ScenarioAnswer, now: float | None = None, request_body: bytes | None = None
) -> Response:
    """The Flask response for a non-fault scenario; ``request_body`` fills ``{{jsonrpc_id}}``."""
    rendered = answer.scenario.render(
        answer.params, now=time.time() if now is None else now, request_body=request_body
    )
    if answer.overrides:
        rendered = type(rendered)(
            rendered.status, rendered.headers, _apply(rendered.body, answer.overrides)
        )
    response = Response(rendered.content(), status=rendered.status or 200, headers=rendered.headers)
    response.headers[SCENARIO_HEADER] = answer.scenario.id
    return response


def internal_error(error: Exception) -> Response:
    """A bug in the mock (or its store failing): a marked 500 no client could take for a
    provider error."""
    response = Response(
        "faultproof internal error (a bug in the mock, not a provider answer): "
        f"{type(error).__name__}: {error}\n",
        status=500,
        content_type="text/plain",
    )
    response.headers["X-Faultproof-Error"] = "internal"
    return response


def store_unavailable(error: Exception) -> Response:
    """The store's outage (``store_guard.py``): a marked 503, the mock's own, never a
    provider's envelope; ``Retry-After`` is the guard's probe interval, rounded up."""
    body = {"faultproof_error": str(error), "store": {"ok": False, "error": str(error)}}
    response = Response(orjson.dumps(body), status=503, content_type="application/json")
    response.headers["X-Faultproof-Error"] = "store"
    response.headers["Retry-After"] = "1"
    return response


@dataclass(frozen=True, slots=True)
class Wire:
    """A rendered answer as it leaves the mock: what ``canned.py`` caches and resends.

    Attributes:
        status: Status code.
        status_line: WSGI status (``429 TOO MANY REQUESTS``).
        headers: WSGI header list, exactly as werkzeug would send it.
        body: Body bytes (empty where HTTP forbids one, as werkzeug does).
        by_name: Header values by lower-case name, the first of each (``Headers.get``).
    """

    status: int
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes
    by_name: dict[str, str]


#: The GET a cached answer is finalised for; werkzeug reads the method (HEAD) and nothing else.
_GET = EnvironBuilder(path="/").get_environ()


def finalised(response: Response) -> Wire:
    """``response`` finalised as werkzeug finalises it for a GET, for resending as is."""
    body, status_line, headers = response.get_wsgi_response(_GET)
    by_name = {name.lower(): value for name, value in reversed(headers)}
    return Wire(response.status_code, status_line, list(headers), b"".join(body), by_name)


def wire(answer: ScenarioAnswer, now: float, request_body: bytes | None = None) -> Wire:
    """``render`` finalised for the wire: what ``canned.py`` sends and caches."""
    return finalised(render(answer, now=now, request_body=request_body))
