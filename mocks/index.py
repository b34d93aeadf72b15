"""``GET /`` and the 404 of an unknown first path segment: what this mock serves, and where.

Why: a newcomer's first request is often ``curl localhost:8080/`` or a misspelt provider
(``/alanna/...``). A bare 404 says nothing; this answer lists the providers served with their
base URLs (inside a session, the session's) and OpenAPI documents, and for a misspelling the
closest provider id. Both are the mock's own answers, never a provider's.
"""

from __future__ import annotations

import difflib
from typing import Any

from flask import Response, current_app, request

from . import control


def served() -> list[dict[str, Any]]:
    """Each served provider: its id, title, base URL and OpenAPI document, as reached now."""
    root = request.host_url.rstrip("/") + request.script_root
    catalogue = current_app.extensions["faultproof"].catalogue
    return [
        {
            "id": provider_id,
            "title": catalogue.provider(provider_id).title,
            "base_url": f"{root}/{provider_id}",
            "openapi": f"{request.host_url.rstrip('/')}/{provider_id}/openapi.json",
        }
        for provider_id in current_app.extensions["faultproof.surfaces"]
    ]


def index() -> Response:
    """``GET /``: the providers served, the control plane and the catalogue listing."""
    return control.json_response(
        {
            "faultproof": "a mock of documented provider failures",
            "providers": served(),
            "control_plane": f"{request.host_url.rstrip('/')}/__faultproof/health",
            "scenarios": "faultproof scenarios (or GET /<provider>/openapi.json)",
        },
        200,
    )


def unknown_path(description: str) -> Response:
    """The mock's 404 for a path under no provider: the providers, and the nearest id."""
    segment = request.path.split("/", 2)[1] if request.path.count("/") else ""
    providers = served()
    ids = [p["id"] for p in providers]
    near = difflib.get_close_matches(segment, ids, n=1, cutoff=0.6)
    hint = f" Did you mean '{near[0]}'?" if near else ""
    message = (
        f"no provider {segment!r} is served here.{hint} Served: {', '.join(ids)} "
        f"(each under /<provider>/...; see GET / for base URLs)"
        if segment
        else description
    )
    body = {"faultproof_error": message, "valid": ids, "providers": providers}
    response = control.json_response(body, 404)
    response.headers["X-Faultproof-Error"] = "http"
    return response
