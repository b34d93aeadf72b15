"""The schema and statements of ``SqliteStore`` (``sqlite_store.py`` says why each is one
statement), and ``setup``, which makes the schema in a new file."""

from __future__ import annotations

import sqlite3

from .store import DEFAULT_SESSION

TRIM_EVERY = 64
SCHEMA_VERSION = 1  # PRAGMA user_version of a file this module made
SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, created_at REAL NOT NULL, touched_at REAL NOT NULL,
    secret TEXT NOT NULL, plan BLOB, step INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL DEFAULT 0, kept INTEGER NOT NULL DEFAULT 0,
    dropped INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_use ON sessions (touched_at);
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


def setup(conn: sqlite3.Connection) -> None:
    """The schema, in a new file or one this module made."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(
        SCHEMA.replace("{TRIM_EVERY}", str(TRIM_EVERY)) + f"PRAGMA user_version = {SCHEMA_VERSION};"
    )
    conn.execute(ADD_DEFAULT, (DEFAULT_SESSION,))
