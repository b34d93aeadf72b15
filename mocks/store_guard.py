"""A store's outages as the mock's own answer: the wrapper ``create_app`` puts around its store.

Why: a store that cannot be reached (Redis killed or stalled, a SQLite file read-only or gone)
used to surface as a 500, sometimes in the provider's envelope, which a client under test would
"handle" as the provider's failure. Every call goes through ``StoreGuard``: the failure types the
store names (its ``outages``) become ``StoreUnavailable``, which every path (the canned front,
Flask, the control plane) answers with a marked 503 (``answers.store_unavailable``).

While the store is down, calls fail at once, except one probe every ``RETRY_S``: a stalled Redis
costs one socket timeout per ``RETRY_S``, not one per request, and the first probe that succeeds
ends the outage. The start of an outage is logged once with its traceback, its end in one line.

Journal entries that could not be written are counted (``lost``, in all and per session), so no
loss is silent: the journal reports them with its ``dropped`` entries, and health reports the total.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from functools import partial
from typing import Any, TypeVar

from .sessions import valid_id
from .store import DEFAULT_TTL_S, SWEEP_LIMIT, JournalPage, SessionInfo, Store, WindowCount

log = logging.getLogger("faultproof.mock")
#: Seconds between probes of a store that is down.
RETRY_S = 0.25
T = TypeVar("T")


class StoreUnavailable(Exception):
    """The store could not be reached; the request gets the mock's 503, never a provider's.

    Attributes:
        session: The session the failed call was for, if any.
        counted: Whether the failed call was a journal write, already counted as lost.
    """

    def __init__(self, message: str, session: str | None = None, counted: bool = False) -> None:
        super().__init__(message)
        self.session = session
        self.counted = counted


class StoreGuard:
    """Any ``Store``, its outages turned into ``StoreUnavailable`` and its losses counted."""

    def __init__(self, inner: Store, clock: Callable[[], float] = time.monotonic) -> None:
        self.inner = inner
        self.outages: tuple[type[BaseException], ...] = inner.outages
        self.lost = 0
        self._clock = clock
        self._lock = threading.Lock()
        self._error: str | None = None
        self._next_probe = 0.0
        self._lost_by: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        """The wrapped store's own attributes (``path``, ``redis``) stay reachable."""
        if name == "inner":  # not set yet (copying, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def error(self) -> str | None:
        """Why the store is down, or ``None`` while it answers."""
        return self._error

    def _admit(self, session: str | None, counted: bool) -> None:
        """Fail at once while down, except for one probe per ``RETRY_S``."""
        if self._error is None:
            return
        with self._lock:
            now = self._clock()
            if self._error is not None and now < self._next_probe:
                raise StoreUnavailable(self._message(self._error), session, counted)
            self._next_probe = now + RETRY_S

    def _call(
        self,
        call: Callable[[], T],
        session: str | None = None,
        journal: bool = False,
        probe: bool = False,
    ) -> T:
        """``call()``, with the store's failures made ``StoreUnavailable`` (a journal write's
        failure counted as one lost entry of ``session``); a ``probe`` always asks the store."""
        try:
            if not probe:
                self._admit(session, journal)
            result = call()
        except StoreUnavailable:
            if journal:
                self.count_lost(session)
            raise
        except self.outages as error:
            self._down(error)
            if journal:
                self.count_lost(session)
            raise StoreUnavailable(self._message(str(error)), session, journal) from error
        if self._error is not None:
            self._up()
        return result

    def _message(self, error: str) -> str:
        return f"the mock's state store is unavailable ({error}); it answers 503 until it is back"

    def _down(self, error: BaseException) -> None:
        with self._lock:
            first = self._error is None
            self._error = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            self._next_probe = self._clock() + RETRY_S
        if first:
            log.error("faultproof store outage began", exc_info=error)

    def _up(self) -> None:
        with self._lock:
            was, self._error = self._error, None
        if was is not None:
            log.warning("faultproof store outage ended (was %s); %d entries lost", was, self.lost)

    def count_lost(self, session: str | None) -> None:
        """One journal entry of ``session`` that the store could not keep."""
        with self._lock:
            self.lost += 1
            if session is not None:
                self._lost_by[session] = self._lost_by.get(session, 0) + 1

    def lost_of(self, session: str) -> int:
        """Entries of ``session`` lost while the store was down (this process's count)."""
        return self._lost_by.get(session, 0)

    def report(self) -> dict[str, Any]:
        """The store's state for health: a fresh probe, what it said, and the entries lost."""
        with suppress(StoreUnavailable):
            self._call(self.inner.ping, probe=True)
        return {"ok": self._error is None, "error": self._error, "lost": self.lost}

    def ping(self) -> None:
        self._call(self.inner.ping)

    def create_session(
        self, session_id: str, secret: str, now: float, ttl_s: float = DEFAULT_TTL_S
    ) -> None:
        self._call(lambda: self.inner.create_session(session_id, secret, now, ttl_s), session_id)

    def session(self, session_id: str, now: float, ttl_s: float) -> SessionInfo | None:
        if not valid_id(session_id):  # never issued: no store call, the usual 404
            return None
        return self._call(lambda: self.inner.session(session_id, now, ttl_s), session_id)

    def delete_session(self, session_id: str) -> bool:
        if not valid_id(session_id):
            return False
        existed = self._call(lambda: self.inner.delete_session(session_id), session_id)
        with self._lock:
            self._lost_by.pop(session_id, None)
        return existed

    def session_ids(self) -> list[str]:
        return self._call(self.inner.session_ids)

    def expire(self, now: float, ttl_s: float, limit: int = SWEEP_LIMIT) -> list[str]:
        idle = self._call(lambda: self.inner.expire(now, ttl_s, limit))
        with self._lock:
            for session_id in idle:
                self._lost_by.pop(session_id, None)
        return idle

    def set_plan(self, session_id: str, plan: dict[str, Any] | None) -> None:
        self._call(lambda: self.inner.set_plan(session_id, plan), session_id)

    def take_step(self, session_id: str) -> int:
        return self._call(lambda: self.inner.take_step(session_id), session_id)

    def append(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        return self._call(lambda: self.inner.append(session_id, entry, limit), session_id, True)

    def begin(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        return self._call(lambda: self.inner.begin(session_id, entry, limit), session_id, True)

    def finish(self, session_id: str, seq: int, entry: dict[str, Any]) -> bool:
        return self._call(lambda: self.inner.finish(session_id, seq, entry), session_id, True)

    def journal(self, session_id: str) -> JournalPage:
        return self._call(lambda: self.inner.journal(session_id), session_id)

    @contextmanager
    def state(
        self, session: str, provider: str, seed: Callable[[], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """The store's block; only the store's own entering and leaving are guarded, never
        what the view does inside it."""

        def enter() -> tuple[AbstractContextManager[dict[str, Any]], dict[str, Any]]:
            held = self.inner.state(session, provider, seed)
            return held, held.__enter__()

        held, data = self._call(enter, session)
        # Leaving always reaches the store, down or not: it releases what entering took.
        try:
            yield data
        except BaseException:
            self._call(partial(held.__exit__, *sys.exc_info()), session, probe=True)
            raise
        self._call(lambda: held.__exit__(None, None, None), session, probe=True)

    def hit(self, key: str, window_s: float, now: float) -> WindowCount:
        return self._call(lambda: self.inner.hit(key, window_s, now), key.partition(":")[0])

    def peek(self, key: str, window_s: float, now: float) -> WindowCount:
        return self._call(lambda: self.inner.peek(key, window_s, now), key.partition(":")[0])


def guarded(store: Store) -> StoreGuard:
    """``store`` behind a guard (once: a guard is not wrapped again)."""
    return store if isinstance(store, StoreGuard) else StoreGuard(store)


def unwrapped(store: Store) -> Store:
    """The store a guard wraps (or ``store`` itself)."""
    return store.inner if isinstance(store, StoreGuard) else store


def report(store: Store) -> dict[str, Any]:
    """Health's view of ``store``: a guard probes; an unguarded store is taken as answering."""
    if isinstance(store, StoreGuard):
        return store.report()
    return {"ok": True, "error": None, "lost": 0}


def unjournaled(store: Store, error: StoreUnavailable) -> None:
    """A provider request that failed on the store before its journal write: its entry is lost
    too, counted once (a failed journal write was counted by the guard already)."""
    if isinstance(store, StoreGuard) and not error.counted:
        store.count_lost(error.session)


def lost_of(store: Store, session: str) -> int:
    """Journal entries of ``session`` lost to store outages (0 for an unguarded store)."""
    return store.lost_of(session) if isinstance(store, StoreGuard) else 0
