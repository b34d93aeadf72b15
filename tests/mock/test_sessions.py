"""Sessions, plans, journals and the control plane, in process and over real sockets."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest
from werkzeug.serving import make_server

from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig

KEY = {"X-API-Key": "alana_test_key"}
PRODUCT = "/alana/api/v1/products/42"


@pytest.fixture
def app_with(clock):
    def build(store=None, **kwargs):
        config = MockConfig(
            providers=("alana", "alloy", "ainative"),
            clock=clock,
            **({"store": store} if store is not None else {}),
            **kwargs,
        )
        app = create_app(config)
        app.testing = True
        return app

    return build


def new_session(client) -> dict:
    response = client.post("/__faultproof/sessions")
    assert response.status_code == 201
    return response.get_json()


def test_session_urls_and_header_reach_the_same_session(app_with):
    client = app_with().test_client()
    session = new_session(client)
    assert session["base_urls"]["alana"].endswith(f"/s/{session['id']}/alana")
    assert len(session["id"]) >= 22  # 128 random bits
    client.get(f"/s/{session['id']}{PRODUCT}", headers=KEY)
    client.get(PRODUCT, headers={**KEY, "X-Faultproof-Session": session["id"]})
    entries = client.get(f"/__faultproof/sessions/{session['id']}/journal").get_json()["entries"]
    assert [e["seq"] for e in entries] == [1, 2]
    assert all(e["path"] == "/api/v1/products/42" for e in entries)


def test_plan_then_normal_behaviour(app_with):
    client = app_with().test_client()
    sid = new_session(client)["id"]
    plan = {
        "match": {"method": "GET", "path": "/api/v1/products/*"},
        "steps": [
            {"scenario": "alana.RATE_001", "params": {"retry_after": 1}},
            {"scenario": "alana.SERVER_002"},
        ],
        "after": "ok",
    }
    assert client.put(f"/__faultproof/sessions/{sid}/plan", json=plan).status_code == 200
    statuses = [client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code for _ in range(4)]
    assert statuses == [429, 503, 200, 200]
    unmatched = client.get(f"/s/{sid}/alana/api/v1/search?q=x", headers=KEY)
    assert unmatched.status_code == 200


def test_repeat_last(app_with):
    client = app_with().test_client()
    sid = new_session(client)["id"]
    plan = {
        "steps": [{"scenario": "alana.SERVER_001"}, {"scenario": "alana.SERVER_002"}],
        "after": "repeat_last",
    }
    client.put(f"/__faultproof/sessions/{sid}/plan", json=plan)
    assert [client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code for _ in range(4)] == [
        500,
        503,
        503,
        503,
    ]


def test_plan_of_another_provider_is_refused_per_request(app_with):
    client = app_with().test_client()
    sid = new_session(client)["id"]
    client.put(
        f"/__faultproof/sessions/{sid}/plan",
        json={"steps": [{"scenario": "ainative.rate_limited"}]},
    )
    response = client.get(f"/s/{sid}{PRODUCT}", headers=KEY)
    assert response.status_code == 409
    assert response.headers["X-Faultproof-Error"] == "plan-mismatch"


def test_plan_steps_taken_once_each_under_concurrency(app_with, store):
    app = app_with(store)
    client = app.test_client()
    sid = new_session(client)["id"]
    steps = [
        {"scenario": "alana.RATE_001"},
        {"scenario": "alana.SERVER_001"},
        {"scenario": "alana.SERVER_002"},
    ] * 7
    client.put(f"/__faultproof/sessions/{sid}/plan", json={"steps": steps, "after": "ok"})
    seen: list[str | None] = []
    lock = threading.Lock()

    def worker() -> None:
        local = app.test_client()
        for _ in range(5):
            response = local.get(f"/s/{sid}{PRODUCT}", headers=KEY)
            with lock:
                seen.append(response.headers.get("X-Faultproof-Scenario"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(seen) == Counter(
        {"alana.RATE_001": 7, "alana.SERVER_001": 7, "alana.SERVER_002": 7, None: 19}
    )
    journal = client.get(f"/__faultproof/sessions/{sid}/journal").get_json()
    assert sorted(e["seq"] for e in journal["entries"]) == list(range(1, 41))


def test_journal_bound_and_drop_count(app_with):
    client = app_with(journal_limit=10).test_client()
    sid = new_session(client)["id"]
    for _ in range(25):
        client.get(f"/s/{sid}{PRODUCT}", headers=KEY)
    journal = client.get(f"/__faultproof/sessions/{sid}/journal").get_json()
    assert (len(journal["entries"]), journal["dropped"], journal["limit"]) == (10, 15, 10)
    assert [e["seq"] for e in journal["entries"]] == list(range(16, 26))


def test_journal_fields_and_redaction(app_with, clock):
    client = app_with().test_client()
    sid = new_session(client)["id"]
    client.get(
        f"/s/{sid}{PRODUCT}?x=1",
        headers={**KEY, "Prefer": "code=429, retry_after=3", "Cookie": "a=b"},
    )
    client.post(
        f"/s/{sid}/alloy/mcp/srv_demo/tok_demo_valid",
        json={"jsonrpc": "2.0", "method": "tools/list", "id": 1},
        headers={"Authorization": "Bearer alloy_test_key", "x-alloy-userid": "user_demo"},
    )
    first, second = client.get(f"/__faultproof/sessions/{sid}/journal").get_json()["entries"]
    assert {
        "seq",
        "received_at",
        "responded_at",
        "method",
        "path",
        "query",
        "headers",
        "body",
        "status",
        "scenario",
        "retry_after_s",
    } <= set(first)
    assert (first["status"], first["scenario"], first["retry_after_s"], first["query"]) == (
        429,
        "alana.RATE_001",
        3.0,
        {"x": "1"},
    )
    assert first["received_at"] == clock.now
    text = str([first, second])
    for secret in ("alana_test_key", "alloy_test_key", "tok_demo_valid", "a=b"):
        assert secret not in text
    assert second["headers"]["Authorization"].startswith("Bearer [redacted:")
    assert second["path"].startswith("/mcp/srv_demo/[redacted:")


def test_fault_without_response_is_journaled_with_null_status(live_session_server):
    url, control = live_session_server
    sid = httpx.post(control + "/sessions").json()["id"]
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{url}/s/{sid}{PRODUCT}", headers={**KEY, "Prefer": "scenario=fault.drop"})
    entry = httpx.get(f"{control}/sessions/{sid}/journal").json()["entries"][0]
    assert (entry["status"], entry["scenario"]) == (None, "fault.drop")


def test_sessions_expire_when_idle(app_with, clock):
    client = app_with(session_ttl_s=60).test_client()
    sid = new_session(client)["id"]
    clock.advance(30)
    assert client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code == 200
    clock.advance(61)
    response = client.get(f"/s/{sid}{PRODUCT}", headers=KEY)
    assert response.status_code == 404
    assert response.headers["X-Faultproof-Error"] == "unknown-session"
    assert client.get("/__faultproof/sessions").get_json() == {"count": 0}


def test_delete_ends_a_session(app_with):
    client = app_with().test_client()
    sid = new_session(client)["id"]
    assert client.delete(f"/__faultproof/sessions/{sid}").status_code == 204
    assert client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code == 404
    assert client.delete(f"/__faultproof/sessions/{sid}").status_code == 404


@pytest.fixture
def live_session_server():
    app = create_app(MockConfig(providers=("alana",)))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}", f"http://127.0.0.1:{server.port}/__faultproof"
    server.shutdown()
    thread.join(timeout=5)


def test_hundred_concurrent_sessions_without_cross_talk(live_session_server):
    _, control = live_session_server
    results: dict[str, list] = {}
    errors: list[BaseException] = []

    def one(index: int) -> None:
        try:
            with httpx.Client(timeout=30) as http:
                session = http.post(control + "/sessions").json()
                sid, base = session["id"], session["base_urls"]["alana"]
                http.put(
                    f"{control}/sessions/{sid}/plan",
                    json={
                        "steps": [
                            {"scenario": "alana.RATE_001", "params": {"retry_after": index % 7 + 1}}
                        ]
                    },
                )
                statuses = [
                    http.get(base + "/api/v1/products/42", headers=KEY).status_code
                    for _ in range(2)
                ]
                created = http.post(
                    base + "/api/v1/products",
                    headers=KEY,
                    json={"id": f"own-{index}", "name": "Mine", "price": 1.0},
                ).status_code
                others = http.get(
                    base + f"/api/v1/products/own-{(index + 1) % 100}", headers=KEY
                ).status_code
                journal = http.get(f"{control}/sessions/{sid}/journal").json()
                results[sid] = [index, statuses, created, others, journal]
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert len(results) == 100
    for index, statuses, created, others, journal in results.values():
        assert statuses == [429, 200]
        assert created == 201
        assert others == 404  # another session's product is not visible here
        entries = journal["entries"]
        assert [e["seq"] for e in entries] == [1, 2, 3, 4]
        assert entries[0]["retry_after_s"] == index % 7 + 1
        assert journal["dropped"] == 0


def test_journal_reads_the_wait_wherever_the_answer_names_it(app_with, clock):
    client = app_with().test_client()
    sid = new_session(client)["id"]
    client.get(
        f"/s/{sid}/ainative/v1/auth/me",
        headers={"Prefer": "scenario=rate_limited_body_only, retry_after=4"},
    )
    client.get(f"/s/{sid}{PRODUCT}", headers={**KEY, "Prefer": "scenario=SERVER_002"})
    body_only, plain = client.get(f"/__faultproof/sessions/{sid}/journal").get_json()["entries"]
    assert body_only["retry_after_s"] == 4.0
    assert plain["retry_after_s"] is None
