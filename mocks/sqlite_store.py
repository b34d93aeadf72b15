"""The shared store on one host: SQLite in WAL mode, for ``--workers N`` without a Redis.

Every race is settled by SQLite's single writer: a statement or ``BEGIN IMMEDIATE`` transaction
holds the database's write lock, and a writer that finds it taken waits (``busy_timeout``)
instead of failing. Plan steps and rate-limit hits are one ``UPDATE``/upsert ``... RETURNING``
each; a journal append is one ``INSERT ... SELECT`` (the next sequence number, written into
the entry by ``json_set``) whose trigger counts the session's kept and dropped entries; a range
``DELETE`` of the rows past the bound runs only every ``TRIM_EVERY`` appends: reads ask for
the last ``kept`` sequence numbers, so stale rows are never seen and ``dropped`` stays exact.
An in-flight entry (``begin``) is such an append; ``finish`` rewrites its row in place.
One statement per call matters twice: each is a round of SQLite's locking, and each gives up
the GIL, which a busy worker's other threads then hold for up to a switch interval. Provider
state is held for the request's block by a lock of its own key (``sqlite_locks.py``), not by
SQLite's write lock, and written back only when the block changed it.

Each thread opens its own connection, in the process that uses it (``sqlite_files.py``: a
connection never crosses a ``fork``, and a file deleted or replaced is opened again). The
threads of one process queue for writing on a lock of the process, so only writers of
different processes meet SQLite's busy handler, which sleeps a millisecond or more per retry.
Under ``faultproof serve --workers 2`` this beat both no lock (threads sleeping in the busy
handler) and an ``flock`` between processes too (``bench/results/store_ops.md``).

``synchronous=OFF``: the mock's state is worth nothing after a machine crash, and a crash of
the application cannot corrupt a WAL database at any ``synchronous`` level.
"""

from __future__ import annotations

import atexit
import copy
import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, nullcontext
from typing import Any

import orjson

from .sqlite_files import Connections
from .sqlite_locks import KeyLocks
from .sqlite_schema import (
    ADD_DEFAULT,
    APPEND,
    DEFAULT,
    FINISH,
    HIT,
    SAVE_STATE,
    SCHEMA_VERSION,
    STATE,
    TOUCH,
    setup,
)
from .store import (
    DEFAULT_SESSION,
    DEFAULT_TTL_S,
    SWEEP_LIMIT,
    JournalPage,
    SessionInfo,
    WindowCount,
    completed,
    in_flight,
    window_of,
)


class SqliteStore:
    """Sessions, journals, state and counters in one SQLite file shared by this host's workers."""

    outages: tuple[type[BaseException], ...] = (sqlite3.OperationalError, OSError)

    def __init__(self, path: str) -> None:
        self.path = path
        self._files = Connections(path, setup)
        self._writing = threading.RLock()
        self._holds = KeyLocks(f"{path}-locks")
        with closing(self._files.open()) as conn:
            version = conn.execute("PRAGMA user_version").fetchall()[0][0]
            if version != SCHEMA_VERSION and conn.execute("SELECT 1 FROM sqlite_schema").fetchall():
                raise ValueError(
                    f"{path} holds another database (user_version {version}, expected "
                    f"{SCHEMA_VERSION}): name a new file, or use sqlite:// for a fresh one"
                )
            setup(conn)
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _forget(ref()))

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        """``sqlite:///PATH`` (kept after exit), or ``sqlite://``: a fresh file, removed at exit.

        The fresh file goes to ``/dev/shm`` when there is one (memory, never written to disk).
        """
        path = url.removeprefix("sqlite://")
        if path:
            return cls(path)
        folder = tempfile.mkdtemp(
            prefix="faultproof-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
        )
        atexit.register(_remove_in, os.getpid(), folder)
        return cls(os.path.join(folder, "state.db"))

    def _conn(self) -> sqlite3.Connection:
        return self._files.get()

    def ping(self) -> None:
        """A write, as a request would make: fails while the file is read-only."""
        self._write("UPDATE sessions SET step = step WHERE id = ?", (DEFAULT_SESSION,))

    @contextmanager
    def _transaction(self, begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """One transaction, writing (the default) or reading one snapshot (``BEGIN``)."""
        conn = self._conn()
        with self._writing if begin == "BEGIN IMMEDIATE" else nullcontext():
            conn.execute(begin)
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _write(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        """One writing statement, its transaction implicit; all its rows (which ends it)."""
        with self._writing:
            return self._conn().execute(sql, params).fetchall()

    def create_session(
        self, session_id: str, secret: str, now: float, ttl_s: float = DEFAULT_TTL_S
    ) -> None:
        with self._transaction() as conn:
            self._drop(conn, session_id)
            conn.execute(
                "INSERT OR REPLACE INTO sessions (id, created_at, touched_at, secret) "
                "VALUES (?, ?, ?, ?)",
                (session_id, now, now, secret),
            )

    def session(self, session_id: str, now: float, ttl_s: float) -> SessionInfo | None:
        if session_id == DEFAULT_SESSION:  # never expires: its idle time is never read
            found = self._conn().execute(DEFAULT, (session_id,)).fetchall()
        else:
            found = self._write(TOUCH, (now, session_id, ttl_s, DEFAULT_SESSION))
        if not found:
            with self._transaction() as conn:
                idle = conn.execute(
                    "SELECT 1 FROM sessions WHERE id = ? AND ? - touched_at > ?",
                    (session_id, now, ttl_s),
                ).fetchall()
                if idle:
                    self._drop(conn, session_id)
            return None
        created_at, plan, secret = found[0]
        return SessionInfo(
            session_id, created_at, now, orjson.loads(plan) if plan else None, secret
        )

    def _drop(self, conn: sqlite3.Connection, session_id: str) -> bool:
        """Remove a session and all it owns; ``default`` comes back empty at once."""
        existed = conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0
        conn.execute("DELETE FROM journal WHERE session = ?", (session_id,))
        conn.execute("DELETE FROM states WHERE session = ?", (session_id,))
        conn.execute(
            "DELETE FROM counters WHERE key >= ? AND key < ?", (f"{session_id}:", f"{session_id};")
        )
        if session_id == DEFAULT_SESSION:
            conn.execute(ADD_DEFAULT, (DEFAULT_SESSION,))
        return existed and session_id != DEFAULT_SESSION

    def delete_session(self, session_id: str) -> bool:
        with self._transaction() as conn:
            return self._drop(conn, session_id)

    def session_ids(self) -> list[str]:
        rows = self._conn().execute(
            "SELECT id FROM sessions WHERE id != ? ORDER BY id", (DEFAULT_SESSION,)
        )
        return [row[0] for row in rows]

    def expire(self, now: float, ttl_s: float, limit: int = SWEEP_LIMIT) -> list[str]:
        with self._transaction() as conn:
            idle = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM sessions WHERE touched_at < ? AND id != ? "
                    "ORDER BY touched_at, id LIMIT ?",
                    (now - ttl_s, DEFAULT_SESSION, limit),
                ).fetchall()
            ]
            for session_id in idle:
                self._drop(conn, session_id)
        return idle

    def set_plan(self, session_id: str, plan: dict[str, Any] | None) -> None:
        changed = self._write(
            "UPDATE sessions SET plan = ?, step = 0 WHERE id = ? RETURNING id",
            (orjson.dumps(plan) if plan else None, session_id),
        )
        if not changed:
            raise KeyError(session_id)

    def take_step(self, session_id: str) -> int:
        found = self._write(
            "UPDATE sessions SET step = step + 1 WHERE id = ? RETURNING step", (session_id,)
        )
        if not found:
            raise KeyError(session_id)
        return int(found[0][0]) - 1

    def append(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        found = self._write(APPEND, (session_id, limit, orjson.dumps(entry).decode()))
        return int(found[0][0]) if found else 0  # 0: the request outlived its session, not kept

    def begin(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        return self.append(session_id, in_flight(entry), limit)

    def finish(self, session_id: str, seq: int, entry: dict[str, Any]) -> bool:
        text = orjson.dumps(completed(entry)).decode()
        return bool(self._write(FINISH, (session_id, seq, text, float(entry["received_at"]))))

    def journal(self, session_id: str) -> JournalPage:
        with self._transaction("BEGIN") as conn:
            found = conn.execute(
                "SELECT seq - kept, dropped FROM sessions WHERE id = ?", (session_id,)
            ).fetchall()
            if not found:
                return JournalPage([], 0)
            after, dropped = found[0]
            rows = conn.execute(
                "SELECT entry FROM journal WHERE session = ? AND seq > ? ORDER BY seq",
                (session_id, after),
            ).fetchall()
        return JournalPage([orjson.loads(row[0]) for row in rows], int(dropped))

    @contextmanager
    def state(
        self, session: str, provider: str, seed: Callable[[], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        with self._holds.hold(f"{session}\0{provider}"):
            found = self._conn().execute(STATE, (session, provider)).fetchall()
            if not found:
                yield copy.deepcopy(seed())  # the session ended while this request ran: not kept
                return
            stored = found[0][0]
            data = orjson.loads(stored) if stored else copy.deepcopy(seed())
            yield data
            changed = orjson.dumps(data)
            if changed != stored:
                self._write(SAVE_STATE, (session, provider, changed))

    def hit(self, key: str, window_s: float, now: float) -> WindowCount:
        window = window_of(window_s, now)
        found = self._write(HIT, (key, window))
        return WindowCount(int(found[0][0]), (window + 1) * window_s)

    def peek(self, key: str, window_s: float, now: float) -> WindowCount:
        window = window_of(window_s, now)
        found = (
            self._conn()
            .execute("SELECT count FROM counters WHERE key = ? AND win = ?", (key, window))
            .fetchall()
        )
        return WindowCount(int(found[0][0]) if found else 0, (window + 1) * window_s)


def _forget(store: SqliteStore | None) -> None:
    """In a forked child: open new connections; the parent's stay untouched (``sqlite_files``)."""
    if store is not None:
        store._files = store._files.in_child()
        store._writing = threading.RLock()  # another thread may have held it at the fork
        store._holds = store._holds.in_child()


def _remove_in(owner: int, folder: str) -> None:
    """At exit of the process that made ``folder`` (forked workers exit too, and leave it)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)
