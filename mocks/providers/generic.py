"""The surface of an imported provider, built from its catalogue's routes: no code of its own.

Each route answers the document's success example; a route whose operation needs credentials
refuses a request that carries none of its security schemes' credentials with the provider's
canonical 401, when the document has one. A path outside the routes gets its canonical 404.
Everything else (triggers, plans, faults, sessions, journal) is the mock's, as for the
built-in providers.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from flask import Response, request

from faultproof.contracts import Provider
from faultproof.contracts.routes import Credential, RouteData

from ..surface import Surface, fail

PATH_PARAM = re.compile(r"\{([^{}]*)\}")


def _rule(path: str) -> str:
    """The OpenAPI template as a werkzeug rule (values unused). A parameter keeps its name when
    werkzeug can take it (an identifier), so the served OpenAPI names it as the document did."""
    numbers = iter(range(1_000))

    def name(found: re.Match[str]) -> str:
        spelled = found.group(1)
        return f"<{spelled if spelled.isidentifier() else f'p{next(numbers)}'}>"

    return PATH_PARAM.sub(name, path)


def _canonical(provider: Provider, status: int) -> str | None:
    return next(
        (s.name for s in provider.scenarios.values() if s.canonical and s.status == status), None
    )


def _present(credential: Credential) -> bool:
    if credential.where == "header":
        return bool(request.headers.get(credential.name))
    if credential.where == "query":
        return bool(request.args.get(credential.name))
    return bool(request.cookies.get(credential.name))


def _view(route: RouteData, refusal: str | None) -> Any:
    body = (
        route.body.encode()
        if isinstance(route.body, str)
        else b""
        if route.body is None
        else orjson.dumps(route.body)
    )

    def view(**_params: str) -> Response:
        if (
            refusal
            and route.credentials
            and not any(all(_present(c) for c in alternative) for alternative in route.credentials)
        ):
            raise fail(refusal)
        return Response(body, route.status, content_type=route.content_type)

    view.__name__ = route.operation
    return view


def surface_for(provider: Provider) -> Surface:
    """A surface answering ``provider``'s routes."""
    surface = Surface(
        provider.id,
        not_found=_canonical(provider, 404),
        generic_error_type=provider.content_type,
    )
    refusal = _canonical(provider, 401)
    for route in provider.routes:
        surface.route(
            route.method,
            _rule(route.path),
            summary=f"{route.method} {route.path}",
            ok_status=route.status,
            ok_type=route.content_type or "application/json",
            public=True,
        )(_view(route, refusal))
    return surface
