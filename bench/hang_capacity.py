"""Health latency of `faultproof serve` while many connections hang, and what holding them costs.

Usage: python bench/hang_capacity.py [--hangs 1000] [--probes 50] [--probe-timeout 2]
                                     [--out bench/results/hang_capacity.md] [-- serve options]

Starts ``faultproof serve`` with no server option (whatever it starts by default; its banner
and process tree are recorded), opens ``--hangs`` connections asking for ``fault.hang``
(``max_s=120``, so every hang ends by itself), and waits (at most ``--hold-wait`` s) until the
default session's journal shows them all in flight. While they are held: RSS and threads of the
server's process tree, then ``--probes`` sequential ``GET /__faultproof/health``, each with a
``--probe-timeout`` (goal: every one within 100 ms; a probe that times out counts as missed).
Then every client leaves, and the time until the journal shows no request in flight is
recorded (a hang notices its client within one 50 ms step), bounded by 60 s.
tests/mock/test_hangs_capacity.py asserts the same behaviour without timing it.
"""

from __future__ import annotations

import argparse
import platform
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers
from compare import code_under_test, describe, git_head, load_average, processes

HANG_REQUEST = (
    b"GET /alana/api/v1/products/1 HTTP/1.1\r\nHost: m\r\n"
    b"Prefer: scenario=fault.hang, max_s=120\r\n\r\n"
)
GOAL_MS = 100.0


def in_flight(client: httpx.Client) -> int | None:
    """Requests in flight in the default session's journal, or None when it does not answer."""
    try:
        return int(client.get("/__faultproof/sessions/default/journal").json()["in_flight"])
    except httpx.HTTPError:
        return None


def wait_in_flight(client: httpx.Client, done: Any, limit_s: float) -> tuple[int | None, float]:
    """Poll until ``done(in_flight)`` or ``limit_s`` passes: the last count and the seconds."""
    started = time.perf_counter()
    count = in_flight(client)
    while not done(count) and time.perf_counter() - started < limit_s:
        time.sleep(0.05)
        count = in_flight(client)
    return count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hangs", type=int, default=1000)
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--probe-timeout", type=float, default=2.0)
    parser.add_argument("--hold-wait", type=float, default=20.0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("serve_args", nargs="*", help="Extra `faultproof serve` options.")
    options = parser.parse_args()
    server = peers.faultproof(*options.serve_args)
    port = peers.free_port()
    log = Path(tempfile.mkstemp(prefix="bench-hang-", suffix=".log")[1])
    load_before = load_average()
    proc = server.start(port, log)
    base = f"http://127.0.0.1:{port}"
    hung: list[socket.socket] = []
    try:
        peers.first_answer(server.url(port), time.perf_counter())
        serving = describe(proc.pid, log)
        idle = processes(proc.pid)
        with httpx.Client(base_url=base, timeout=options.probe_timeout) as client:
            for _ in range(options.hangs):
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                sock.sendall(HANG_REQUEST)
                hung.append(sock)
            held, held_after_s = wait_in_flight(
                client, lambda n: n is not None and n >= options.hangs, options.hold_wait
            )
            holding = processes(proc.pid)
            probes: list[float | None] = []
            for _ in range(options.probes):
                started = time.perf_counter()
                try:
                    ok = client.get("/__faultproof/health").status_code == 200
                except httpx.HTTPError:
                    ok = False
                probes.append((time.perf_counter() - started) * 1000 if ok else None)
            left = time.perf_counter()
            for sock in hung:
                sock.close()
            hung.clear()
            remaining, _ = wait_in_flight(client, lambda n: n == 0, 60)
            freed_s = time.perf_counter() - left
    finally:
        for sock in hung:
            sock.close()
        peers.stop(proc)
        log.unlink(missing_ok=True)
    load_after = load_average()
    answered = [p for p in probes if p is not None]
    timeouts = len(probes) - len(answered)
    met = timeouts == 0 and max(answered) < GOAL_MS
    rss = sum(p["rss_kb"] for p in holding) / 1024
    rss_idle = sum(p["rss_kb"] for p in idle) / 1024
    threads = sum(p["threads"] for p in holding)
    threads_idle = sum(p["threads"] for p in idle)
    median = f"{statistics.median(answered):.1f} ms" if answered else "-"
    worst = f"{max(answered):.1f} ms" if answered else "-"
    freed = f"{freed_s:.2f} s" if remaining == 0 else f"not within 60 s ({remaining} in flight)"
    command = "python bench/hang_capacity.py " + " ".join(sys.argv[1:])
    report = (
        f"# Health while {options.hangs} connections hang (`faultproof serve`, default server)\n\n"
        f"Command: `{command}`  \n"
        f"Commit: {git_head()}  \n"
        f"faultproof code: {code_under_test()}  \n"
        f"Serving: {serving}  \n"
        f"Machine: {platform.platform()}, Python {platform.python_version()}; "
        f"load average {load_before} before, {load_after} after.\n\n"
        "| hangs opened | in flight in the journal | health probes | answered | median | max "
        "| RSS idle -> held (MB) | threads idle -> held | all hangs ended after clients left |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        f"| {options.hangs} | {held if held is not None else 'journal did not answer'} "
        f"(after {held_after_s:.1f} s) | {len(probes)} | {len(answered)} "
        f"({timeouts} timed out at {options.probe_timeout:g} s) | {median} | {worst} "
        f"| {rss_idle:.0f} -> {rss:.0f} | {threads_idle} -> {threads} | {freed} |\n\n"
        f"Goal: {options.hangs} held hangs while health answers in under {GOAL_MS:.0f} ms: "
        f"**{'met' if met else 'missed'}**.\n"
    )
    print(report)
    if options.out:
        options.out.write_text(report)


if __name__ == "__main__":
    main()
