"""The connections of one SQLite file: one per thread, in the process that uses it, and new
ones when the file was deleted or replaced.

Why: a connection keeps writing to a file that was deleted (its inode lives on, unseen), and a
thread that opens the path afterwards finds an empty file with no tables, so a deleted file
never recovered. Each thread looks at the path every ``CHECK_S``: a file gone is made again
(empty, with the schema: the sessions it held are gone, and say so with a 404), a file replaced
is reopened, and a file without write permission is an outage (``sqlite3.OperationalError``,
the mock's 503) until it has one again, whoever the process runs as (root may write anyway).

A connection never crosses a ``fork``: ``in_child`` gives a forked child connections of its own
and keeps the parent's alive, unused (closing them would release the parent's POSIX locks as
seen from the child).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("faultproof.mock")
BUSY_TIMEOUT_S = 30.0
#: Seconds between two looks of a thread at its file.
CHECK_S = 0.05
# Connections a parent process left open when it forked (see the module docstring).
_INHERITED: list[Any] = []


class Connections:
    """Per-thread connections to ``path``; ``setup`` makes the schema in a new file."""

    def __init__(self, path: str, setup: Callable[[sqlite3.Connection], None]) -> None:
        self.path = path
        self.setup = setup
        self._local = threading.local()
        self._lock = threading.Lock()

    def open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA synchronous=OFF")
        return conn

    def get(self) -> sqlite3.Connection:
        """This thread's connection, to the file now at ``path``."""
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None and time.monotonic() < local.next_look:
            return conn
        found = self._look()
        if conn is None or found.st_ino != local.inode:
            if conn is not None:
                conn.close()
            conn = local.conn = self.open()
            local.inode = found.st_ino
        local.next_look = time.monotonic() + CHECK_S
        return conn

    def _look(self) -> os.stat_result:
        """The file at ``path``, made again when it is gone; an outage when it is read-only."""
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            found = self._remake()
        if not found.st_mode & 0o222:
            raise sqlite3.OperationalError(f"{self.path} is read-only (mode {found.st_mode:o})")
        return found

    def _remake(self) -> os.stat_result:
        with self._lock:
            if not os.path.exists(self.path):
                for stale in (f"{self.path}-wal", f"{self.path}-shm"):  # the old file's, not ours
                    if os.path.exists(stale):
                        os.remove(stale)
                with self.open() as conn:
                    self.setup(conn)
                conn.close()
                log.error("faultproof store file %s was deleted: made again, empty", self.path)
            return os.stat(self.path)

    def in_child(self) -> Connections:
        """A forked child's connections; the parent's stay open, unused."""
        _INHERITED.append(self._local)
        return Connections(self.path, self.setup)
