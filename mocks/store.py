"""Where the mock keeps what outlives a request, behind one protocol with two implementations.

Sessions (with their plan and its step counter), journals, provider state and rate-limit
counters. ``MemoryStore`` (``memory_store.py``) is the default: one process, nothing to install.
``RedisStore`` (``redis_store.py``) lets several workers and several ``faultproof serve``
processes share one mock. Every value is JSON-shaped, and every operation that two requests
could race on (a plan step, a journal sequence number, a counter) is atomic in both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_SESSION = "default"
#: The key that marks a journal entry whose request has no answer yet (``Store.begin``).
IN_FLIGHT = "in_flight"
#: A session's idle time before it expires, unless the config says otherwise.
DEFAULT_TTL_S = 3600.0
#: Most sessions one ``expire`` call removes: a sweep inside a request stays bounded.
SWEEP_LIMIT = 100


@dataclass(frozen=True, slots=True)
class WindowCount:
    """One hit counted in a fixed rate-limit window.

    Attributes:
        count: Hits in the current window, this one included.
        reset_at: Epoch seconds when the window ends and the count starts again.
    """

    count: int
    reset_at: float


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session as the store holds it.

    Attributes:
        id: The session id (unguessable, except ``default``).
        created_at: Epoch seconds.
        touched_at: Epoch seconds of the last request or control call.
        plan: The session's plan, or ``None``.
        secret: The webhook signing secret of the session.
    """

    id: str
    created_at: float
    touched_at: float
    plan: dict[str, Any] | None
    secret: str


@dataclass(frozen=True, slots=True)
class JournalPage:
    """A session's journal.

    Attributes:
        entries: The entries kept, oldest first.
        dropped: Entries pushed out by the bound, counted, never silently lost.
    """

    entries: list[dict[str, Any]]
    dropped: int


class Store(Protocol):
    """What the mock needs from a state store (every implementation passes one test suite).

    ``outages`` names the exceptions by which the store says it cannot be reached (a refused
    connection, a timeout, a read-only file): ``store_guard.py`` answers those with the mock's
    own 503, and lets any other exception through as the bug it is.
    """

    outages: tuple[type[BaseException], ...]

    def ping(self) -> None:
        """Raise one of ``outages`` when the store cannot be reached (and written)."""
        ...

    def create_session(
        self, session_id: str, secret: str, now: float, ttl_s: float = DEFAULT_TTL_S
    ) -> None:
        """A new session, idle for at most ``ttl_s`` before it expires."""
        ...

    def session(self, session_id: str, now: float, ttl_s: float) -> SessionInfo | None:
        """The session, touched at ``now``; ``None`` when unknown or idle longer than ``ttl_s``.

        Its ``plan`` is the stored one, not a copy (O(1) however long): never change it.
        """
        ...

    def delete_session(self, session_id: str) -> bool: ...

    def session_ids(self) -> list[str]: ...

    def expire(self, now: float, ttl_s: float, limit: int = SWEEP_LIMIT) -> list[str]:
        """Remove at most ``limit`` sessions idle longer than ``ttl_s``, longest idle first;
        their ids. Bounded, so a sweep never costs a request more than ``limit`` removals."""
        ...

    def set_plan(self, session_id: str, plan: dict[str, Any] | None) -> None:
        """Install (or clear) a plan; its step counter starts again at 0."""
        ...

    def take_step(self, session_id: str) -> int:
        """The 0-based index of the next plan step, atomically (each index given once)."""
        ...

    def append(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        """Add a journal entry, keeping at most ``limit`` (older ones counted as dropped)."""
        ...

    def begin(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        """Journal a request as it arrives, marked ``in_flight`` (its seq; 0 if no session).

        The entry takes its place in the ring at once (``limit`` applies as for ``append``), so
        a reader who looks while the answer is still being made (a hang) sees the request.
        """
        ...

    def finish(self, session_id: str, seq: int, entry: dict[str, Any]) -> bool:
        """Complete the in-flight entry ``seq`` in place (same seq, no longer in flight).

        False, changing nothing, when that entry is gone: its session ended, or the ring
        dropped it meanwhile (already counted in ``dropped``), or ``entry`` was received at
        another time than the one begun (a ``default`` session reset meanwhile reuses seqs).
        """
        ...

    def journal(self, session_id: str) -> JournalPage: ...

    def state(
        self, session: str, provider: str, seed: Callable[[], dict[str, Any]]
    ) -> AbstractContextManager[dict[str, Any]]:
        """The provider's state in a session, exclusively held; created from ``seed`` once."""
        ...

    def hit(self, key: str, window_s: float, now: float) -> WindowCount:
        """Count one hit against ``key`` in the fixed window that contains ``now``."""
        ...

    def peek(self, key: str, window_s: float, now: float) -> WindowCount:
        """The current window's count without adding a hit."""
        ...


def in_flight(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` as ``begin`` keeps it: no answer yet."""
    return {**entry, "responded_at": None, "status": None, IN_FLIGHT: True}


def completed(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` as ``finish`` keeps it: completed entries carry no ``in_flight`` key."""
    return {k: v for k, v in entry.items() if k != IN_FLIGHT}


def window_of(window_s: float, now: float) -> int:
    """The fixed window containing ``now``: same for every process, so counters agree."""
    return math.floor(now / window_s)


def sorted_ids(ids: Iterator[str]) -> list[str]:
    return sorted(i for i in ids if i != DEFAULT_SESSION)
