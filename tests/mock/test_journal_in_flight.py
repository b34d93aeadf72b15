"""A request is in the journal from the moment it arrives: in flight (no answer yet), then
completed in place under the same seq. The runner reads the journal as soon as its client exits,
so a request whose answer is still being made (a hang the client left) must already be there.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig
from faultproof.mocks.memory_store import MemoryStore

PATH = "/alana/api/v1/products/42"
KEY = {"X-API-Key": "alana_test_key"}


def _until(read: Callable[[], Any], done: Callable[[Any], bool], limit_s: float = 30) -> Any:
    """Poll ``read`` until ``done`` holds (bounded); the last value read."""
    deadline = time.monotonic() + limit_s
    while not done(value := read()):
        assert time.monotonic() < deadline, f"still {value!r} after {limit_s:.0f} s"
        time.sleep(0.02)
    return value


def _hold(port: int, session: str, prefer: str) -> socket.socket:
    """Send one request and keep the connection open (the client waits for its answer)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        (
            f"GET /s/{session}{PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: alana_test_key\r\n"
            f"Prefer: {prefer}\r\nConnection: close\r\n\r\n"
        ).encode()
    )
    return sock


@pytest.fixture
def control(live_server) -> Iterator[httpx.Client]:
    """The control plane of the live server, closed after the test."""
    with httpx.Client(base_url=live_server.url + "/__faultproof", timeout=10) as client:
        yield client


def test_a_held_hang_is_in_flight_then_completed_with_the_same_seq(live_server, control):
    session = control.post("/sessions").json()["id"]
    assert httpx.get(f"{live_server.url}/s/{session}{PATH}", headers=KEY).status_code == 200

    def journal() -> dict[str, Any]:
        return control.get(f"/sessions/{session}/journal").json()

    sock = _hold(live_server.port, session, "scenario=fault.hang, max_s=20")
    try:
        held = _until(journal, lambda j: j["in_flight"] == 1)
        first, hang = held["entries"]
        assert first["status"] == 200 and "in_flight" not in first
        assert (hang["in_flight"], hang["status"], hang["responded_at"]) == (True, None, None)
        assert (hang["seq"], hang["scenario"], hang["path"]) == (2, "fault.hang", PATH[6:])
    finally:
        sock.close()
    ended = _until(journal, lambda j: j["in_flight"] == 0)
    done = ended["entries"][1]
    assert [e["seq"] for e in ended["entries"]] == [1, 2]
    assert (done["status"], done["scenario"], "in_flight" in done) == (None, "fault.hang", False)
    assert done["responded_at"] >= done["received_at"] == hang["received_at"]


def test_a_delay_is_in_flight_while_the_client_waits(live_server, control):
    session = control.post("/sessions").json()["id"]

    def journal() -> dict[str, Any]:
        return control.get(f"/sessions/{session}/journal").json()

    sock = _hold(live_server.port, session, "scenario=fault.delay, delay_s=20")
    try:
        held = _until(journal, lambda j: j["in_flight"] == 1)
        assert [(e["seq"], e["status"], e["in_flight"]) for e in held["entries"]] == [
            (1, None, True)
        ]
    finally:
        sock.close()
    ended = _until(journal, lambda j: j["in_flight"] == 0)
    assert [(e["seq"], e["status"], e["scenario"]) for e in ended["entries"]] == [
        (1, 200, "fault.delay")
    ]


def test_answered_requests_are_complete_and_the_count_is_zero(make_app):
    app = make_app("alana")
    client = app.test_client()
    assert client.get(PATH, headers=KEY).status_code == 200
    assert client.get(PATH, headers={**KEY, "Prefer": "code=429"}).status_code == 429
    assert client.get(PATH, headers={**KEY, "Prefer": "scenario=fault.malformed_json"}).status_code
    page = client.get("/__faultproof/sessions/default/journal").get_json()
    assert page["in_flight"] == 0
    assert [(e["seq"], e["status"], "in_flight" in e) for e in page["entries"]] == [
        (1, 200, False),
        (2, 429, False),
        (3, 200, False),
    ]


def test_the_journal_lists_in_flight_entries_among_the_others_in_seq_order(make_app):
    app = make_app("alana")
    client = app.test_client()
    store = app.extensions["faultproof"].store
    client.get(PATH, headers=KEY)
    seq = store.begin("default", {"received_at": 1.0, "path": "/slow"}, limit=100)
    client.get(PATH, headers=KEY)
    page = client.get("/__faultproof/sessions/default/journal").get_json()
    assert page["in_flight"] == 1
    assert [(e["seq"], e.get("in_flight", False)) for e in page["entries"]] == [
        (1, False),
        (2, True),
        (3, False),
    ]
    assert (page["entries"][1]["responded_at"], page["entries"][1]["status"]) == (None, None)
    assert store.finish("default", seq, {"received_at": 1.0, "responded_at": 2.0, "status": 204})
    assert client.get("/__faultproof/sessions/default/journal").get_json()["in_flight"] == 0


def test_a_session_deleted_during_a_request_is_not_brought_back(make_app, monkeypatch):
    app = make_app("alana")
    client = app.test_client()
    session = client.post("/__faultproof/sessions").get_json()["id"]
    store = app.extensions["faultproof"].store
    deleting = store.delete_session
    original = store.finish

    def finish_after_delete(session_id: str, seq: int, entry: dict[str, Any]) -> bool:
        deleting(session_id)
        return original(session_id, seq, entry)

    monkeypatch.setattr(store, "finish", finish_after_delete)
    assert client.get(f"/s/{session}{PATH}", headers=KEY).status_code == 200
    assert client.get(f"/__faultproof/sessions/{session}/journal").status_code == 404
    assert session not in store.session_ids()


def test_begin_is_only_for_requests_that_may_take_time():
    """Canned answers stay one write: they are complete before their first byte leaves; a
    view or a fault is begun first."""
    calls: list[str] = []
    store = MemoryStore()
    for name in ("begin", "finish", "append"):
        method = getattr(store, name)

        def spy(*args: Any, _name: str = name, _method: Any = method, **kwargs: Any) -> Any:
            calls.append(_name)
            return _method(*args, **kwargs)

        setattr(store, name, spy)
    app = create_app(MockConfig(providers=("alana",), store=store))
    client = app.test_client()
    calls.clear()
    client.get(PATH, headers={**KEY, "Prefer": "code=429"})
    assert calls == ["append"]
    calls.clear()
    client.get(PATH, headers=KEY)
    client.get(PATH, headers={**KEY, "Prefer": "scenario=fault.delay, delay_s=0"})
    assert calls == ["begin", "finish", "begin", "finish"]
