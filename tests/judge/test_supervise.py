"""The run's time budget: counted from the first request, start-ups gated by the cores.

No test here depends on how busy the machine is: times are generous upper bounds for what must
not happen, and the gate is checked by an invariant each poll sees, not by a sleep.
"""

from __future__ import annotations

import threading
import time

from faultproof.contracts.supervise import KILL_GRACE_S, Watch, supervise


class Sleeper:
    """A client that finishes ``seconds`` after it starts."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = 0.0
        self.stopped = False

    def start(self) -> Sleeper:
        self.started = time.monotonic()
        return self

    def wait(self, timeout: float) -> bool:
        left = self.started + self.seconds - time.monotonic()
        time.sleep(max(0.0, min(timeout, left)))
        return time.monotonic() >= self.started + self.seconds

    def stop(self) -> None:
        self.stopped = True


def first_request_after(seconds: float):
    """A mock that journals its first request ``seconds`` after the client started."""
    box: dict[str, float] = {}

    def first_request_at() -> float | None:
        box.setdefault("start", time.time())
        seen = box["start"] + seconds
        return seen if time.time() >= seen else None

    return first_request_at


def test_a_slow_start_up_does_not_count_against_the_limit():
    slow_start = KILL_GRACE_S + 0.8  # longer than the limit and its grace together
    client = Sleeper(slow_start + 0.3)
    ended = supervise(client.start, 0.2, Watch(first_request_after(slow_start)))
    assert not ended.killed and not client.stopped
    assert ended.startup_s is not None and ended.startup_s >= slow_start - 0.2
    assert ended.elapsed_s < client.seconds - ended.startup_s + 1.0


def test_without_a_watch_the_limit_counts_from_the_start():
    client = Sleeper(KILL_GRACE_S + 1.0)
    ended = supervise(client.start, 0.2, None)
    assert ended.killed and client.stopped and ended.startup_s is None


def test_a_client_that_never_sends_a_request_is_stopped_after_the_start_up_allowance():
    client = Sleeper(60)
    ended = supervise(client.start, 0.1, Watch(lambda: None, startup_s=0.2))
    assert ended.killed and client.stopped and ended.startup_s is None


def test_a_client_over_its_limit_after_the_first_request_is_stopped():
    client = Sleeper(60)
    ended = supervise(client.start, 0.1, Watch(first_request_after(0.1)))
    assert ended.killed and client.stopped
    assert ended.elapsed_s >= 0.1 + KILL_GRACE_S - 0.2


def test_one_client_starts_at_a_time_through_a_gate_of_one():
    gate = threading.Semaphore(1)
    first_sent = threading.Event()
    second_started = threading.Event()
    seen_while_starting: list[bool] = []
    polls = {"n": 0}

    def first_request_at() -> float | None:
        # Each poll of the first client, before its first request: the second cannot have started.
        polls["n"] += 1
        if polls["n"] < 4:
            seen_while_starting.append(second_started.is_set())
            return None
        first_sent.set()
        return time.time()

    class Second(Sleeper):
        def start(self) -> Second:
            second_started.set()
            return super().start()

    runs = [
        threading.Thread(
            target=supervise, args=(Sleeper(0.6).start, 5, Watch(first_request_at, gate))
        ),
        threading.Thread(
            target=supervise, args=(Second(0.1).start, 5, Watch(lambda: time.time(), gate))
        ),
    ]
    runs[0].start()
    while polls["n"] == 0:  # the first client holds the gate before the second asks for it
        time.sleep(0.01)
    runs[1].start()
    for run in runs:
        run.join(30)
    assert seen_while_starting == [False, False, False]
    assert first_sent.is_set() and second_started.is_set()
