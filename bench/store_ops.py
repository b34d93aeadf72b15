"""Microseconds per store operation on the hot path: memory, SQLite and Redis.

Usage: python bench/store_ops.py [--ops 20000] [--wrk 10] [--out bench/results/store_ops.md]

One thread times each operation a request makes (``session`` touch, ``take_step``, ``hit``,
``append`` of a typical journal entry at the bound, ``journal`` read of 1,000 entries), then
two forked processes append into one session at once (the ``--workers 2`` case): their combined
appends per second, and whether the journal counted every one exactly. SQLite runs on a file in
``/dev/shm`` (what ``--state sqlite://`` picks) and on the disk; Redis is a throwaway
``redis-server`` on a free loopback port. Last, SQLite's connection choices under gthread-style
concurrency: 1, 8 and 32 threads of one process each touching a session and appending, with a
connection per thread and the process's write lock (what the store does), without that lock,
and with one connection for the process behind the lock. With ``--wrk SECONDS``, the
end-to-end question: answers per second of ``faultproof serve`` with one or two workers on
each store, for the workload of ``design_trials.md`` (``wrk -t2 -c32``, Alana,
``Prefer: code=429``, journal on) and for plain happy-path GETs of the same product.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests" / "mock")]

from conftest import _start  # noqa: E402  (the tests' way of starting `faultproof serve`)
from hardening_load import _redis  # noqa: E402  (a throwaway redis-server on a free port)

from faultproof.mocks.memory_store import MemoryStore  # noqa: E402
from faultproof.mocks.redis_store import RedisStore  # noqa: E402
from faultproof.mocks.sqlite_store import SqliteStore  # noqa: E402

ENTRY = {
    "direction": "inbound",
    "at": 1_700_000_000.123,
    "provider": "alana",
    "method": "GET",
    "path": "/alana/api/v1/products/42",
    "query": {},
    "headers": {"x-api-key": "[redacted]", "user-agent": "python-httpx/0.28"},
    "status": 200,
    "scenario": None,
    "fault": None,
    "duration_ms": 0.41,
}
LIMIT = 1_000


def _per_op(ops: int, action: Callable[[int], Any]) -> float:
    """Microseconds per call, best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for i in range(ops):
            action(i)
        best = min(best, time.perf_counter() - start)
    return best / ops * 1e6


def _single(store: Any, ops: int) -> dict[str, float]:
    store.create_session("b", "s", now=0.0)
    store.set_plan("b", {"steps": [], "after": "ok", "match": {}})
    return {
        "session": _per_op(ops, lambda i: store.session("b", 1.0 + i, 3600.0)),
        "take_step": _per_op(ops, lambda i: store.take_step("b")),
        "hit": _per_op(ops, lambda i: store.hit("b:alana:rate", 3600.0, 1.0)),
        "append": _per_op(ops, lambda i: store.append("b", ENTRY, LIMIT)),
        "journal": _per_op(max(1, ops // 200), lambda i: store.journal("b")),
    }


def _append_many(store: Any, ops: int) -> None:
    for _ in range(ops):
        store.append("two", ENTRY, LIMIT)


def _run_all(runners: list[Any]) -> float:
    """Seconds for threads or processes started together to all finish."""
    start = time.perf_counter()
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    return time.perf_counter() - start


def _two_processes(store: Any, ops: int) -> tuple[float, bool]:
    """Appends per second of two processes together, and whether the count is exact."""
    store.create_session("two", "s", now=0.0)
    context = multiprocessing.get_context("fork")
    elapsed = _run_all([context.Process(target=_append_many, args=(store, ops)) for _ in range(2)])
    page = store.journal("two")
    exact = len(page.entries) + page.dropped == 2 * ops and page.entries[-1]["seq"] == 2 * ops
    return 2 * ops / elapsed, exact


class _OneConnection(SqliteStore):
    """One connection for the whole process, every write behind the process's lock."""

    def _conn(self) -> sqlite3.Connection:
        if not hasattr(self, "_one"):
            self._one = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._one.execute("PRAGMA synchronous=OFF")
        return self._one


def _unlocked(path: str) -> SqliteStore:
    """A connection per thread, writers meeting only in SQLite (its busy handler sleeps)."""
    store = SqliteStore(path)
    store._writing = nullcontext()  # type: ignore[assignment]
    return store


def _threaded(store: SqliteStore, threads: int, ops: int) -> str:
    """Session touches plus appends per second, ``threads`` at once; whether the count is exact."""
    store.create_session("t", "s", now=0.0)

    def work() -> None:
        for _ in range(ops // threads):
            store.session("t", 1.0, 3600.0)
            store.append("t", ENTRY, LIMIT)

    elapsed = _run_all([threading.Thread(target=work) for _ in range(threads)])
    page = store.journal("t")
    exact = len(page.entries) + page.dropped == ops // threads * threads
    return f"{ops // threads * threads / elapsed:,.0f}/s{'' if exact else ' WRONG COUNT'}"


def _connection_choices(folder: str, ops: int) -> list[str]:
    choices: list[tuple[str, Callable[[str], SqliteStore]]] = [
        ("a connection per thread + process write lock (the store)", SqliteStore),
        ("a connection per thread, no process lock", _unlocked),
        ("one connection per process + lock", _OneConnection),
    ]
    rows = []
    for name, make in choices:
        cells = [
            _threaded(make(os.path.join(folder, f"{threads}-{len(rows)}.db")), threads, ops)
            for threads in (1, 8, 32)
        ]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def _wrk(url: str, seconds: int, *headers: str) -> str:
    """``answers/s | mean latency`` of one wrk run against Alana's product 42."""
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "-H", "X-API-Key: alana_test_key"]
        + [arg for header in headers for arg in ("-H", header)]
        + [url + "/alana/api/v1/products/42"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = next(line.split()[1] for line in out.splitlines() if "Requests/sec" in line)
    latency = next(line.split()[1] for line in out.splitlines() if "Latency" in line)
    return f"{float(rate):,.0f} | {latency}"


def _served(redis_url: str, seconds: int) -> list[str]:
    """Answers per second of ``faultproof serve`` under wrk, per store and worker count:
    canned 429s (the fast path) and happy-path GETs (Flask, provider state, rate counters)."""
    rows = []
    for state, workers in (
        ("memory", 1),
        ("sqlite://", 1),
        ("sqlite://", 2),
        (redis_url, 1),
        (redis_url, 2),
    ):
        proc, url = _start(
            *("--providers", "alana", "--state", state, "--workers", str(workers)),
            *("--set", "alana.rate_limit.limit=1000000"),
        )
        try:
            canned, happy = _wrk(url, seconds, "Prefer: code=429"), _wrk(url, seconds)
        finally:
            proc.terminate()
            proc.communicate(timeout=15)
        name = "redis" if state == redis_url else state.rstrip(":/")
        rows.append(f"| {name} | {workers} | {canned} | {happy} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=20_000)
    parser.add_argument("--wrk", type=int, default=0, help="seconds per end-to-end run (0: none)")
    parser.add_argument("--out", type=Path)
    o = parser.parse_args()
    served: list[str] = []
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    rows = []
    with tempfile.TemporaryDirectory(dir=shm) as mem, tempfile.TemporaryDirectory() as disk:
        server, url = _redis(disk)
        try:
            stores: list[tuple[str, Callable[[], Any]]] = [
                ("memory", MemoryStore),
                ("sqlite (/dev/shm)", lambda: SqliteStore(os.path.join(mem, "s.db"))),
                ("sqlite (disk)", lambda: SqliteStore(os.path.join(disk, "s.db"))),
                ("redis (loopback)", lambda: RedisStore.from_url(url)),
            ]
            for name, make in stores:
                times = _single(make(), o.ops)
                shared = "n/a (one process)"
                if name != "memory":
                    rate, exact = _two_processes(make(), o.ops)
                    shared = f"{rate:,.0f}/s, {'exact' if exact else 'WRONG COUNT'}"
                rows.append(
                    f"| {name} | " + " | ".join(f"{times[k]:.1f}" for k in times) + f" | {shared} |"
                )
            if o.wrk:
                served = _served(url, o.wrk)
        finally:
            server.terminate()
            server.wait(timeout=10)
        choices = _connection_choices(mem, o.ops)
    text = "\n".join(
        [
            "| store | session µs | take_step µs | hit µs | append µs | journal (1,000) µs "
            "| append, 2 processes |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"{o.ops:,} ops per measurement (best of 3), journal bound {LIMIT:,}; "
            f"Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}, {os.cpu_count()} cores.",
            "",
            "SQLite in /dev/shm, session touches + appends per second from threads of one process:",
            "",
            "| connections | 1 thread | 8 threads | 32 threads |",
            "|---|---|---|---|",
            *choices,
            *(
                [
                    "",
                    f"faultproof serve under wrk -t2 -c32 -d{o.wrk}s (wrk on the same 2 cores), "
                    "Alana's rate limit raised:",
                    "",
                    "| store | workers | canned 429/s | mean latency | happy GET/s | latency |",
                    "|---|---|---|---|---|---|",
                    *served,
                ]
                if served
                else []
            ),
        ]
    )
    print(text)
    if o.out:
        o.out.write_text(
            f"# Store operations\n\nCommand: `python bench/store_ops.py --ops {o.ops} "
            f"--wrk {o.wrk} --out {o.out}`\n\n{text}\n"
        )


if __name__ == "__main__":
    main()
