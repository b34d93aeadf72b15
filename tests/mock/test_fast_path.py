"""The fast path answers exactly as Flask does: same status line, headers in order, body bytes
and journal entries (timestamps included: each app reads its own ticking fake clock), for every provider,
every canonical code and every on-demand scenario, through each trigger spelling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.datastructures import EnvironHeaders
from werkzeug.test import EnvironBuilder

from faultproof.contracts import PROVIDERS, default_catalogue
from faultproof.mocks import journal, plans
from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig
from faultproof.mocks.fast_path import FastPath
from faultproof.mocks.memory_store import MemoryStore

CATALOGUE = default_catalogue()
SESSION = "sess_fast"
ON_DEMAND = [
    s
    for p in CATALOGUE.providers.values()
    for s in p.scenarios.values()
    if s.kind in ("error", "result")
]
CODES = [
    (p.id, s.status)
    for p in CATALOGUE.providers.values()
    for s in p.scenarios.values()
    if s.canonical
]


@dataclass
class Ticking:
    """The test's clock plus a millisecond per reading: the two apps agree only if they read
    their clocks the same number of times, in the same places."""

    base: Any
    readings: int = 0

    def __call__(self) -> float:
        self.readings += 1
        return float(self.base()) + self.readings / 1000


class Pair:
    """The same requests into a fast-path app and a Flask-only app, side by side."""

    def __init__(self, clock: Any) -> None:
        self.apps = [
            create_app(MockConfig(clock=Ticking(clock), fast_path=flag)) for flag in (True, False)
        ]
        self.configs = [app.extensions["faultproof"] for app in self.apps]
        for cfg in self.configs:
            cfg.store.create_session(SESSION, "whsec_test", clock())
        fast = self.apps[0].wsgi_app.app
        assert isinstance(fast, FastPath)
        inner, self.fell_through = fast.app, 0

        def counted(environ: dict[str, Any], start_response: Any) -> Any:
            self.fell_through += 1
            return inner(environ, start_response)

        fast.app = counted

    def send(self, path: str, **kwargs: Any) -> tuple[str, list[tuple[str, str]], bytes]:
        """The request to both apps; asserts identical answers and journals; the answer."""
        answers = [
            _call(app, EnvironBuilder(path=path, **kwargs).get_environ()) for app in self.apps
        ]
        assert answers[0] == answers[1]
        assert self.journal(0) == self.journal(1)
        return answers[0]

    def journal(self, which: int, session: str = SESSION) -> list[dict[str, Any]]:
        return self.configs[which].store.journal(session).entries

    def fast(self, path: str, **kwargs: Any) -> tuple[str, list[tuple[str, str]], bytes]:
        """``send``, asserting the fast path answered it."""
        before = self.fell_through
        answer = self.send(path, **kwargs)
        assert self.fell_through == before, path
        return answer


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    started: list[Any] = []
    body = b"".join(app(environ, lambda status, headers, *_: started.extend([status, headers])))
    return started[0], list(started[1]), body


@pytest.fixture
def pair(clock) -> Pair:
    pair = Pair(clock)
    # A counted request first, so Alana's X-RateLimit-Remaining is not just the default.
    pair.send(f"/s/{SESSION}/alana/api/v1/products/42", headers={"X-API-Key": "alana_test_key"})
    return pair


def _operation(scenario: Any) -> tuple[str, dict[str, Any]]:
    op = CATALOGUE.provider(scenario.provider).operation_for(scenario)
    query = "&".join(f"{k}={v}" for k, v in op.query.items())
    path = f"/s/{SESSION}/{scenario.provider}{op.path}" + (f"?{query}" if query else "")
    return path, {"method": op.method, "headers": dict(op.headers), "json": op.json}


@pytest.mark.parametrize("scenario", ON_DEMAND, ids=lambda s: s.id)
def test_every_on_demand_scenario_by_name(pair, clock, scenario):
    path, request = _operation(scenario)
    request["headers"]["Prefer"] = f"scenario={scenario.id}"
    status, _, _ = pair.fast(path, **request)
    assert status.startswith(str(scenario.status))
    clock.advance(0.5)  # the cached answer of a time-dependent scenario moves with the clock
    pair.fast(path, **request)
    entries = pair.journal(0)
    assert [e["scenario"] for e in entries[-2:]] == [scenario.id] * 2


@pytest.mark.parametrize(("provider", "code"), CODES, ids=[f"{p}-{c}" for p, c in CODES])
def test_every_canonical_code(pair, provider, code):
    op = CATALOGUE.provider(provider).operations[CATALOGUE.provider(provider).default_operation]
    status, _, _ = pair.fast(
        f"/{provider}{op.path}", method=op.method, headers={**op.headers, "Prefer": f"code={code}"}
    )
    assert status.startswith(str(code))


@pytest.mark.parametrize(
    "request_",
    [
        {"headers": {"Prefer": "code=429, retry_after=7"}},
        {"headers": {"Prefer": 'respond-async, code="429"; retry_after=3'}},
        {"headers": {"X-Faultproof-Scenario": "alana.RATE_001_http_date; retry_after=2.5"}},
        {"query_string": "__code=503&page=2&page=3"},
        {"query_string": "__scenario=SERVER_002&q=%C3%A9"},
        {"headers": {"Prefer": "code=404", "Authorization": "Bearer alana_test_key"}},
        {"headers": {"Prefer": "code=500", "X-Faultproof-Session": SESSION}, "data": b"x" * 20_000},
    ],
)
def test_trigger_spellings_parameters_credentials_and_bodies(pair, clock, request_):
    clock.advance(0.25)
    pair.fast("/alana/api/v1/products/42", method="POST", **request_)


def test_secret_in_the_path_is_redacted_the_same(pair):
    pair.fast("/alloy/mcp/srv_1/tok_secret123/rpc", method="POST", headers={"Prefer": "code=429"})
    assert "tok_secret123" not in str(pair.journal(0, "default"))


def test_a_trigger_wins_over_a_pending_plan_step(pair):
    plan = {
        "match": {"method": "GET", "path": "/api/v1/products/*"},
        "steps": [{"scenario": "alana.SERVER_002"}],
    }
    for cfg in pair.configs:
        cfg.store.set_plan(SESSION, plans.validate(plan, CATALOGUE, cfg.providers))
    status, _, _ = pair.fast(
        f"/s/{SESSION}/alana/api/v1/products/42", headers={"Prefer": "code=429"}
    )
    assert status.startswith("429")
    status, _, _ = pair.send(f"/s/{SESSION}/alana/api/v1/products/42")
    assert status.startswith("503")  # the step was still there for the next request


@pytest.mark.parametrize(
    ("path", "request_"),
    [
        ("/alana/api/v1/products/42", {}),  # no trigger
        ("/alana/api/v1/products/42", {"headers": {"Prefer": "code=418"}}),  # invalid
        ("/alana/api/v1/products/42", {"headers": {"Prefer": "code=429, nope=1"}}),
        ("/alana/api/v1/products/42", {"headers": {"Prefer": "scenario=airbyte.rate_limited"}}),
        ("/alana/api/v1/products/42", {"headers": {"Prefer": "scenario=fault.malformed_json"}}),
        ("/alana/api/v1/products/42", {"method": "HEAD", "headers": {"Prefer": "code=429"}}),
        ("/s/nosuchsession/alana/api/v1/products/42", {"headers": {"Prefer": "code=429"}}),
        ("/__faultproof/health?__code=429", {}),
        ("/", {"headers": {"Prefer": "code=429"}}),
    ],
)
def test_everything_else_falls_through_to_flask(pair, path, request_):
    before = pair.fell_through
    pair.send(path, **request_)
    assert pair.fell_through == before + 1


def test_request_headers_match_werkzeug():
    environ = EnvironBuilder(
        path="/x",
        method="POST",
        data=b"{}",
        content_type="application/json",
        headers=[("X-A_b", "1"), ("x-trace", "t"), ("Content-Type", "shadowed")],
    ).get_environ()
    environ["HTTP_CONTENT_LENGTH"] = "99"
    assert journal.request_headers(environ) == dict(EnvironHeaders(environ))


def test_providers_are_all_covered():
    assert {s.provider for s in ON_DEMAND} == set(PROVIDERS)


class FailingStore(MemoryStore):
    def append(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        raise ConnectionError("store unreachable")


def test_a_failure_outside_flask_is_a_marked_500(clock):
    app = create_app(MockConfig(clock=clock, store=FailingStore()))
    status, headers, body = _call(
        app,
        EnvironBuilder(
            path="/alana/api/v1/products/42", headers={"Prefer": "code=429"}
        ).get_environ(),
    )
    assert status.startswith("500")
    assert ("X-Faultproof-Error", "internal") in headers
    assert b"ConnectionError: store unreachable" in body
