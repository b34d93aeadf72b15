"""Exclusive holds of one key on one host, for ``SqliteStore.state``: threads and processes.

A block that reads, changes and writes a provider's state must run alone for its
``(session, provider)``, but holding SQLite's write lock for it would stop every other write of
the host (journal appends, counters) for as long. So each key hashes to one of ``SLOTS``: a
thread lock per slot inside the process, and a POSIX byte-range lock (``lockf``) on that byte of
``PATH-locks`` between processes. Both wake the next holder as soon as the slot is free.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

SLOTS = 4096


class KeyLocks:
    """Exclusive holds of keys, shared by the processes that use the same ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._guard = threading.Lock()
        self._threads: dict[int, threading.Lock] = {}
        self._fd = -1  # opened by the first hold of the process that holds

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold ``key`` (and the few keys sharing its slot) for the block."""
        slot = zlib.crc32(key.encode()) % SLOTS  # the same in every process, unlike hash()
        with self._guard:
            lock = self._threads.setdefault(slot, threading.Lock())
            if self._fd < 0:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        with lock:
            _lock_byte(self._fd, slot)
            try:
                yield
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, slot)

    def in_child(self) -> KeyLocks:
        """A forked child's own holds: a thread of the parent may have held a lock at the fork."""
        return KeyLocks(self.path)


def _lock_byte(fd: int, slot: int) -> None:
    """``lockf``, retried on ``EDEADLK``: POSIX locks belong to processes, not threads, so the
    kernel reports a deadlock when threads of two processes merely wait for each other's slots."""
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX, 1, slot)
            return
        except OSError as exc:
            if exc.errno != errno.EDEADLK:
                raise
            time.sleep(0.0005)
