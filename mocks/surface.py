"""What a provider module builds on: a blueprint with route metadata, and request helpers.

A provider module creates one ``Surface``, declares its routes with ``surface.route(...)``
(the metadata feeds the OpenAPI document) and, inside views, uses the helpers below instead of
touching Flask globals: ``fail`` to answer with a catalogue scenario, ``state`` for the
session's provider state, ``rule`` for a documented limit, ``hit`` for a rate-limit counter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from flask import Blueprint, current_app, g, request

from faultproof.contracts import Provider

from .answers import ScenarioAnswer
from .config import MockConfig
from .store import DEFAULT_SESSION, WindowCount

View = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint of a provider surface, as the OpenAPI document describes it.

    Attributes:
        method: HTTP method.
        rule: Flask rule (``/api/v1/products/<product_id>``).
        name: Operation id.
        summary: One line for the OpenAPI document.
        body: JSON Schema of the request body, or ``None``.
        query: JSON Schemas of query parameters, by name.
        headers: JSON Schemas of documented request headers, by name.
        ok: JSON Schema of the success body.
        ok_status: Success status.
        ok_type: Success Content-Type.
        public: Whether the route skips the provider's authentication.
    """

    method: str
    rule: str
    name: str
    summary: str
    body: dict[str, Any] | None
    query: dict[str, dict[str, Any]]
    headers: dict[str, dict[str, Any]]
    ok: dict[str, Any]
    ok_status: int
    ok_type: str
    public: bool

    @property
    def endpoint(self) -> str:
        """The Flask endpoint of the route, within its provider's blueprint."""
        return f"{self.name}_{self.method.lower()}"

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>", r"{\1}", self.rule)


@dataclass(frozen=True, slots=True)
class ResponseContext:
    """What a provider's every-response headers may depend on: explicit, because canned answers
    (``canned.py``) get them without Flask's request context.

    Attributes:
        config: The mock's settings.
        session_id: The session the request belongs to.
        provider_id: The provider answering.
        header: Case-insensitive request header lookup.
    """

    config: MockConfig
    session_id: str
    provider_id: str
    header: Callable[[str], str | None]

    def rule(self, name: str) -> Any:
        return self.config.rule(self.provider_id, name)

    def peek(self, key: str, window_s: float) -> WindowCount:
        """A rate-limit window's count, as ``peek`` sees it inside a view."""
        return self.config.store.peek(
            _counter(self.session_id, self.provider_id, key), window_s, self.config.clock()
        )


@dataclass
class Surface:
    """A provider's mocked API.

    Attributes:
        provider_id: Provider id; also the URL prefix.
        seed: Initial state of a session (deep-copied per session).
        authenticate: Runs before every non-public view; raises ``ScenarioAnswer`` to refuse.
        generic_error: Body for an HTTP error the catalogue does not name (405, 413, ...).
        generic_error_type: Content-Type of that body.
        not_found: Scenario name for a path outside the surface.
        every_response: Headers every response of the provider carries unless it set them
            itself (Alana's X-RateLimit-*); Flask-free, so canned answers get them too.
    """

    provider_id: str
    seed: Callable[[], dict[str, Any]] = dict
    authenticate: Callable[[], None] | None = None
    generic_error: Callable[[int, str], Any] | None = None
    not_found: str | None = None
    generic_error_type: str = "application/json"
    every_response: Callable[[ResponseContext], Mapping[str, str]] | None = None
    routes: list[Route] = field(default_factory=list)
    blueprint: Blueprint = field(init=False)

    def __post_init__(self) -> None:
        self.blueprint = Blueprint(self.provider_id, __name__, url_prefix=f"/{self.provider_id}")

    def http_error_body(self, status: int, name: str) -> Any:
        """The body of an HTTP error the catalogue does not name, in this provider's style."""
        return self.generic_error(status, name) if self.generic_error else {"error": name}

    def route(
        self,
        method: str,
        rule: str,
        *,
        summary: str,
        body: dict[str, Any] | None = None,
        query: dict[str, dict[str, Any]] | None = None,
        headers: dict[str, dict[str, Any]] | None = None,
        ok: dict[str, Any] | None = None,
        ok_status: int = 200,
        ok_type: str = "application/json",
        public: bool = False,
    ) -> Callable[[View], View]:
        """Declare a view and its OpenAPI description."""

        def register(view: View) -> View:
            route = Route(
                method,
                rule,
                view.__name__,
                summary,
                body,
                query or {},
                headers or {},
                ok or {},
                ok_status,
                ok_type,
                public,
            )
            self.routes.append(route)

            def endpoint(**kwargs: Any) -> Any:
                if not public and self.authenticate:
                    self.authenticate()
                return view(**kwargs)

            endpoint.__name__ = route.endpoint
            self.blueprint.add_url_rule(
                rule, endpoint=endpoint.__name__, view_func=endpoint, methods=[method]
            )
            return view

        return register


def config() -> MockConfig:
    cfg: MockConfig = current_app.extensions["faultproof"]
    return cfg


def provider() -> Provider:
    """The catalogue entry of the provider serving this request."""
    return config().catalogue.provider(g.provider_id)


def session_id() -> str:
    return str(getattr(g, "session_id", DEFAULT_SESSION))


def now() -> float:
    return config().clock()


def fail(name: str, params: dict[str, Any] | None = None, **overrides: Any) -> ScenarioAnswer:
    """An answer with this provider's scenario ``name``; raise it.

    ``overrides`` replace body fields by JSON Pointer written with ``__`` for ``/``
    (``error__message="Unknown tool 'x'"``), so a rule's answer can name the offending value.
    """
    scenario = config().catalogue.scenario(name, provider=g.provider_id)
    pointers = {"/" + key.replace("__", "/"): value for key, value in overrides.items()}
    return ScenarioAnswer(scenario, params, pointers)


def rule(name: str) -> Any:
    """A documented limit's effective value (catalogue value with config overrides)."""
    return config().rule(g.provider_id, name)


@contextmanager
def state() -> Iterator[dict[str, Any]]:
    """This session's state of this provider, held exclusively for the block."""
    surface: Surface = current_app.extensions["faultproof.surfaces"][g.provider_id]
    with config().store.state(session_id(), g.provider_id, surface.seed) as data:
        yield data


def _counter(session: str, provider_id: str, key: str) -> str:
    return f"{session}:{provider_id}:{key}"


def hit(key: str, window_s: float) -> WindowCount:
    """Count a request against a fixed rate-limit window, per session and provider."""
    return config().store.hit(_counter(session_id(), g.provider_id, key), window_s, now())


def peek(key: str, window_s: float) -> WindowCount:
    return config().store.peek(_counter(session_id(), g.provider_id, key), window_s, now())


def args() -> dict[str, str]:
    """Query parameters, without the mock's own ``__`` trigger parameters."""
    return {k: v for k, v in request.args.items() if not k.startswith("__")}


def json_body() -> Any:
    """The parsed JSON body; ``ValueError`` when it is missing, not JSON, or not labelled JSON."""
    if not request.mimetype or not request.mimetype.endswith("json"):
        raise ValueError("Content-Type is not application/json")
    try:
        return orjson.loads(request.get_data(cache=True))
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"body is not valid JSON: {exc}") from None


def bearer(header: Callable[[str], str | None] | None = None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if that is what was sent.

    ``header`` looks request headers up (``ResponseContext.header``); the current request's
    by default.
    """
    value = (header or request.headers.get)("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def stream_error() -> Any:
    """The stream-error scenario a trigger asked for, for a streaming view to emit mid-stream."""
    answer = getattr(g, "stream_error", None)
    g.stream_error_consumed = answer is not None
    return answer
