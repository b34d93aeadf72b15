"""How long a client under test may run, counted so that a busy machine changes no verdict.

The time a scenario allows counts from the first request that reaches the mock (the session's
journal knows when), not from the moment the client was started: on a loaded 2-core machine an
interpreter can take seconds to start, and a client must not be graded on that. Start-up gets an
allowance of its own (``STARTUP_S``). Starting interpreters is also what loads the machine most,
so at most ``starting`` clients are in start-up at once: a gate is held from spawn until the
first request arrives (or the client exits), however many runs are in flight.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

#: Time a client may take to send its first request, on top of the time the scenario allows.
STARTUP_S = 30.0
#: A client still running this long after its time is up is stopped.
KILL_GRACE_S = 3.0
#: How often the runner asks the mock whether the first request has arrived.
POLL_S = 0.1


def machine_starts() -> int:
    """How many clients may start at once: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Watch:
    """What the runner can tell an adapter about its run while the client works.

    Attributes:
        first_request_at: Epoch seconds of the first request the mock journaled for the run's
            session, or ``None`` while there is none.
        gate: Held while the client starts (``None``: no bound).
        startup_s: How long the client may take to send its first request.
    """

    first_request_at: Callable[[], float | None]
    gate: threading.Semaphore | None = None
    startup_s: float = STARTUP_S


class Running(Protocol):
    """A started client: a process or a thread."""

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True once the client has finished."""
        ...

    def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Supervised:
    """How a supervised client ended.

    Attributes:
        killed: Stopped because its time (and the grace after it) ran out.
        elapsed_s: From its first request to its end; from its start when no request came.
        startup_s: From its start to its first request, or ``None`` when none was seen.
    """

    killed: bool
    elapsed_s: float
    startup_s: float | None


class _Clock:
    """The first request's time on this process's monotonic clock, from the mock's epoch stamp.

    The stamp is clamped between the last poll that saw no request and the poll that saw it, so
    a mock whose clock differs from ours moves the budget by at most one poll interval.
    """

    def __init__(self, watch: Watch) -> None:
        self.watch = watch
        self.started = time.monotonic()
        self.offset = time.time() - self.started
        self.last_empty = self.started
        self.first: float | None = None

    def poll(self) -> float | None:
        if self.first is None:
            seen = self.watch.first_request_at()
            now = time.monotonic()
            if seen is None:
                self.last_empty = now
            else:
                self.first = min(max(seen - self.offset, self.last_empty), now)
        return self.first


def supervise(start: Callable[[], Running], limit_s: float, watch: Watch | None) -> Supervised:
    """Start a client and let it run for ``limit_s`` from its first request, plus grace.

    Without a ``watch`` (no mock to ask) the limit counts from the start.
    """
    if watch is None:
        started = time.monotonic()
        running = start()
        finished = running.wait(limit_s + KILL_GRACE_S)
        if not finished:
            running.stop()
        return Supervised(not finished, time.monotonic() - started, None)
    gate = watch.gate
    if gate is not None:
        gate.acquire()
    holding = gate is not None
    try:
        clock = _Clock(watch)
        running = start()
        finished = False
        while not finished:
            first = clock.poll()
            if first is not None and holding and gate is not None:
                gate.release()
                holding = False
            deadline = (first if first is not None else clock.started + watch.startup_s) + (
                limit_s + KILL_GRACE_S
            )
            left = deadline - time.monotonic()
            if left <= 0:
                break
            finished = running.wait(left if first is not None else min(POLL_S, left))
        if not finished:
            running.stop()
        ended = time.monotonic()
    finally:
        if holding and gate is not None:
            gate.release()
    first = clock.poll()
    since = first if first is not None else clock.started
    startup = None if first is None else max(0.0, first - clock.started)
    return Supervised(not finished, max(0.0, ended - since), startup)


__all__ = [
    "KILL_GRACE_S",
    "STARTUP_S",
    "Running",
    "Supervised",
    "Watch",
    "machine_starts",
    "supervise",
]
