"""Where the mock keeps what outlives a request: provider state and rate-limit counters.

``MemoryStore`` is the default: one process, nothing to install. Every value it holds is
JSON-shaped, so a store shared between processes (Redis) can implement the same protocol.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class WindowCount:
    """One hit counted in a fixed rate-limit window.

    Attributes:
        count: Hits in the current window, this one included.
        reset_at: Epoch seconds when the window ends and the count starts again.
    """

    count: int
    reset_at: float


class Store(Protocol):
    """What the mock needs from a state store."""

    @contextmanager
    def state(
        self, session: str, provider: str, seed: Callable[[], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """The provider's state in a session, exclusively held; created from ``seed`` once."""
        ...

    def hit(self, key: str, window_s: float, now: float) -> WindowCount:
        """Count one hit against ``key`` in the fixed window that contains ``now``."""
        ...

    def peek(self, key: str, window_s: float, now: float) -> WindowCount:
        """The current window's count without adding a hit."""
        ...

    def reset(self, session: str) -> None:
        """Forget every state and counter of ``session``."""
        ...


class MemoryStore:
    """The in-process store: dictionaries behind locks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], dict[str, Any]] = {}
        self._state_locks: dict[tuple[str, str], threading.Lock] = {}
        self._counters: dict[str, tuple[int, int]] = {}

    @contextmanager
    def state(
        self, session: str, provider: str, seed: Callable[[], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        key = (session, provider)
        with self._lock:
            lock = self._state_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._states:
                self._states[key] = copy.deepcopy(seed())
            yield self._states[key]

    def _window(self, window_s: float, now: float) -> int:
        return math.floor(now / window_s)

    def hit(self, key: str, window_s: float, now: float) -> WindowCount:
        window = self._window(window_s, now)
        with self._lock:
            start, count = self._counters.get(key, (window, 0))
            count = count + 1 if start == window else 1
            self._counters[key] = (window, count)
        return WindowCount(count, (window + 1) * window_s)

    def peek(self, key: str, window_s: float, now: float) -> WindowCount:
        window = self._window(window_s, now)
        with self._lock:
            start, count = self._counters.get(key, (window, 0))
        return WindowCount(count if start == window else 0, (window + 1) * window_s)

    def reset(self, session: str) -> None:
        prefix = f"{session}:"
        with self._lock:
            for key in [k for k in self._states if k[0] == session]:
                del self._states[key]
                self._state_locks.pop(key, None)
            for counter in [k for k in self._counters if k.startswith(prefix)]:
                del self._counters[counter]
