"""The hot path of canned answers (issue 8): a triggered catalogue scenario without Flask.

Why: through Flask a canned answer costs about 150 µs of CPU (request context and routing,
template rendering, the journal entry), which holds one worker near 2,200 answers/s. A request
that only asks for a catalogue scenario (``Prefer: code=429``) needs none of that: this WSGI
middleware recognises it from the environ, resends a pre-rendered answer and journals exactly
what ``app._record`` would. It mirrors ``app._begin``: a valid trigger wins over a pending plan
step and over every rule of the surface (no view runs), so nothing else has to be consulted.

Everything else goes to the app untouched, which stays the one definition of behaviour: no
trigger or an invalid one, faults, stream errors, webhooks, ``HEAD`` and an unknown session
(the app looks it up again and answers 404).
``MockConfig(fast_path=False)`` is the reference ``tests/mock/test_fast_path.py`` compares with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request

from faultproof.contracts import Scenario, template

from . import answers, journal, sessions
from .config import MockConfig
from .surface import ResponseContext, Surface
from .triggers import TRIGGER_HEADER, TriggerError, find_trigger

log = logging.getLogger("faultproof.mock")
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: Bound of each cache; clients vary parameters and time-dependent answers change each
#: second, so a full cache is emptied rather than grown.
CACHE_SIZE = 4096
#: Scenario kinds answered by rendering alone (``_begin`` returns them before any view).
CANNED = frozenset({"error", "result"})


@dataclass(frozen=True, slots=True)
class _Ask:
    """A recognised trigger, with what its rendering depends on worked out once.

    Attributes:
        scenario: The scenario asked for.
        params: Parameter overrides as the request gave them.
        key: Hashable form of scenario and parameters.
        resolved: Parameters with defaults, what the template sees.
        clock_names: Computed template values the answer uses (``reset_epoch``): the answer
            is cached per distinct value of these, so a fake clock is honoured exactly.
    """

    scenario: Scenario
    params: dict[str, Any]
    key: tuple[Any, ...]
    resolved: dict[str, Any]
    clock_names: tuple[str, ...]


class FastPath:
    """WSGI middleware in front of the Flask app (inside ``SessionPrefix``)."""

    def __init__(self, app: WSGIApp, config: MockConfig, surfaces: Mapping[str, Surface]) -> None:
        self.app = app
        self.config = config
        self.surfaces = surfaces
        self._asks: dict[tuple[str, str | None, str | None, str], _Ask | None] = {}
        self._wires: dict[tuple[Any, ...], answers.Wire] = {}

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        prefer = environ.get("HTTP_PREFER")
        named = environ.get("HTTP_X_FAULTPROOF_SCENARIO")
        query = environ.get("QUERY_STRING", "")
        if not (prefer or named or query) or environ.get("REQUEST_METHOD") == "HEAD":
            return self.app(environ, start_response)
        request = Request(environ)
        provider = request.path.split("/", 2)[1]
        surface = self.surfaces.get(provider)
        ask = self._ask(provider, prefer, named, query, request) if surface else None
        if surface is None or ask is None:
            return self.app(environ, start_response)
        try:
            answer = self._answer(request, surface, ask)
        except Exception as error:  # what the app's _internal_error does outside Flask
            log.exception("faultproof internal error on %s %s", request.method, request.path)
            answer = answers.internal_error(error).get_wsgi_response(environ)
        if answer is None:  # unknown session: the app answers 404
            return self.app(environ, start_response)
        body, status_line, headers = answer
        start_response(status_line, headers)
        return body

    def _answer(
        self, request: Request, surface: Surface, ask: _Ask
    ) -> tuple[Iterable[bytes], str, list[tuple[str, str]]] | None:
        """Body, status and headers sent for ``ask``, journaled; None for an unknown session."""
        cfg, environ, provider = self.config, request.environ, surface.provider_id
        received_at = cfg.clock()
        session_id = sessions.requested_session(environ, request.headers)
        if cfg.store.session(session_id, received_at, cfg.session_ttl_s) is None:
            return None
        wire = self._wire(ask, cfg.clock())
        headers, by_name = wire.headers, wire.by_name
        if surface.every_response:
            context = ResponseContext(cfg, session_id, provider, request.headers.get)
            # As Headers.setdefault adds them: at the end, unless the answer has the name.
            extra = [
                (name, value)
                for name, value in surface.every_response(context).items()
                if name.lower() not in by_name
            ]
            headers = headers + extra
            by_name = {**by_name, **{name.lower(): value for name, value in extra}}
        responded_at = cfg.clock()
        entry = journal.entry(
            provider=provider,
            method=request.method,
            path=request.path[len(provider) + 1 :] or "/",
            query=dict(request.args.items()),
            headers=journal.request_headers(environ),
            body=request.get_data(cache=True),
            received_at=received_at,
            responded_at=responded_at,
            status=wire.status,
            scenario=ask.scenario.id,
            response_headers=_Lookup(by_name),
            response_body=wire.body,
            redact_path=surface.redact_path,
        )
        cfg.store.append(session_id, entry, cfg.journal_limit)
        return [wire.body], wire.status_line, list(headers)

    def _ask(
        self, provider: str, prefer: str | None, named: str | None, query: str, request: Request
    ) -> _Ask | None:
        """The trigger's answer if the app would give it from the catalogue alone, else None."""
        key = (provider, prefer, named, query)
        try:  # not ``in`` then ``[]``: another thread may empty the cache in between
            return self._asks[key]
        except KeyError:
            pass
        if len(self._asks) >= CACHE_SIZE:
            self._asks.clear()
        ask = self._asks[key] = _recognise(self.config, provider, prefer, named, request)
        return ask

    def _wire(self, ask: _Ask, now: float) -> answers.Wire:
        key = ask.key
        if ask.clock_names:
            values = template.context(ask.resolved, now)
            key += tuple(values[name] for name in ask.clock_names)
        found = self._wires.get(key)
        if found is None:
            if len(self._wires) >= CACHE_SIZE:
                self._wires.clear()
            found = answers.wire(answers.ScenarioAnswer(ask.scenario, ask.params), now)
            self._wires[key] = found
        return found


def _recognise(
    cfg: MockConfig, provider: str, prefer: str | None, named: str | None, request: Request
) -> _Ask | None:
    headers = {
        name: value for name, value in (("Prefer", prefer), (TRIGGER_HEADER, named)) if value
    }
    try:
        trigger = find_trigger(cfg.catalogue, provider, headers, request.args)
    except TriggerError:
        return None
    if trigger is None or trigger.scenario.kind not in CANNED:
        return None
    scenario = trigger.scenario
    used = template.placeholders(dict(scenario.headers)) | template.placeholders(scenario.body)
    return _Ask(
        scenario,
        trigger.params,
        (scenario.id, *sorted(trigger.params.items())),
        scenario.resolve_params(trigger.params),
        tuple(name for name in template.COMPUTED if name in used),
    )


class _Lookup:
    """Case-insensitive header lookup over lower-cased names (what ``named_wait`` reads),
    cheaper than building ``Headers`` per answer."""

    __slots__ = ("by_name",)

    def __init__(self, by_name: dict[str, str]) -> None:
        self.by_name = by_name

    def get(self, key: str) -> str | None:
        return self.by_name.get(key.lower())
