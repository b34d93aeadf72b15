"""A store that fails makes the mock answer its own marked 503, never a provider's answer.

Redis killed or stalled and SQLite made read-only or deleted, with real servers and files; each
path (canned, Flask view, after the view, control plane, health) with a store that fails on
the one operation under test. Recovery is checked through health, which always probes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
import redis

from faultproof.mocks import sqlite_files
from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig
from faultproof.mocks.memory_store import MemoryStore
from faultproof.mocks.redis_store import RedisStore
from faultproof.mocks.sqlite_store import SqliteStore
from faultproof.mocks.store_guard import StoreGuard, StoreUnavailable
from tests.mock.store_servers import OwnRedis

KEY = {"X-API-Key": "alana_test_key"}
PRODUCT = "/alana/api/v1/products/42"


def assert_store_503(response) -> None:
    """The mock's own answer: 503, marked, JSON that says so, no provider scenario."""
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["X-Faultproof-Error"] == "store"
    assert "X-Faultproof-Scenario" not in response.headers
    body = response.get_json()
    assert "state store is unavailable" in body["faultproof_error"]
    assert body["store"]["ok"] is False


def client_of(store, clock):
    app = create_app(MockConfig(providers=("alana",), store=store, clock=clock))
    app.testing = False  # answers as a served mock does, not re-raised
    return app, app.test_client()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.close()


class Failing(MemoryStore):
    """A memory store whose ``failing`` operation raises as an unreachable store does."""

    outages = (ConnectionError,)

    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing = failing

    def __getattribute__(self, name: str):
        if name != "failing" and name == self.failing:

            def refused(*args, **kwargs):
                raise ConnectionError(f"{name}: connection refused")

            return refused
        return super().__getattribute__(name)


@pytest.mark.parametrize(
    ("failing", "headers"),
    [
        ("session", KEY),  # the canned path's first look
        ("append", {**KEY, "Prefer": "code=429"}),  # a canned answer's journal write
        ("begin", KEY),  # the Flask path's arrival
        ("state", KEY),  # inside the view
        ("finish", KEY),  # after the view (Flask wraps it in a 500)
        ("peek", KEY),  # the provider's every-response headers
    ],
)
def test_every_path_answers_a_store_failure_with_the_mocks_503(failing, headers, clock):
    store = Failing("")
    app, client = client_of(store, clock)
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    store.failing = failing
    assert_store_503(client.get(f"/s/{sid}{PRODUCT}", headers=headers))
    guard = app.extensions["faultproof"].store
    assert guard.lost == 1  # the request's entry, counted once whichever write failed
    store.failing = ""
    health = client.get("/__faultproof/health")
    assert (health.status_code, health.get_json()["store"]) == (
        200,
        {"ok": True, "error": None, "lost": 1},
    )
    page = client.get(f"/__faultproof/sessions/{sid}/journal").get_json()
    assert (page["lost"], page["dropped"]) == (1, 1)


def test_a_stream_error_or_fault_never_dresses_a_store_failure(clock):
    store = Failing("")
    _, client = client_of(store, clock)
    store.failing = "begin"
    for trigger in ("scenario=fault.malformed_json", "scenario=alana.STREAM_001"):
        assert_store_503(client.get(PRODUCT, headers={**KEY, "Prefer": trigger}))


def test_the_control_plane_answers_the_mocks_503(clock):
    store = Failing("")
    _, client = client_of(store, clock)
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    store.failing = "journal"
    assert_store_503(client.get(f"/__faultproof/sessions/{sid}/journal"))
    store.failing = "create_session"
    assert_store_503(client.post("/__faultproof/sessions"))


def test_a_killed_redis_is_a_marked_503_until_it_is_back(own_redis, clock, caplog):
    _, client = client_of(RedisStore.from_url(own_redis.url), clock)
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    own_redis.kill()
    with caplog.at_level(logging.INFO, logger="faultproof.mock"):
        for _ in range(20):
            assert_store_503(client.get(f"/s/{sid}{PRODUCT}", headers=KEY))
        assert_store_503(client.get(f"/__faultproof/sessions/{sid}"))
        health = client.get("/__faultproof/health")
        assert health.status_code == 503
        assert health.headers["X-Faultproof-Error"] == "store"
        state = health.get_json()["store"]
        assert (state["ok"], state["lost"]) == (False, 20)
        assert "ConnectionError" in state["error"]
        own_redis.start()  # empty: the sessions it held are gone
        assert client.get("/__faultproof/health").status_code == 200
        gone = client.get(f"/s/{sid}{PRODUCT}", headers=KEY)
        assert (gone.status_code, gone.headers["X-Faultproof-Error"]) == (404, "unknown-session")
        assert client.get(PRODUCT, headers=KEY).status_code == 200
    logged = [r.getMessage() for r in caplog.records]
    assert sum("outage began" in m for m in logged) == 1
    assert sum("outage ended" in m for m in logged) == 1
    assert sum(r.exc_info is not None for r in caplog.records) == 1


def test_a_stalled_redis_fails_fast_and_its_lost_entries_are_counted(own_redis, clock):
    _, client = client_of(RedisStore.from_url(own_redis.url), clock)
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    assert client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code == 200
    own_redis.stop()
    for _ in range(5):
        assert_store_503(client.get(f"/s/{sid}{PRODUCT}", headers=KEY))
    own_redis.resume()
    assert client.get("/__faultproof/health").status_code == 200
    assert client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code == 200
    page = client.get(f"/__faultproof/sessions/{sid}/journal").get_json()
    assert [e["status"] for e in page["entries"]] == [200, 200]
    assert (page["lost"], page["dropped"]) == (5, 5)


@pytest.fixture
def sqlite_store(tmp_path, monkeypatch) -> SqliteStore:
    monkeypatch.setattr(sqlite_files, "CHECK_S", 0.0)  # every call looks at the file
    return SqliteStore(str(tmp_path / "state.db"))


def test_a_read_only_sqlite_file_is_a_marked_503_until_writable(sqlite_store, clock):
    _, client = client_of(sqlite_store, clock)
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    os.chmod(sqlite_store.path, 0o444)
    assert_store_503(client.get(f"/s/{sid}{PRODUCT}", headers=KEY))
    assert client.get("/__faultproof/health").status_code == 503
    os.chmod(sqlite_store.path, 0o644)
    assert client.get("/__faultproof/health").status_code == 200
    assert client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code == 200
    page = client.get(f"/__faultproof/sessions/{sid}/journal").get_json()
    assert (len(page["entries"]), page["lost"]) == (1, 1)


def test_a_deleted_sqlite_file_is_made_again(sqlite_store, clock):
    _, client = client_of(sqlite_store, clock)
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    assert client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code == 200
    os.remove(sqlite_store.path)
    gone = client.get(f"/s/{sid}{PRODUCT}", headers=KEY)
    assert (gone.status_code, gone.headers["X-Faultproof-Error"]) == (404, "unknown-session")
    assert os.path.exists(sqlite_store.path)
    again = client.post("/__faultproof/sessions").get_json()["id"]
    assert client.get(f"/s/{again}{PRODUCT}", headers=KEY).status_code == 200
    assert client.get("/__faultproof/health").status_code == 200


def test_a_state_lock_left_by_an_outage_is_taken_back_at_once(redis_url, monkeypatch):
    store = RedisStore.from_url(redis_url)
    store.redis.flushdb()
    store.create_session("l", "s", now=0.0)
    real = store._run

    def release_refused(name, keys, args):
        if name == "RELEASE":
            raise redis.ConnectionError("Connection refused")
        return real(name, keys, args)

    monkeypatch.setattr(store, "_run", release_refused)
    with pytest.raises(redis.ConnectionError), store.state("l", "alana", lambda: {"n": 0}):
        pass
    monkeypatch.setattr(store, "_run", real)
    assert len(list(store.redis.scan_iter(match="fp:s:*:lock:*"))) == 1  # held for 30 s

    def set_refused(*args, **kwargs):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(store.redis, "set", set_refused)
    with pytest.raises(redis.ConnectionError), store.state("l", "alana", lambda: {"n": 0}):
        pass  # a waiter the outage caught too: its token never held the lock
    monkeypatch.undo()
    monkeypatch.setattr("faultproof.mocks.redis_store.LOCK_WAIT_S", 0.0)  # no wait: one try
    with store.state("l", "alana", lambda: {"n": 0}) as data:
        assert data == {"n": 0}


def test_leaving_a_state_block_reaches_the_store_while_it_is_down():
    store = Failing("")
    guard = StoreGuard(store)
    guard.create_session("s", "x", now=0.0)
    with guard.state("s", "alana", lambda: {"n": 0}):
        store.failing = "session"
        with pytest.raises(StoreUnavailable):
            guard.session("s", now=0.0, ttl_s=60)  # the store goes down meanwhile
        assert guard.error is not None
    assert not store._sessions["s"].state_locks["alana"].locked()  # released all the same
