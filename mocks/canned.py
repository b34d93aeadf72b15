"""Canned answers: the one path by which a catalogue scenario answers a request (issue 13).

Why one path: a request that asks for a catalogue scenario (a trigger, or a plan step) is
answered from catalogue data alone, so no provider view, no Flask request context and no
routing is needed. Until issue 13 the Flask app rendered such answers and a WSGI fast path
re-rendered them beside it, kept equal by parity tests; now ``Canned.respond`` is the only
code that decides, renders and journals them, and Flask's ``_begin`` only reads its decision.

Sans-IO: ``respond`` takes the request as data (``Ask``) and touches nothing but the store, so
any front layer can call it: the WSGI front (``front.py``, in every server and in
``app.test_client()``) or an asyncio server on its event loop. It returns one of:

- ``Answer``: send these bytes; the journal entry is written (a canned error or result, or the
  mock's own refusal: an unknown session 404, a bad trigger 400, a webhook trigger 400, a plan
  step of another provider 409);
- ``Onward``: not canned; the app answers, with the session, the arrival time and the fault or
  stream error (a plan step already taken: each step is taken once) it must apply;
- ``None``: not a provider request (the control plane, an unknown first segment).

Precedence, as DESIGN.md fixes it: a trigger (valid or not) wins over a pending plan step, and
both win over every rule of the surface, since no view runs. A request neither answers may
still draw a failure at the configured rate (``injection.py``), taken like a plan step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from faultproof.contracts import Scenario, template
from faultproof.contracts.literal import LiteralScenario

from . import answers, journal, plans
from .config import MockConfig
from .control import mock_error
from .injection import Injector
from .sessions import SESSION_HEADER
from .store import DEFAULT_SESSION
from .surface import ResponseContext, Surface
from .triggers import QUERY_PREFIX, TRIGGER_HEADER, Trigger, TriggerError, find_trigger

#: Bound of each cache; clients vary parameters and time-dependent answers change each
#: second, so a full cache is emptied rather than grown.
CACHE_SIZE = 4096
#: Scenario kinds answered by rendering alone.
CANNED = frozenset({"error", "result"})
#: Kinds the app applies to its own answer (a fault on the view's answer, an error mid-stream).
ONWARD = frozenset({"fault", "stream_error"})


@dataclass(frozen=True, slots=True)
class Ask:
    """A request as the front layer read it: what deciding and journaling need, no I/O.

    Attributes:
        method: HTTP method.
        path: Path below any ``/s/<id>`` prefix (``/alana/api/v1/products/42``).
        session: The session its ``/s/<id>`` prefix names, or ``None``.
        headers: Request headers by werkzeug's names (``X-Api-Key``), as the journal keeps
            them; ``journal.request_headers`` builds them from a WSGI environ.
        query: Query parameters, the first value of each name.
        body: Reads the request body; called only when a canned answer is journaled, so a
            request that goes on to the app keeps its stream unread.
    """

    method: str
    path: str
    session: str | None
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: Callable[[], bytes]

    def header(self, name: str) -> str | None:
        """Case-insensitive lookup, as werkzeug's ``EnvironHeaders.get``."""
        return self.headers.get(_werkzeug_name(name))


@dataclass(frozen=True, slots=True)
class Answer:
    """A canned answer, ready for the wire, and what the journal got.

    Attributes:
        status: Status code.
        status_line: ``429 TOO MANY REQUESTS``, as werkzeug writes it.
        headers: Header list in sending order.
        body: Body bytes (empty for ``HEAD`` and where HTTP forbids a body).
        entry: The journal entry as stored (with its ``seq``), or ``None`` for an unknown
            session, which has no journal.
    """

    status: int
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes
    entry: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Onward:
    """A provider request the app answers, with what was decided on the way.

    Attributes:
        provider: The provider (first path segment).
        session_id: The session the request belongs to (known to exist).
        received_at: Arrival time, the clock's first reading for this request.
        trigger: The fault or stream error to apply, or ``None`` for normal behaviour.
    """

    provider: str
    session_id: str
    received_at: float
    trigger: Trigger | None


@dataclass(frozen=True, slots=True)
class _Render:
    """What rendering a scenario depends on, worked out once per scenario and parameters.

    Attributes:
        key: Hashable form of scenario and parameters.
        resolved: Parameters with defaults, what the template sees.
        clock_names: Computed template values the answer uses (``reset_epoch``,
            ``jsonrpc_id``): the answer is cached per distinct value of these, so a fake clock
            is honoured exactly and each request's JSON-RPC id is echoed.
        echoes: Whether the answer uses a value of the request (``{{jsonrpc_id}}``).
    """

    key: tuple[Any, ...]
    resolved: dict[str, Any]
    clock_names: tuple[str, ...]
    echoes: bool


_Found = Trigger | TriggerError | None


class Canned:
    """Decides, renders and journals the canned answers of one mock app."""

    def __init__(self, config: MockConfig, surfaces: Mapping[str, Surface]) -> None:
        self.config = config
        self.surfaces = surfaces
        self._triggers: dict[tuple[Any, ...], _Found] = {}
        self._renders: dict[tuple[Any, ...], _Render] = {}
        self._wires: dict[tuple[Any, ...], answers.Wire] = {}
        self._injector = Injector(config.inject_rate, config.inject_seed, config.catalogue)

    def respond(self, ask: Ask) -> Answer | Onward | None:
        """The decision for ``ask`` (see the module docstring), journaled when answered."""
        provider = ask.path.split("/", 2)[1]
        surface = self.surfaces.get(provider)
        if surface is None:
            return None
        cfg = self.config
        received_at = cfg.clock()
        session_id = ask.session or ask.header(SESSION_HEADER) or DEFAULT_SESSION
        info = cfg.store.session(session_id, received_at, cfg.session_ttl_s)
        if info is None:
            wire = answers.finalised(
                mock_error(
                    f"unknown or expired session {session_id!r}: "
                    "create one with POST /__faultproof/sessions "
                    f"(sessions idle for {cfg.session_ttl_s:.0f} s expire)",
                    404,
                    None,
                    "unknown-session",
                )
            )
            return Answer(wire.status, wire.status_line, wire.headers, _sent(ask, wire), None)
        found = self._trigger(provider, ask)
        below = ask.path[len(provider) + 1 :] or "/"
        if found is None and info.plan and plans.matches(info.plan, ask.method, provider, below):
            found = plans.step(info.plan, cfg.store.take_step(session_id), cfg.catalogue)
            if found is not None and found.scenario.provider not in (None, provider):
                return self._refuse(
                    ask,
                    surface,
                    session_id,
                    received_at,
                    mock_error(
                        f"the session's plan answers with {found.scenario.id}, but this request "
                        f"went to /{provider}/: plan scenarios of this provider, or match a "
                        "provider",
                        409,
                        None,
                        "plan-mismatch",
                    ),
                )
        if found is None:
            found = self._injector.draw(provider)
        if isinstance(found, TriggerError):
            return self._refuse(
                ask,
                surface,
                session_id,
                received_at,
                mock_error(str(found), 400, found.valid, "bad-trigger"),
            )
        if found is None or found.scenario.kind in ONWARD:
            return Onward(provider, session_id, received_at, found)
        scenario = found.scenario
        if scenario.kind not in CANNED:  # a webhook: delivered by the control plane only
            valid = [s.id for s in cfg.catalogue.scenarios(provider) if s.kind != "webhook"]
            error = mock_error(
                f"{scenario.id} is a webhook delivery: ask for it with "
                "POST /__faultproof/sessions/<id>/webhooks",
                400,
                valid,
                "bad-trigger",
            )
            return self._refuse(ask, surface, session_id, received_at, error)
        wire = self._wire(scenario, found.params, cfg.clock(), ask)
        return self._send(ask, surface, session_id, received_at, wire, scenario.id)

    def _refuse(
        self,
        ask: Ask,
        surface: Surface,
        session_id: str,
        received_at: float,
        response: Any,
    ) -> Answer:
        """The mock's own error for a provider request, journaled like any answer."""
        return self._send(ask, surface, session_id, received_at, answers.finalised(response), None)

    def _send(
        self,
        ask: Ask,
        surface: Surface,
        session_id: str,
        received_at: float,
        wire: answers.Wire,
        scenario: str | None,
    ) -> Answer:
        """``wire`` with the provider's every-response headers, journaled."""
        cfg, provider = self.config, surface.provider_id
        headers, by_name = wire.headers, wire.by_name
        if surface.every_response:
            context = ResponseContext(cfg, session_id, provider, ask.header)
            # As Headers.setdefault adds them: at the end, unless the answer has the name.
            extra = [
                (name, value)
                for name, value in surface.every_response(context).items()
                if name.lower() not in by_name
            ]
            headers = headers + extra
            by_name = {**by_name, **{name.lower(): value for name, value in extra}}
        entry = journal.entry(
            provider=provider,
            method=ask.method,
            path=ask.path[len(provider) + 1 :] or "/",
            query=ask.query,
            headers=ask.headers,
            body=ask.body(),
            received_at=received_at,
            responded_at=cfg.clock(),
            status=wire.status,
            scenario=scenario,
            response_headers=_Lookup(by_name),
            response_body=wire.body,
            redaction=cfg.catalogue.provider(provider).redaction,
        )
        seq = cfg.store.append(session_id, entry, cfg.journal_limit)
        return Answer(
            wire.status, wire.status_line, list(headers), _sent(ask, wire), {**entry, "seq": seq}
        )

    def _trigger(self, provider: str, ask: Ask) -> _Found:
        """The request's trigger, or the error a malformed one gets; cached by its spelling."""
        prefer, named = ask.header("Prefer"), ask.header(TRIGGER_HEADER)
        asked = tuple((k, v) for k, v in ask.query.items() if k.startswith(QUERY_PREFIX))
        if not (prefer or named or asked):
            return None
        key = (provider, prefer, named, asked)
        try:  # not ``in`` then ``[]``: another thread may empty the cache in between
            return self._triggers[key]
        except KeyError:
            pass
        headers = {
            name: value for name, value in (("Prefer", prefer), (TRIGGER_HEADER, named)) if value
        }
        found: _Found
        try:
            found = find_trigger(self.config.catalogue, provider, headers, dict(asked))
        except TriggerError as error:
            found = error
        if len(self._triggers) >= CACHE_SIZE:
            self._triggers.clear()
        self._triggers[key] = found
        return found

    def _wire(
        self, scenario: Scenario, params: dict[str, Any], now: float, ask: Ask
    ) -> answers.Wire:
        """The rendered answer, from the cache when scenario, parameters, clock and the request
        values it echoes (``{{jsonrpc_id}}``) agree."""
        render = None if isinstance(scenario, LiteralScenario) else self._render(scenario, params)
        if render is None:  # a plan's literal answer (ids repeat) or unhashable parameters
            return answers.wire(answers.ScenarioAnswer(scenario, params), now, ask.body())
        key = render.key
        body = ask.body() if render.echoes else None
        if render.clock_names or render.echoes:
            values = template.context(render.resolved, now, body)
            # (type, value): the id 1 and the id "1" are different answers.
            key += tuple((type(values[n]).__name__, values[n]) for n in render.clock_names)
        found = self._wires.get(key)
        if found is None:
            if len(self._wires) >= CACHE_SIZE:
                self._wires.clear()
            found = answers.wire(answers.ScenarioAnswer(scenario, params), now, body)
            self._wires[key] = found
        return found

    def _render(self, scenario: Scenario, params: dict[str, Any]) -> _Render | None:
        try:
            key = (scenario.id, *sorted(params.items()))
            found = self._renders.get(key)
        except TypeError:
            return None
        if found is None:
            used = template.placeholders(dict(scenario.headers)) | template.placeholders(
                scenario.body
            )
            found = _Render(
                key,
                scenario.resolve_params(params),
                tuple(name for name in template.COMPUTED if name in used),
                bool(used & set(template.REQUEST)),
            )
            if len(self._renders) >= CACHE_SIZE:
                self._renders.clear()
            self._renders[key] = found
        return found


@lru_cache(maxsize=256)
def _werkzeug_name(name: str) -> str:
    """The name werkzeug gives a header (``X-Api-Key`` for ``X-API-Key``): a few names, often."""
    return name.replace("_", "-").title()


def _sent(ask: Ask, wire: answers.Wire) -> bytes:
    """The body on the wire: none for ``HEAD`` (its headers stay those of the ``GET``)."""
    return b"" if ask.method == "HEAD" else wire.body


class _Lookup:
    """Case-insensitive header lookup over lower-cased names (what ``named_wait`` reads),
    cheaper than building ``Headers`` per answer."""

    __slots__ = ("by_name",)

    def __init__(self, by_name: dict[str, str]) -> None:
        self.by_name = by_name

    def get(self, key: str) -> str | None:
        return self.by_name.get(key.lower())
