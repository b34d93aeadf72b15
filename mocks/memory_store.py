"""The in-process store: dictionaries behind locks (the default; one process)."""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .store import (
    DEFAULT_SESSION,
    IN_FLIGHT,
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
    plan: dict[str, Any] | None = None
    step: int = 0
    seq: int = 0
    dropped: int = 0
    journal: deque[dict[str, Any]] = field(default_factory=deque)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    state_locks: dict[str, threading.Lock] = field(default_factory=dict)


class MemoryStore:
    """Sessions, journals, state and counters in this process's memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._counters: dict[str, tuple[int, int]] = {}

    def _get(self, session_id: str) -> _Session:
        """The session record; ``default`` comes into being on first use and never expires."""
        found = self._sessions.get(session_id)
        if found is None:
            if session_id != DEFAULT_SESSION:
                raise KeyError(session_id)
            found = self._sessions[session_id] = _Session(0.0, 0.0, "")
        return found

    def create_session(self, session_id: str, secret: str, now: float) -> None:
        with self._lock:
            self._sessions[session_id] = _Session(now, now, secret)

    def session(self, session_id: str, now: float, ttl_s: float) -> SessionInfo | None:
        with self._lock:
            try:
                record = self._get(session_id)
            except KeyError:
                return None
            if session_id != DEFAULT_SESSION and now - record.touched_at > ttl_s:
                self._drop(session_id)
                return None
            record.touched_at = now
            return SessionInfo(
                session_id, record.created_at, now, copy.deepcopy(record.plan), record.secret
            )

    def _drop(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
        prefix = f"{session_id}:"
        for key in [k for k in self._counters if k.startswith(prefix)]:
            del self._counters[key]

    def delete_session(self, session_id: str) -> bool:
        with self._lock:
            existed = session_id in self._sessions and session_id != DEFAULT_SESSION
            self._drop(session_id)
            return existed

    def session_ids(self) -> list[str]:
        with self._lock:
            return sorted_ids(iter(self._sessions))

    def expire(self, now: float, ttl_s: float) -> list[str]:
        with self._lock:
            idle = [
                s
                for s, r in self._sessions.items()
                if s != DEFAULT_SESSION and now - r.touched_at > ttl_s
            ]
            for session_id in idle:
                self._drop(session_id)
            return idle

    def set_plan(self, session_id: str, plan: dict[str, Any] | None) -> None:
        with self._lock:
            record = self._get(session_id)
            record.plan, record.step = copy.deepcopy(plan), 0

    def take_step(self, session_id: str) -> int:
        with self._lock:
            record = self._get(session_id)
            record.step += 1
            return record.step - 1

    def append(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        return self._push(session_id, entry, limit)

    def begin(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        return self._push(session_id, in_flight(entry), limit)

    def _push(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        with self._lock:
            if session_id not in self._sessions and session_id != DEFAULT_SESSION:
                return 0  # a request that outlived its session (a hang the client left): not kept
            record = self._get(session_id)
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
            index = seq - (record.seq - len(record.journal) + 1)  # the ring holds consecutive seqs
            if not 0 <= index < len(record.journal):
                return False
            kept = record.journal[index]
            if not kept.get(IN_FLIGHT) or kept["received_at"] != entry["received_at"]:
                return False
            record.journal[index] = {**completed(entry), "seq": seq}
            return True

    def journal(self, session_id: str) -> JournalPage:
        with self._lock:
            record = self._get(session_id)
            return JournalPage(list(record.journal), record.dropped)

    @contextmanager
    def state(
        self, session: str, provider: str, seed: Callable[[], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        with self._lock:
            try:
                record = self._get(session)
            except KeyError:
                record = None
            lock = record.state_locks.setdefault(provider, threading.Lock()) if record else None
        if record is None or lock is None:
            yield copy.deepcopy(seed())  # the session ended while this request ran: nothing is kept
            return
        with lock:
            if provider not in record.states:
                record.states[provider] = copy.deepcopy(seed())
            yield record.states[provider]

    def hit(self, key: str, window_s: float, now: float) -> WindowCount:
        window = window_of(window_s, now)
        with self._lock:
            start, count = self._counters.get(key, (window, 0))
            count = count + 1 if start == window else 1
            self._counters[key] = (window, count)
        return WindowCount(count, (window + 1) * window_s)

    def peek(self, key: str, window_s: float, now: float) -> WindowCount:
        window = window_of(window_s, now)
        with self._lock:
            start, count = self._counters.get(key, (window, 0))
        return WindowCount(count if start == window else 0, (window + 1) * window_s)
