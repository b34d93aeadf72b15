"""The app factory: provider surfaces, triggers, faults and the one error path.

Request flow: the front has found the provider (first path segment), the session and any
fault or stream error to apply (``canned.Onward``); ``_begin`` remembers them. The
provider's view runs (its own rules may raise ``ScenarioAnswer`` too). ``_finish`` lets the
provider decorate every response, then applies the remembered fault to the answer. Every
scenario, whatever raised it, is rendered by ``_answer``; an exception nobody planned becomes a
loud, marked 500 that no client could take for a provider error.

The journal: a request that reaches a view or carries a fault may take long (a hang lasts until
the client leaves), so ``_arrive`` journals it in flight before anything runs and ``_record``
completes that entry in place; a reader (the runner, as soon as its client exits) never misses
it. A canned answer is written once, complete, by ``canned.py``: it is complete before its first
byte leaves, so no reader that saw the answer can miss its entry.

Canned answers (a catalogue scenario asked for by a trigger or a plan step, and the mock's own
refusals of a bad trigger or an unknown session) never reach Flask: ``canned.py`` is the one
place they are decided, rendered and journaled, called by the WSGI front (``front.py``) that
wraps this app. ``_begin`` reads what it decided for the rest (``canned.Onward``).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from faultproof.contracts import PROVIDERS, Catalogue, default_catalogue, template

from . import answers, control, cors, faults, index, journal
from .canned import Canned, Onward
from .config import MockConfig
from .front import ONWARD_KEY, Front
from .serving import sync_wire
from .store_guard import StoreUnavailable, guarded
from .surface import ResponseContext, Surface
from .url_rules import LazyBuildRule

log = logging.getLogger("faultproof.mock")


def load_surface(provider_id: str, catalogue: Catalogue | None = None) -> Surface:
    """A built-in provider module's ``surface`` (``faultproof.mocks.providers.<id>``), or the
    generic surface of an imported provider of ``catalogue``."""
    if provider_id not in PROVIDERS:
        from .providers import generic

        return generic.surface_for((catalogue or default_catalogue()).provider(provider_id))
    module = importlib.import_module(f"faultproof.mocks.providers.{provider_id}")
    surface: Surface = module.surface
    return surface


def create_app(config: MockConfig | None = None) -> Flask:
    """A mock of the configured providers, with the control plane under ``/__faultproof/``."""
    cfg = config or MockConfig()
    cfg.store = guarded(cfg.store)  # an outage of the store is the mock's 503 (store_guard.py)
    # `faultproof` is a namespace package: Flask cannot guess its paths, so they are given.
    here = os.path.dirname(os.path.abspath(__file__))
    app = Flask(
        "faultproof.mocks",
        root_path=here,
        instance_path=os.path.join(here, "instance"),
        static_folder=None,  # the mock serves no files: no /static/ rule to match or build
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_rule_class = LazyBuildRule
    app.extensions["faultproof"] = cfg
    surfaces = {p: _served(cfg, p) for p in cfg.providers}
    app.extensions["faultproof.surfaces"] = surfaces
    for surface in surfaces.values():
        app.register_blueprint(surface.blueprint)
    app.register_blueprint(control.blueprint)
    for provider_id in surfaces if cfg.upstream is None else ():  # a proxy forwards it too
        app.add_url_rule(
            f"/{provider_id}/openapi.json",
            f"openapi_{provider_id}",
            lambda provider_id=provider_id: control.provider_openapi(provider_id),
        )
    app.add_url_rule("/", "index", index.index)
    front = Front(app.wsgi_app, Canned(cfg, surfaces), lambda: app.testing)
    app.wsgi_app = front  # type: ignore[method-assign]
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_unfinished)
    app.register_error_handler(answers.ScenarioAnswer, _answer)
    app.register_error_handler(StoreUnavailable, answers.store_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)
    return app


def _served(cfg: MockConfig, provider_id: str) -> Surface:
    """The provider's mock, or with an upstream the surface that forwards to it."""
    if cfg.upstream is None:
        return load_surface(provider_id, cfg.catalogue)
    from . import proxy  # httpx, imported only by a proxy: the mock's cold start stays short

    return proxy.surface(provider_id, cfg.upstream, cfg.upstream_timeout_s)


def _cfg() -> MockConfig:
    cfg: MockConfig = current_app.extensions["faultproof"]
    return cfg


def _surface() -> Surface | None:
    surfaces: dict[str, Surface] = current_app.extensions["faultproof.surfaces"]
    return surfaces.get(getattr(g, "provider_id", ""))


def _begin() -> None:
    """Remember what the front decided for a provider request it did not answer itself."""
    onward = request.environ.get(ONWARD_KEY)
    if not isinstance(onward, Onward):
        if request.path.split("/", 2)[1] in _cfg().providers:
            raise RuntimeError("a provider request reached the app without the canned front")
        return
    g.received_at, g.session_id, g.provider_id = (
        onward.received_at,
        onward.session_id,
        onward.provider,
    )
    trigger = onward.trigger
    if trigger is not None and trigger.scenario.kind == "fault":
        g.fault = trigger
    elif trigger is not None:
        g.stream_error = answers.ScenarioAnswer(trigger.scenario, trigger.params)
    _arrive(onward.provider, trigger.scenario.id if trigger is not None else None)


def _arrive(provider_id: str, scenario: str | None) -> None:
    """Journal the request now, in flight: what runs next (a view, a fault) may take long."""
    cfg = _cfg()
    surfaces: dict[str, Surface] = current_app.extensions["faultproof.surfaces"]
    g.arrival = _arrival(surfaces[provider_id], scenario)
    g.seq = cfg.store.begin(g.session_id, g.arrival, cfg.journal_limit)


def _arrival(surface: Surface, scenario: str | None) -> dict[str, Any]:
    return journal.arrival(
        provider=surface.provider_id,
        method=request.method,
        path=_below(surface.provider_id),
        query={k: v for k, v in request.args.items()},
        headers=journal.request_headers(request.environ),
        body=request.get_data(cache=True),
        received_at=g.received_at,
        scenario=scenario,
        redaction=_cfg().catalogue.provider(surface.provider_id).redaction,
    )


def _below(provider_id: str) -> str:
    """The request path under its provider prefix (``/api/v1/products/42``)."""
    return request.path[len(provider_id) + 1 :] or "/"


def _finish(response: Response) -> Response:
    surface = _surface()
    if surface is None or not hasattr(g, "session_id") or _own_failure(response):
        return response
    if response.headers.get("X-Faultproof-Error") == "upstream":  # proxy.py: journaled as is
        _record(surface, response, response.status_code)
        return response
    stream = getattr(g, "stream_error", None)
    if stream is not None and not getattr(g, "stream_error_consumed", False):
        response = _answer(stream)
    trigger = getattr(g, "fault", None)
    scenario = trigger.scenario if trigger is not None else None
    refused = None
    if scenario is not None and scenario.fault is not None:
        refused = faults.refusal(scenario.fault, request.environ)
        if refused is None and scenario.status is not None:
            response = faults.fitted(response, scenario.status)
    if surface.every_response:
        context = ResponseContext(_cfg(), g.session_id, surface.provider_id, request.headers.get)
        for name, value in surface.every_response(context).items():
            response.headers.setdefault(name, value)
    answered: int | None = response.status_code
    if refused:
        response = control.mock_error(refused, 501, kind="fault-needs-socket")
        answered = response.status_code
    elif trigger is not None and scenario is not None and scenario.fault is not None:
        response.headers[answers.SCENARIO_HEADER] = scenario.id
        params = scenario.resolve_params(trigger.params)
        if cors.applies(_cfg().cors, request.path, _cfg().providers, request.headers.get):
            # The fault's head is sent by the server's wire, not through the front's CORS layer.
            response.headers.extend(
                cors.answer_headers(request.headers["Origin"], response.headers.keys())
            )
        plan = faults.FAULTS[scenario.fault](
            faults.FaultContext(response, params, _cfg().hang_max_s)
        )
        answered = next((a.status for a in plan if isinstance(a, faults.Head)), None)
        slot = request.environ.get(faults.PLAN_SLOT)
        if slot is not None:
            # The server performs the plan on its own connection; the entry completes when
            # the plan ends (a hang: when the client left), not now.
            slot.append((plan, _completion(surface, response), answered))
            g.journaled = True
            return response
        response = sync_wire.perform(plan, faults.server_socket(request.environ))
        response.headers[answers.SCENARIO_HEADER] = scenario.id
    _record(surface, response, answered)
    return response


def _own_failure(response: Response) -> bool:
    """The mock's own 500 or the store's 503: sent as is, never made a provider answer."""
    return response.headers.get("X-Faultproof-Error") in ("internal", "store")


def _record(surface: Surface, response: Response, status: int | None) -> None:
    """Where each entry is completed (begun by ``_arrive``) or, for a canned answer, written."""
    try:
        _completion(surface, response)(status)
    except StoreUnavailable:
        g.journaled = True  # counted lost by the guard: not tried again at teardown
        raise
    g.journaled = True


def _completion(surface: Surface, response: Response) -> Callable[[int | None], None]:
    """What completes this request's entry, callable later and outside the request (when a
    fault the server performs ends), with the status the client got (None: no response)."""
    cfg, session_id = _cfg(), g.session_id
    scenario = response.headers.get(answers.SCENARIO_HEADER)
    begun, seq = getattr(g, "arrival", None), getattr(g, "seq", 0)
    arrival = begun or _arrival(surface, None)
    headers = response.headers
    body = None if response.is_streamed else response.get_data()

    def complete(status: int | None) -> None:
        done = journal.answered(
            arrival,
            responded_at=cfg.clock(),
            status=status,
            scenario=scenario if scenario and "." in scenario else None,
            response_headers=headers,
            response_body=body,
        )
        if begun is None:
            cfg.store.append(session_id, done, cfg.journal_limit)
        elif seq:  # 0: the session ended before the request arrived in the journal
            cfg.store.finish(session_id, seq, done)

    return complete


def _unfinished(error: BaseException | None) -> None:
    """An entry begun whose answer never reached ``_record`` (the mock failed on the way):
    completed with no status, so the journal never shows it in flight forever."""
    if getattr(g, "seq", 0) and not getattr(g, "journaled", False):
        cfg = _cfg()
        done = {**g.arrival, "responded_at": cfg.clock(), "scenario": "faultproof.internal_error"}
        with suppress(StoreUnavailable):  # the store is down: the guard counted the entry lost
            cfg.store.finish(g.session_id, g.seq, done)


def _answer(answer: answers.ScenarioAnswer) -> Response:
    """A rule's answer; the request body is read only for an answer that echoes from it."""
    echoes = template.placeholders(answer.scenario.body) & set(template.REQUEST)
    body = request.get_data(cache=True) if echoes else None
    return answers.render(answer, now=_cfg().clock(), request_body=body)


def _http_error(error: HTTPException) -> Response:
    """Werkzeug's own errors (unknown path, wrong method, bad body) in the provider's envelope.

    Not a failure of the mock's own (one raised after the view, which Flask wraps in a 500):
    that is the store's 503 or the mock's marked 500, never the provider's envelope.
    """
    original = getattr(error, "original_exception", None)
    if isinstance(original, StoreUnavailable):
        return answers.store_unavailable(original)
    if original is not None:
        return _internal_error(original)
    surface = _surface()
    status = error.code or 500
    if surface is None and status == 404:
        return index.unknown_path(error.description or error.name)
    if surface is None:
        response = control.mock_error(error.description or error.name, status, None, "http")
        response.headers.extend(h for h in error.get_headers() if h[0].lower() != "content-type")
        return response
    if status == 404 and surface.not_found:
        cfg: MockConfig = current_app.extensions["faultproof"]
        return _answer(
            answers.ScenarioAnswer(cfg.catalogue.scenario(surface.not_found, surface.provider_id))
        )
    response = control.json_response(surface.http_error_body(status, error.name), status)
    response.content_type = surface.generic_error_type
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    response.headers[answers.SCENARIO_HEADER] = f"{surface.provider_id}.http_{status}"
    return response


def _internal_error(error: Exception) -> Response:
    """A bug in the mock: logged, marked, and re-raised under test so it cannot hide."""
    if current_app.testing:
        raise error
    log.exception("faultproof internal error on %s %s", request.method, request.path)
    return answers.internal_error(error)


__all__ = ["PROVIDERS", "create_app", "load_surface"]
