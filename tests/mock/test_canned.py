"""The one path of canned answers (``canned.py``): what it decides, renders, caches and journals.

Called sans-IO (an ``Ask`` in, an ``Answer``, ``Onward`` or ``None`` out, no Flask context), as
an asyncio server calls it, and through the app's WSGI front, where Flask must never see a
canned request."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import EnvironHeaders
from werkzeug.test import EnvironBuilder

from faultproof.contracts import PROVIDERS, default_catalogue
from faultproof.mocks import journal, plans
from faultproof.mocks.app import create_app, load_surface
from faultproof.mocks.canned import Answer, Ask, Canned, Onward
from faultproof.mocks.config import MockConfig
from faultproof.mocks.memory_store import MemoryStore

CATALOGUE = default_catalogue()
SESSION = "sess_canned"
PRODUCT = "/alana/api/v1/products/42"
#: Scenarios whose rendering reads the clock (``reset_epoch``, an HTTP date): cached per value.
TIMED = [
    s
    for p in CATALOGUE.providers.values()
    for s in p.scenarios.values()
    if s.kind in ("error", "result")
    and any(name in str((s.headers, s.body)) for name in ("_epoch", "http_date"))
]


@pytest.fixture
def canned(clock) -> Canned:
    config = MockConfig(clock=clock)
    config.store.create_session(SESSION, "whsec_test", clock())
    return Canned(config, {p: load_surface(p) for p in PROVIDERS})


def ask(path: str = PRODUCT, method: str = "GET", **headers: str) -> Ask:
    query: dict[str, str] = {}
    if "?" in path:
        path, _, text = path.partition("?")
        query = dict(pair.split("=") for pair in text.split("&"))
    named = {name.replace("_", "-").title(): value for name, value in headers.items()}
    return Ask(method, path, None, named, query, lambda: b"")


def entries(canned: Canned, session: str = "default") -> list[dict[str, Any]]:
    return canned.config.store.journal(session).entries


def test_a_trigger_is_answered_and_journaled_without_flask(canned, clock):
    answer = canned.respond(ask(Prefer="code=429, retry_after=7", X_Api_Key="alana_test_key"))
    assert isinstance(answer, Answer)
    assert answer.status_line == "429 TOO MANY REQUESTS"
    headers = dict(answer.headers)
    assert headers["Retry-After"] == "7"
    assert headers["X-Faultproof-Scenario"] == "alana.RATE_001"
    assert headers["Content-Length"] == str(len(answer.body))
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(headers)
    assert answer.body == CATALOGUE.scenario("alana.RATE_001").render({"retry_after": 7}).content()
    assert entries(canned) == [answer.entry]
    secret = answer.entry["headers"]["X-Api-Key"]
    assert secret.startswith("[redacted:")
    assert answer.entry == {
        "received_at": clock(),
        "responded_at": clock(),
        "provider": "alana",
        "method": "GET",
        "path": "/api/v1/products/42",
        "query": {},
        "headers": {"Prefer": "code=429, retry_after=7", "X-Api-Key": secret},
        "body": None,
        "status": 429,
        "scenario": "alana.RATE_001",
        "retry_after_s": 7.0,
        "seq": 1,
    }


def test_head_gets_the_get_headers_and_no_body(canned):
    get = canned.respond(ask(Prefer="code=503"))
    head = canned.respond(ask(method="HEAD", Prefer="code=503"))
    assert isinstance(get, Answer) and isinstance(head, Answer)
    assert head.body == b"" and get.body
    assert [h for h in head.headers if h[0] != "X-RateLimit-Reset"] == [
        h for h in get.headers if h[0] != "X-RateLimit-Reset"
    ]
    assert head.entry is not None and head.entry["method"] == "HEAD"
    assert head.entry["status"] == 503


@pytest.mark.parametrize(
    ("path", "header", "value"),
    [
        ("/aironclaw/api/v1/agents", "Cache-Control", "no-store"),
        ("/airbyte/v1/workspaces", "Content-Type", "application/problem+json"),
    ],
)
def test_provider_headers_on_every_canned_answer(canned, path, header, value):
    answer = canned.respond(ask(path, Prefer="code=429"))
    assert isinstance(answer, Answer)
    assert dict(answer.headers)[header] == value


@pytest.mark.parametrize("scenario", TIMED, ids=lambda s: s.id)
def test_a_cached_answer_moves_with_the_clock(canned, clock, scenario):
    op = CATALOGUE.provider(scenario.provider).operation_for(scenario)
    request = ask(f"/{scenario.provider}{op.path}", op.method, Prefer=f"scenario={scenario.id}")
    first = canned.respond(request)
    clock.advance(3600)
    second = canned.respond(request)
    assert isinstance(first, Answer) and isinstance(second, Answer)
    fresh = scenario.render(now=clock())
    assert second.body == fresh.content()
    assert {k: v for k, v in second.headers if k in fresh.headers} == dict(fresh.headers)
    assert (first.body, first.headers) != (second.body, second.headers)


def test_time_dependent_scenarios_exist():
    assert len(TIMED) >= 3


def test_refusals_are_marked_and_journaled(canned):
    bad = canned.respond(ask(Prefer="code=418"))
    webhook = next(s for s in CATALOGUE.scenarios() if s.kind == "webhook")
    hook = canned.respond(ask(f"/{webhook.provider}/x", Prefer=f"scenario={webhook.id}"))
    for answer in (bad, hook):
        assert isinstance(answer, Answer) and answer.status == 400
        assert dict(answer.headers)["X-Faultproof-Error"] == "bad-trigger"
        assert answer.entry is not None and answer.entry["scenario"] is None
    assert b"429" in bad.body  # the valid codes are listed
    assert len(entries(canned)) == 2


def test_an_unknown_session_is_a_marked_404_outside_any_journal(canned):
    answer = canned.respond(Ask("GET", PRODUCT, "nosuch", {"Prefer": "code=429"}, {}, bytes))
    assert isinstance(answer, Answer) and answer.status == 404
    assert dict(answer.headers)["X-Faultproof-Error"] == "unknown-session"
    assert answer.entry is None
    assert canned.config.store.session("nosuch", 0, 1) is None


def test_faults_stream_errors_and_plain_requests_go_on_to_the_app(canned):
    fault = canned.respond(ask(Prefer="scenario=fault.delay, delay_s=0"))
    stream = next(s for s in CATALOGUE.scenarios("alana") if s.kind == "stream_error")
    streamed = canned.respond(ask(Prefer=f"scenario={stream.id}"))
    plain = canned.respond(ask())
    assert isinstance(fault, Onward) and fault.trigger is not None
    assert (fault.trigger.scenario.id, fault.trigger.params) == ("fault.delay", {"delay_s": "0"})
    assert isinstance(streamed, Onward) and streamed.trigger is not None
    assert streamed.trigger.scenario.id == stream.id
    assert isinstance(plain, Onward) and plain.trigger is None
    assert (plain.provider, plain.session_id) == ("alana", "default")
    assert canned.respond(ask("/__faultproof/health", Prefer="code=429")) is None
    assert entries(canned) == []  # the app journals what it answers


def _plan(canned: Canned, steps: list[dict[str, Any]], after: str = "ok") -> None:
    plan = {"steps": steps, "after": after}
    canned.config.store.set_plan(SESSION, plans.validate(plan, CATALOGUE, PROVIDERS))


def in_session(**headers: str) -> Ask:
    return Ask("GET", PRODUCT, SESSION, headers, {}, bytes)


def test_plan_steps_are_taken_once_each_in_order(canned):
    _plan(
        canned,
        [
            {"scenario": "alana.SERVER_002"},
            {"scenario": "fault.malformed_json"},
            {"scenario": "ainative.rate_limited"},
        ],
    )
    first, second, third, fourth = (canned.respond(in_session()) for _ in range(4))
    assert isinstance(first, Answer) and first.status == 503
    assert isinstance(second, Onward) and second.trigger is not None
    assert second.trigger.scenario.id == "fault.malformed_json"  # taken here, not by the app
    assert isinstance(third, Answer) and third.status == 409
    assert dict(third.headers)["X-Faultproof-Error"] == "plan-mismatch"
    assert isinstance(fourth, Onward) and fourth.trigger is None
    assert [e["status"] for e in entries(canned, SESSION)] == [503, 409]


def test_a_trigger_wins_over_a_pending_plan_step(canned):
    _plan(canned, [{"scenario": "alana.SERVER_002"}])
    triggered = canned.respond(in_session(Prefer="code=429"))
    bad = canned.respond(in_session(Prefer="code=418"))
    planned = canned.respond(in_session())
    assert isinstance(triggered, Answer) and triggered.status == 429
    assert isinstance(bad, Answer) and bad.status == 400
    assert isinstance(planned, Answer) and planned.status == 503


def test_literal_steps_sharing_an_id_are_not_confused_by_the_cache(canned):
    _plan(
        canned,
        [{"response": {"status": 503, "body": {"n": n}}} for n in range(3)],
        after="repeat_last",
    )
    answers = [canned.respond(in_session()) for _ in range(4)]
    bodies = [a.body for a in answers if isinstance(a, Answer)]
    assert bodies == [b'{"n":0}', b'{"n":1}', b'{"n":2}', b'{"n":2}']


def test_the_app_never_sees_a_canned_request(clock):
    app = create_app(MockConfig(clock=clock))
    seen: list[str] = []
    app.before_request(lambda: seen.append("flask") and None)
    client = app.test_client()
    assert client.get(PRODUCT, headers={"Prefer": "code=429"}).status_code == 429
    assert client.head(PRODUCT, headers={"Prefer": "code=418"}).status_code == 400
    assert client.get("/s/nosuch" + PRODUCT).status_code == 404
    assert seen == []
    assert client.get(PRODUCT, headers={"Prefer": "scenario=fault.delay, delay_s=0"})
    assert seen == ["flask"]


def test_the_secret_in_a_path_is_redacted(canned):
    answer = canned.respond(ask("/alloy/mcp/srv_1/tok_secret123/rpc", "POST", Prefer="code=429"))
    assert isinstance(answer, Answer) and answer.status == 429
    assert "tok_secret123" not in str(entries(canned))


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


class FailingStore(MemoryStore):
    def append(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        raise ConnectionError("store unreachable")


def test_a_failure_outside_flask_is_a_marked_500(clock):
    app = create_app(MockConfig(clock=clock, store=FailingStore()))
    response = app.test_client().get(PRODUCT, headers={"Prefer": "code=429"})
    assert response.status_code == 500
    assert response.headers["X-Faultproof-Error"] == "internal"
    assert b"ConnectionError: store unreachable" in response.data


def test_under_test_a_failure_outside_flask_is_raised(clock):
    app = create_app(MockConfig(clock=clock, store=FailingStore()))
    app.testing = True
    with pytest.raises(ConnectionError, match="store unreachable"):
        app.test_client().get(PRODUCT, headers={"Prefer": "code=429"})
