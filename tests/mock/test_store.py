"""One suite, three stores: memory, SQLite and a real Redis behave the same."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from typing import Any

from faultproof.mocks.sqlite_schema import TRIM_EVERY
from faultproof.mocks.sqlite_store import SqliteStore
from faultproof.mocks.store import DEFAULT_SESSION


def run_threads(count: int, target) -> None:
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_session_lifecycle(store):
    store.create_session("abc", "whsec_1", now=100.0)
    info = store.session("abc", now=150.0, ttl_s=3600)
    assert (info.id, info.created_at, info.secret, info.plan) == ("abc", 100.0, "whsec_1", None)
    assert store.session_ids() == ["abc"]
    assert store.delete_session("abc") is True
    assert store.session("abc", now=160.0, ttl_s=3600) is None
    assert store.delete_session("abc") is False


def test_default_session_always_exists_and_never_expires(store):
    assert store.session(DEFAULT_SESSION, now=1e12, ttl_s=1).id == DEFAULT_SESSION
    assert DEFAULT_SESSION not in store.session_ids()


def test_idle_sessions_expire_and_touching_keeps_them(store):
    store.create_session("idle", "s", now=0.0)
    store.create_session("busy", "s", now=0.0)
    store.hit("idle:alana:k", 60, now=0.0)
    assert store.session("busy", now=50.0, ttl_s=60) is not None
    assert store.expire(now=100.0, ttl_s=60) == ["idle"]
    assert store.session("idle", now=100.0, ttl_s=60) is None
    assert store.peek("idle:alana:k", 60, now=0.0).count == 0
    assert store.session("busy", now=100.0, ttl_s=60) is not None
    assert store.session("busy", now=200.0, ttl_s=60) is None


def test_plan_steps_are_each_taken_once_under_concurrency(store):
    store.create_session("p", "s", now=0.0)
    store.set_plan(
        "p", {"steps": [{"scenario": "alana.RATE_001", "params": {}}], "after": "ok", "match": {}}
    )
    taken: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            index = store.take_step("p")
            with lock:
                taken.append(index)

    run_threads(8, worker)
    assert sorted(taken) == list(range(400))
    assert store.session("p", now=1.0, ttl_s=60).plan["steps"][0]["scenario"] == "alana.RATE_001"
    store.set_plan("p", None)
    assert store.take_step("p") == 0


def test_journal_is_exact_under_concurrency(store):
    store.create_session("j", "s", now=0.0)

    def worker() -> None:
        for i in range(100):
            store.append("j", {"status": 200, "i": i}, limit=10_000)

    run_threads(8, worker)
    page = store.journal("j")
    assert [e["seq"] for e in page.entries] == list(range(1, 801))
    assert page.dropped == 0


def test_journal_bound_counts_what_it_drops(store):
    store.create_session("b", "s", now=0.0)
    for i in range(25):
        store.append("b", {"i": i}, limit=10)
    page = store.journal("b")
    assert [e["i"] for e in page.entries] == list(range(15, 25))
    assert [e["seq"] for e in page.entries] == list(range(16, 26))
    assert page.dropped == 15


def test_a_lower_bound_drops_at_once_and_a_higher_one_drops_nothing(store):
    store.create_session("b", "s", now=0.0)
    for i in range(12):
        store.append("b", {"i": i}, limit=10)
    store.append("b", {"i": 12}, limit=5)
    assert ([e["i"] for e in store.journal("b").entries], store.journal("b").dropped) == (
        list(range(8, 13)),
        8,
    )
    store.append("b", {"i": 13}, limit=20)
    assert ([e["i"] for e in store.journal("b").entries], store.journal("b").dropped) == (
        list(range(8, 14)),
        8,
    )


def _arrival(i: int) -> dict[str, Any]:
    return {"received_at": 100.0 + i / 7, "responded_at": None, "status": None, "i": i}


def _done(i: int, status: int | None = 200) -> dict[str, Any]:
    return {**_arrival(i), "responded_at": 200.0 + i, "status": status}


def test_an_entry_begun_is_in_flight_then_completed_in_place(store):
    store.create_session("f", "s", now=0.0)
    assert store.append("f", _done(0), limit=10) == 1
    seq = store.begin("f", _arrival(1), limit=10)
    assert store.append("f", _done(2), limit=10) == 3
    assert seq == 2
    flying = store.journal("f").entries
    assert [e["seq"] for e in flying] == [1, 2, 3]
    assert (flying[1]["in_flight"], flying[1]["status"], flying[1]["responded_at"]) == (
        True,
        None,
        None,
    )
    assert "in_flight" not in flying[0] and "in_flight" not in flying[2]
    assert store.finish("f", seq, _done(1, status=None)) is True
    done = store.journal("f").entries
    assert [e["seq"] for e in done] == [1, 2, 3]
    assert done[1] == {**_done(1, status=None), "seq": 2}
    assert store.finish("f", seq, _done(1)) is False  # completed once, never again


def test_finish_changes_nothing_for_an_entry_it_did_not_begin(store):
    store.create_session("f", "s", now=0.0)
    seq = store.begin("f", _arrival(0), limit=10)
    store.append("f", _done(1), limit=10)
    assert store.finish("f", seq + 1, _done(1, status=500)) is False  # not in flight
    assert store.finish("f", seq + 5, _done(0)) is False  # never given
    assert store.finish("f", seq, _done(3)) is False  # received at another time
    assert [e.get("in_flight", False) for e in store.journal("f").entries] == [True, False]
    assert store.journal("f").entries[1]["status"] == 200


def test_a_session_deleted_while_a_request_is_in_flight_stays_gone(store):
    store.create_session("gone", "s", now=0.0)
    seq = store.begin("gone", _arrival(0), limit=10)
    store.delete_session("gone")
    assert store.finish("gone", seq, _done(0)) is False
    assert store.session("gone", now=1.0, ttl_s=60) is None
    assert store.begin("gone", _arrival(1), limit=10) == 0
    if hasattr(store, "redis"):
        assert not list(store.redis.scan_iter(match="fp:s:*"))
    if isinstance(store, SqliteStore):
        assert _rows(store, "gone") == {"sessions": 0, "journal": 0, "states": 0, "counters": 0}


def test_in_flight_entries_count_in_the_ring_and_dropped_stays_exact(store):
    store.create_session("r", "s", now=0.0)
    first = store.begin("r", _arrival(0), limit=3)
    kept = store.begin("r", _arrival(1), limit=3)
    for i in range(2, 4):
        store.append("r", _done(i), limit=3)
    page = store.journal("r")
    assert ([e["seq"] for e in page.entries], page.dropped) == ([2, 3, 4], 1)
    assert store.finish("r", first, _done(0)) is False  # dropped by the bound, counted once
    assert store.finish("r", kept, _done(1)) is True
    page = store.journal("r")
    assert ([e["i"] for e in page.entries], page.dropped) == ([1, 2, 3], 1)
    assert [e["status"] for e in page.entries] == [200, 200, 200]


def test_in_flight_entries_are_exact_under_concurrency(store):
    store.create_session("c", "s", now=0.0)

    def worker() -> None:
        for i in range(50):
            seq = store.begin("c", _arrival(i), limit=10_000)
            store.append("c", _done(i), limit=10_000)
            assert store.finish("c", seq, _done(i, status=None))

    run_threads(6, worker)
    page = store.journal("c")
    assert [e["seq"] for e in page.entries] == list(range(1, 601))
    assert not any(e.get("in_flight") for e in page.entries)
    assert sum(e["status"] is None for e in page.entries) == 300


def test_state_is_held_exclusively(store):
    store.create_session("st", "s", now=0.0)

    def worker() -> None:
        for _ in range(25):
            with store.state("st", "alana", lambda: {"n": 0}) as data:
                data["n"] += 1

    run_threads(6, worker)
    with store.state("st", "alana", lambda: {"n": 0}) as data:
        assert data["n"] == 150


def test_state_is_per_session_and_provider(store):
    store.create_session("x", "s", now=0.0)
    store.create_session("y", "s", now=0.0)
    with store.state("x", "alana", lambda: {"v": 1}) as data:
        data["v"] = 2
    with store.state("y", "alana", lambda: {"v": 1}) as data:
        assert data["v"] == 1
    with store.state("x", "ainative", lambda: {"v": 1}) as data:
        assert data["v"] == 1
    store.delete_session("x")
    store.create_session("x", "s", now=0.0)
    with store.state("x", "alana", lambda: {"v": 1}) as data:
        assert data["v"] == 1


def test_rate_windows(store):
    assert [store.hit("k", 60, now=120.0 + i).count for i in range(3)] == [1, 2, 3]
    assert store.peek("k", 60, now=130.0).count == 3
    assert store.hit("k", 60, now=180.0).count == 1
    assert store.hit("k", 60, now=181.0).reset_at == 240.0


def test_a_request_that_outlives_its_session_leaves_nothing(store):
    store.create_session("gone", "s", now=0.0)
    store.delete_session("gone")
    assert store.append("gone", {"status": None}, limit=10) == 0
    with store.state("gone", "alana", lambda: {"n": 0}) as data:
        data["n"] = 1
    assert store.session("gone", now=1.0, ttl_s=60) is None
    if hasattr(store, "redis"):
        assert not list(store.redis.scan_iter(match="fp:s:*"))
    if isinstance(store, SqliteStore):
        assert _rows(store, "gone") == {"sessions": 0, "journal": 0, "states": 0, "counters": 0}


def _rows(store: SqliteStore, session: str) -> dict[str, int]:
    with sqlite3.connect(store.path) as conn:
        return {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE {column} LIKE ?", (f"{session}%",)
            ).fetchone()[0]
            for table, column in (
                ("sessions", "id"),
                ("journal", "session"),
                ("states", "session"),
                ("counters", "key"),
            )
        }


def test_sqlite_keeps_at_most_one_trim_interval_past_the_bound(tmp_path):
    store = SqliteStore(str(tmp_path / "state.db"))
    store.create_session("t", "s", now=0.0)
    counts = []
    for i in range(5 * TRIM_EVERY):
        store.append("t", {"i": i}, limit=10)
        counts.append(_rows(store, "t")["journal"])
    assert max(counts) == 10 + TRIM_EVERY - 1
    assert counts[-1] == 10
    page = store.journal("t")
    assert ([e["i"] for e in page.entries], page.dropped) == (list(range(310, 320)), 310)


def _append_and_count(store: SqliteStore, start: Any) -> None:
    start.wait(timeout=30)
    for i in range(200):
        store.append("f", {"i": i}, limit=50)
        with store.state("f", "alana", lambda: {"n": 0}) as data:
            data["n"] += 1


def test_sqlite_journal_and_state_are_shared_by_forked_processes(tmp_path):
    store = SqliteStore(str(tmp_path / "state.db"))
    store.create_session("f", "s", now=0.0)
    store.append("f", {"i": -1}, limit=50)  # the parent holds a connection
    with store.state("f", "alana", lambda: {"n": 0}):
        pass  # and has opened its lock file
    context = multiprocessing.get_context("fork")
    start = context.Barrier(2)
    child = context.Process(target=_append_and_count, args=(store, start))
    child.start()
    _append_and_count(store, start)
    child.join(timeout=60)
    assert child.exitcode == 0
    page = store.journal("f")
    assert [e["seq"] for e in page.entries] == list(range(352, 402))
    assert page.dropped == 351
    with store.state("f", "alana", lambda: {"n": 0}) as data:
        assert data["n"] == 400
