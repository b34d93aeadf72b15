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

Each thread opens its own connection, in the process that uses it: a connection never crosses
a ``fork`` (a server that forks its workers after the store is built would otherwise share
one; the store itself only holds a path). The threads of one process queue for writing on a
lock of the process, so only writers of different processes meet SQLite's busy handler, which
sleeps a millisecond or more per retry. Under ``faultproof serve --workers 2`` this beat both
no lock (threads sleeping in the busy handler) and an ``flock`` between processes too
(``bench/results/store_ops.md``).

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

from .sqlite_locks import KeyLocks
from .store import (
    DEFAULT_SESSION,
    JournalPage,
    SessionInfo,
    WindowCount,
    completed,
    in_flight,
    window_of,
)

TRIM_EVERY = 64
BUSY_TIMEOUT_S = 30.0
SCHEMA_VERSION = 1  # PRAGMA user_version of a file this module made
SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, created_at REAL NOT NULL, touched_at REAL NOT NULL,
    secret TEXT NOT NULL, plan BLOB, step INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL DEFAULT 0, kept INTEGER NOT NULL DEFAULT 0,
    dropped INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal (
    session TEXT NOT NULL, seq INTEGER NOT NULL, bound INTEGER NOT NULL, entry TEXT NOT NULL,
    PRIMARY KEY (session, seq)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS journal_bound AFTER INSERT ON journal BEGIN
    UPDATE sessions SET seq = NEW.seq, dropped = dropped + max(0, kept + 1 - NEW.bound),
        kept = min(kept + 1, NEW.bound) WHERE id = NEW.session;
    DELETE FROM journal WHERE NEW.seq % {TRIM_EVERY} = 0 AND session = NEW.session
        AND seq <= NEW.seq - (SELECT kept FROM sessions WHERE id = NEW.session);
END;
CREATE TABLE IF NOT EXISTS states (
    session TEXT NOT NULL, provider TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (session, provider)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, win INTEGER NOT NULL, count INTEGER NOT NULL
) WITHOUT ROWID;
"""
ADD_DEFAULT = (
    "INSERT OR IGNORE INTO sessions (id, created_at, touched_at, secret) VALUES (?, 0, 0, '')"
)
TOUCH = (
    "UPDATE sessions SET touched_at = ?1 WHERE id = ?2 AND (id = ?4 OR ?1 - touched_at <= ?3) "
    "RETURNING created_at, plan, secret"
)
DEFAULT = "SELECT created_at, plan, secret FROM sessions WHERE id = ?"
APPEND = (
    "INSERT INTO journal (session, seq, bound, entry) "
    "SELECT id, seq + 1, ?2, json_set(?3, '$.seq', seq + 1) FROM sessions WHERE id = ?1 "
    "RETURNING seq"
)
#: Completes an in-flight entry in place: still kept (rows past the bound wait for a trim, so
#: ``kept`` decides), still in flight, and begun at the same time (received_at, to a µs).
FINISH = (
    "UPDATE journal SET entry = json_set(?3, '$.seq', ?2) WHERE session = ?1 AND seq = ?2 "
    "AND seq > (SELECT seq - kept FROM sessions WHERE id = ?1) "
    "AND json_extract(entry, '$.in_flight') = 1 "
    "AND abs(json_extract(entry, '$.received_at') - ?4) <= 1e-6 RETURNING seq"
)
STATE = (
    "SELECT (SELECT data FROM states WHERE session = ?1 AND provider = ?2) "
    "FROM sessions WHERE id = ?1"
)
SAVE_STATE = (
    "INSERT OR REPLACE INTO states (session, provider, data) "
    "SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?1)"
)
HIT = (
    "INSERT INTO counters (key, win, count) VALUES (?1, ?2, 1) ON CONFLICT (key) DO UPDATE "
    "SET count = CASE WHEN win = ?2 THEN count + 1 ELSE 1 END, win = ?2 RETURNING count"
)


# Connections a parent process left open when it forked: never used or closed in the child
# (closing would release the parent's POSIX locks as seen from this process), only kept alive.
_INHERITED: list[Any] = []


class SqliteStore:
    """Sessions, journals, state and counters in one SQLite file shared by this host's workers."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._writing = threading.RLock()
        self._holds = KeyLocks(f"{path}-locks")
        with closing(self._open()) as conn:
            version = conn.execute("PRAGMA user_version").fetchall()[0][0]
            if version != SCHEMA_VERSION and conn.execute("SELECT 1 FROM sqlite_schema").fetchall():
                raise ValueError(
                    f"{path} holds another database (user_version {version}, expected "
                    f"{SCHEMA_VERSION}): name a new file, or use sqlite:// for a fresh one"
                )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(
                SCHEMA.replace("{TRIM_EVERY}", str(TRIM_EVERY))
                + f"PRAGMA user_version = {SCHEMA_VERSION};"
            )
            conn.execute(ADD_DEFAULT, (DEFAULT_SESSION,))
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

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA synchronous=OFF")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn

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

    def create_session(self, session_id: str, secret: str, now: float) -> None:
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

    def expire(self, now: float, ttl_s: float) -> list[str]:
        with self._transaction() as conn:
            idle = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM sessions WHERE id != ? AND ? - touched_at > ? "
                    "ORDER BY touched_at, id",
                    (DEFAULT_SESSION, now, ttl_s),
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
    """In a forked child: open new connections; the parent's stay untouched (see ``_INHERITED``)."""
    if store is not None:
        _INHERITED.append(store._local)
        store._local = threading.local()
        store._writing = threading.RLock()  # another thread may have held it at the fork
        store._holds = store._holds.in_child()


def _remove_in(owner: int, folder: str) -> None:
    """At exit of the process that made ``folder`` (forked workers exit too, and leave it)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)
