"""The control plane under ``/__faultproof/``: health and the catalogue (sessions come later)."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response

from .surface import config

blueprint = Blueprint("faultproof_control", __name__, url_prefix="/__faultproof")


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status=status, content_type="application/json")


@blueprint.get("/health")
def health() -> Response:
    return json_response({"status": "ok", "providers": list(config().providers)})


@blueprint.get("/scenarios")
def scenarios() -> Response:
    cfg = config()
    chosen = [
        s.to_json(now=cfg.clock())
        for s in cfg.catalogue.scenarios()
        if s.provider is None or s.provider in cfg.providers
    ]
    return json_response(chosen)


def mock_error(
    message: str, status: int = 400, valid: list[str] | None = None, kind: str = "bad-request"
) -> Response:
    """The mock's own error (never a provider envelope), marked so no client mistakes it."""
    body: dict[str, Any] = {"faultproof_error": message}
    if valid is not None:
        body["valid"] = valid
    response = json_response(body, status)
    response.headers["X-Faultproof-Error"] = kind
    return response


@blueprint.get("/openapi/<provider_id>.json")
def openapi_alias(provider_id: str) -> Response:
    """The same document as ``/<provider>/openapi.json``, from the control plane."""
    return provider_openapi(provider_id)


def provider_openapi(provider_id: str) -> Response:
    from flask import current_app, request

    from .openapi import build

    cfg = config()
    if provider_id not in cfg.providers:
        return mock_error(
            f"unknown provider {provider_id!r}", 404, list(cfg.providers), "unknown-id"
        )
    surface = current_app.extensions["faultproof.surfaces"][provider_id]
    document = build(cfg.catalogue.provider(provider_id), surface, request.host_url.rstrip("/"))
    return json_response(document)
