"""The in-process store: dictionaries behind locks (the default; one process).

Why each request costs O(1) whatever the other sessions hold: a plan is copied once, when it is
installed, and handed out as is afterwards (plans are never changed in place); the store's own
lock covers only finding a session and keeping the idle order (an ``OrderedDict`` by last use,
so a sweep finds the idle sessions at its front); a session's journal, steps and counters have
the session's own lock.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .store import (
    DEFAULT_SESSION,
    DEFAULT_TTL_S,
    IN_FLIGHT,
    SWEEP_LIMIT,
    JournalPage,
    SessionInfo,
    WindowCount,
    completed,
    in_flight,
    sorted_ids,
    window_of,
)


@dataclass
class _Session:
    created_at: float
    touched_at: float
    secret: str
    plan: dict[str, Any] | None = None  # never changed in place: set_plan replaces it whole
    step: int = 0
    seq: int = 0
    dropped: int = 0
    journal: deque[dict[str, Any]] = field(default_factory=deque)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    state_locks: dict[str, threading.Lock] = field(default_factory=dict)
    counters: dict[str, tuple[int, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class MemoryStore:
    """Sessions, journals, state and counters in this process's memory."""

    outages: tuple[type[BaseException], ...] = ()  # memory is always there

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, _Session] = OrderedDict()  # least recently used first
        self._loose: dict[str, tuple[int, int]] = {}  # counters of no session

    def ping(self) -> None:
        """Memory always answers."""

    def _get(self, session_id: str) -> _Session:
        """The session record; ``default`` comes into being on first use and never expires."""
        found = self._sessions.get(session_id)
        if found is None:
            if session_id != DEFAULT_SESSION:
                raise KeyError(session_id)
            found = self._sessions[session_id] = _Session(0.0, 0.0, "")
        return found

    def _record(self, session_id: str) -> _Session:
        with self._lock:
            return self._get(session_id)

    def create_session(
        self, session_id: str, secret: str, now: float, ttl_s: float = DEFAULT_TTL_S
    ) -> None:
        with self._lock:
            self._sessions[session_id] = _Session(now, now, secret)
            self._sessions.move_to_end(session_id)

    def session(self, session_id: str, now: float, ttl_s: float) -> SessionInfo | None:
        with self._lock:
            try:
                record = self._get(session_id)
            except KeyError:
                return None
            if session_id != DEFAULT_SESSION and now - record.touched_at > ttl_s:
                self._sessions.pop(session_id, None)
                return None
            record.touched_at = now
            self._sessions.move_to_end(session_id)
            return SessionInfo(session_id, record.created_at, now, record.plan, record.secret)

    def delete_session(self, session_id: str) -> bool:
        with self._lock:
            existed = self._sessions.pop(session_id, None) is not None
            return existed and session_id != DEFAULT_SESSION

    def session_ids(self) -> list[str]:
        with self._lock:
            return sorted_ids(iter(self._sessions))

    def expire(self, now: float, ttl_s: float, limit: int = SWEEP_LIMIT) -> list[str]:
        """The idle sessions at the front of the idle order, at most ``limit``: O(limit)."""
        idle: list[str] = []
        with self._lock:
            for session_id, record in self._sessions.items():
                if len(idle) == limit or now - record.touched_at <= ttl_s:
                    break
                if session_id != DEFAULT_SESSION:
                    idle.append(session_id)
            for session_id in idle:
                del self._sessions[session_id]
        return idle

    def set_plan(self, session_id: str, plan: dict[str, Any] | None) -> None:
        frozen = copy.deepcopy(plan)  # the one copy: what callers hand in may change after
        record = self._record(session_id)
        with record.lock:
            record.plan, record.step = frozen, 0

    def take_step(self, session_id: str) -> int:
        record = self._record(session_id)
        with record.lock:
            record.step += 1
            return record.step - 1

    def append(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        return self._push(session_id, entry, limit)

    def begin(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        return self._push(session_id, in_flight(entry), limit)

    def _push(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        try:
            record = self._record(session_id)
        except KeyError:
            return 0  # a request that outlived its session (a hang the client left): not kept
        with record.lock:
            record.seq += 1
            record.journal.append({**entry, "seq": record.seq})
            while len(record.journal) > limit:
                record.journal.popleft()
                record.dropped += 1
            return record.seq

    def finish(self, session_id: str, seq: int, entry: dict[str, Any]) -> bool:
        with self._lock:
            record = self._sessions.get(session_id)
        if record is None:
            return False
        with record.lock:
            index = seq - (record.seq - len(record.journal) + 1)  # the ring holds consecutive seqs
            if not 0 <= index < len(record.journal):
                return False
            kept = record.journal[index]
            if not kept.get(IN_FLIGHT) or kept["received_at"] != entry["received_at"]:
                return False
            record.journal[index] = {**completed(entry), "seq": seq}
            return True

    def journal(self, session_id: str) -> JournalPage:
        record = self._record(session_id)
        with record.lock:
            return JournalPage(list(record.journal), record.dropped)

    @contextmanager
    def state(
        self, session: str, provider: str, seed: Callable[[], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        try:
            record: _Session | None = self._record(session)
        except KeyError:
            record = None
        if record is None:
            yield copy.deepcopy(seed())  # the session ended while this request ran: nothing is kept
            return
        with record.lock:
            lock = record.state_locks.setdefault(provider, threading.Lock())
        with lock:
            if provider not in record.states:
                record.states[provider] = copy.deepcopy(seed())
            yield record.states[provider]

    def _counters(self, key: str) -> tuple[dict[str, tuple[int, int]], threading.Lock]:
        """The counters ``key`` belongs to: its session's (``session:provider:name``, dropped
        with the session), else the store's loose ones."""
        with self._lock:
            record = self._sessions.get(key.partition(":")[0])
        if record is None:
            return self._loose, self._lock
        return record.counters, record.lock

    def hit(self, key: str, window_s: float, now: float) -> WindowCount:
        window = window_of(window_s, now)
        counters, lock = self._counters(key)
        with lock:
            start, count = counters.get(key, (window, 0))
            count = count + 1 if start == window else 1
            counters[key] = (window, count)
        return WindowCount(count, (window + 1) * window_s)

    def peek(self, key: str, window_s: float, now: float) -> WindowCount:
        window = window_of(window_s, now)
        counters, lock = self._counters(key)
        with lock:
            start, count = counters.get(key, (window, 0))
        return WindowCount(count if start == window else 0, (window + 1) * window_s)
