"""The control plane under ``/__faultproof/``: health, catalogue, sessions, plans, journals.

Who may call it is ``access.py``'s rule (known Host, no foreign Origin, the token from every
peer when one is set, else loopback peers only), then a session's key where keys are on
(``session_keys.py``); bodies are bounded by ``control_input.py``.
Bad input gets a 400 or 404 that says what is wrong and lists what is valid; nothing is
half-applied.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request

from . import access, control_input, journal_query, plans, session_keys, sessions
from .store import DEFAULT_SESSION, IN_FLIGHT
from .store_guard import lost_of, report
from .surface import config

blueprint = Blueprint("faultproof_control", __name__, url_prefix="/__faultproof")


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status=status, content_type="application/json")


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


@blueprint.before_request
def guard() -> Response | None:
    """The access rule of ``access.py``: Host, Origin, token or loopback, body type and size."""
    cfg = config()
    environ = request.environ
    asked = access.Asked(
        request.method,
        request.headers,
        request.remote_addr,
        (str(environ.get("SERVER_NAME", "")), str(environ.get("SERVER_PORT", ""))),
        request.content_length,
    )
    refusal = access.check(asked, cfg.allow_hosts, cfg.control_token)
    if refusal is not None:
        return mock_error(refusal.message, refusal.status, None, refusal.kind)
    secret, session_id = cfg.key_secret(), (request.view_args or {}).get("session_id")
    if secret and session_id is not None:
        why = session_keys.refused(secret, session_id, request.headers.get(session_keys.KEY_HEADER))
        if why:
            return mock_error(why, 403, None, "session-key")
    return None


def no_content() -> Response:
    """A 204: no body, so no ``Content-Type`` either."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


def _body(what: str, empty: Any = None) -> Any:
    """The request's JSON body, bounded (``control_input.py``); ``BodyError`` if refused."""
    return control_input.read(request.stream.read, what, empty)


@blueprint.get("/health")
def health() -> Response:
    """200 while the store answers; 503, marked, with what the store said, while it does not."""
    store = report(config().store)
    body = {
        "status": "ok" if store["ok"] else "store-unavailable",
        "providers": list(config().providers),
        "store": store,
    }
    response = json_response(body, 200 if store["ok"] else 503)
    if not store["ok"]:
        response.headers["X-Faultproof-Error"] = "store"
    return response


@blueprint.get("/scenarios")
def scenarios() -> Response:
    cfg = config()
    chosen = [
        s.to_json(now=cfg.clock())
        for s in cfg.catalogue.scenarios()
        if s.provider is None or s.provider in cfg.providers
    ]
    return json_response(chosen)


def _base_urls(session_id: str) -> dict[str, str]:
    root = request.host_url.rstrip("/")
    return {p: f"{root}/s/{session_id}/{p}" for p in config().providers}


def _session_or_404(session_id: str) -> Response | None:
    cfg = config()
    if cfg.store.session(session_id, cfg.clock(), cfg.session_ttl_s) is None:
        return mock_error(
            f"unknown or expired session {session_id!r}", 404, None, "unknown-session"
        )
    return None


@blueprint.post("/sessions")
def create_session() -> Response:
    cfg = config()
    cfg.store.expire(cfg.clock(), cfg.session_ttl_s)
    session_id, secret = sessions.new_id(), sessions.new_secret()
    cfg.store.create_session(session_id, secret, cfg.clock(), cfg.session_ttl_s)
    created = {
        "id": session_id,
        "base_urls": _base_urls(session_id),
        "header": {sessions.SESSION_HEADER: session_id},
        "webhook_secret": secret,
    }
    if key_secret := cfg.key_secret():
        created["key"] = session_keys.key(key_secret, session_id)
    return json_response(created, 201)


@blueprint.get("/sessions")
def list_sessions() -> Response:
    cfg = config()
    cfg.store.expire(cfg.clock(), cfg.session_ttl_s)
    ids = cfg.store.session_ids()
    if not cfg.control_token:  # an id is a session's capability: listed only to token holders
        return json_response({"count": len(ids)})
    return json_response({"count": len(ids), "sessions": ids})


@blueprint.get("/sessions/<session_id>")
def get_session(session_id: str) -> Response:
    cfg = config()
    info = cfg.store.session(session_id, cfg.clock(), cfg.session_ttl_s)
    if info is None:
        return mock_error(
            f"unknown or expired session {session_id!r}", 404, None, "unknown-session"
        )
    return json_response(
        {
            "id": info.id,
            "created_at": info.created_at,
            "plan": info.plan,
            "base_urls": _base_urls(session_id),
        }
    )


@blueprint.delete("/sessions/<session_id>")
def delete_session(session_id: str) -> Response:
    if session_id == DEFAULT_SESSION:
        return mock_error(
            "the default session cannot be deleted (it serves requests without a session); "
            f"DELETE /__faultproof/sessions/{DEFAULT_SESSION}/plan clears its plan",
            409,
            None,
            "default-session",
        )
    if not config().store.delete_session(session_id):
        return mock_error(f"unknown session {session_id!r}", 404, None, "unknown-session")
    return no_content()


@blueprint.put("/sessions/<session_id>/plan")
def put_plan(session_id: str) -> Response:
    cfg = config()
    if missing := _session_or_404(session_id):
        return missing
    try:
        data = _body("the plan")
        control_input.check_steps(data)
    except control_input.BodyError as exc:
        return mock_error(str(exc), exc.status, None, exc.kind)
    try:
        plan = plans.validate(data, cfg.catalogue, cfg.providers)
    except plans.PlanError as exc:
        return mock_error(str(exc), 400, exc.valid, "bad-plan")
    cfg.store.set_plan(session_id, plan)
    return json_response({"id": session_id, "plan": plan})


@blueprint.delete("/sessions/<session_id>/plan")
def delete_plan(session_id: str) -> Response:
    if missing := _session_or_404(session_id):
        return missing
    config().store.set_plan(session_id, None)
    return no_content()


def _filtered_journal(session_id: str) -> Response | dict[str, Any]:
    """The session's journal, its entries filtered by the query (``journal_query.py``)."""
    if missing := _session_or_404(session_id):
        return missing
    try:
        wanted = journal_query.matcher(request.args.to_dict())
    except journal_query.BadFilter as error:
        return mock_error(str(error), 400, error.valid)
    page = config().store.journal(session_id)
    lost = lost_of(config().store, session_id)
    return {
        "session": session_id,
        "entries": [e for e in page.entries if wanted(e)],
        # Entries the journal lacks: past its bound, or lost while the store was down.
        "dropped": page.dropped + lost,
        "lost": lost,
        "limit": config().journal_limit,
        # Requests still being answered (a hang): a reader grading the session waits for 0.
        "in_flight": sum(1 for e in page.entries if e.get(IN_FLIGHT)),
    }


@blueprint.get("/sessions/<session_id>/journal")
def get_journal(session_id: str) -> Response:
    found = _filtered_journal(session_id)
    return found if isinstance(found, Response) else json_response(found)


@blueprint.get("/sessions/<session_id>/journal/count")
def count_journal(session_id: str) -> Response:
    """How many kept entries match the filters (WireMock's ``/__admin/requests/count``)."""
    found = _filtered_journal(session_id)
    if isinstance(found, Response):
        return found
    counted = {"count": len(found["entries"])}
    return json_response({**counted, "in_flight": found["in_flight"], "dropped": found["dropped"]})


@blueprint.post("/sessions/<session_id>/verdicts")
def post_verdicts(session_id: str) -> Response:
    """The session's traffic graded with ``faultproof judge``'s checks: its JSON report."""
    from faultproof.contracts.judge import judge_entries
    from faultproof.contracts.reports.json_report import render

    if missing := _session_or_404(session_id):
        return missing
    entries = config().store.journal(session_id).entries
    settled = [
        dict(e) for e in entries if not e.get(IN_FLIGHT) and e.get("direction") != "outbound"
    ]
    judged = judge_entries(
        settled, config().catalogue, f"session {session_id}", "the session's journal"
    )
    in_flight = sum(1 for e in entries if e.get(IN_FLIGHT))
    report = dataclasses.replace(
        judged.report, meta={**judged.report.meta, "in_flight (not graded)": in_flight}
    )
    return Response(render(report), 200, content_type="application/json")


@blueprint.post("/sessions/<session_id>/webhooks")
def post_webhook(session_id: str) -> Response:
    """Deliver a signed (or tampered) AINative webhook to a receiver and journal its answer."""
    from . import webhooks

    cfg = config()
    info = cfg.store.session(session_id, cfg.clock(), cfg.session_ttl_s)
    if info is None:
        return mock_error(
            f"unknown or expired session {session_id!r}", 404, None, "unknown-session"
        )
    if webhooks.PROVIDER not in cfg.providers:
        return mock_error(
            f"webhooks are {webhooks.PROVIDER}'s; this mock serves {list(cfg.providers)}", 400
        )
    try:
        data = _body("the webhook request")
    except control_input.BodyError as exc:
        return mock_error(f"bad webhook request: {exc}", exc.status, None, exc.kind)
    try:
        delivery = webhooks.prepare(data, cfg.catalogue, info.secret, cfg.webhook_allow)
    except webhooks.WebhookError as exc:
        return mock_error(f"bad webhook request: {exc}", 400, None, "bad-webhook")
    answer, entry = webhooks.deliver(delivery, cfg.clock)
    cfg.store.append(session_id, entry, cfg.journal_limit)
    return json_response(answer)


@blueprint.get("/openapi.json")
def control_openapi() -> Response:
    """The control plane's own OpenAPI 3.1 document (``control_openapi.py``)."""
    from .control_openapi import build

    cfg = config()
    return json_response(build(cfg.catalogue, cfg.providers, request.host_url.rstrip("/")))


@blueprint.get("/openapi/<provider_id>.json")
def openapi_alias(provider_id: str) -> Response:
    """The same document as ``/<provider>/openapi.json``, from the control plane."""
    return provider_openapi(provider_id)


def provider_openapi(provider_id: str) -> Response:
    from .openapi import build
    from .openapi_examples import success_examples

    cfg = config()
    if provider_id not in cfg.providers:
        return mock_error(
            f"unknown provider {provider_id!r}", 404, list(cfg.providers), "unknown-id"
        )
    surface = current_app.extensions["faultproof.surfaces"][provider_id]
    examples = success_examples(current_app._get_current_object(), provider_id)  # type: ignore[attr-defined]
    document = build(
        cfg.catalogue.provider(provider_id), surface, request.host_url.rstrip("/"), examples
    )
    return json_response(document)
