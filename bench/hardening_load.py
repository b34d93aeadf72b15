"""100,000 requests at 32-way concurrency into sessions of a live mock; the journals' account.

Usage: python bench/hardening_load.py [--requests 100000] [--concurrency 32] [--sessions 8]
       [--journal-limit 10000] [--state memory|redis] [--out bench/results/hardening_load.md]

Issue 8, item 2: every session's journal holds exactly what it was sent, or counts the rest as
dropped at the bound. ``--state redis`` starts a throwaway ``redis-server`` on a free port.
Exits 1 on any discrepancy. The CI-sized version is ``tests/mock/test_load_sessions.py``.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests" / "mock")]

from conftest import _start, free_port  # noqa: E402  (the tests' way of starting `faultproof serve`)
from session_load import discrepancies, raised_limits, send  # noqa: E402


def _redis(folder: str) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", folder],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("redis-server did not start within 10 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--journal-limit", type=int, default=10_000)
    parser.add_argument("--state", choices=["memory", "redis"], default="memory")
    parser.add_argument("--out", type=Path)
    o = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = _redis(tmp) if o.state == "redis" else None
        store = server[1] if server else "memory"
        proc, url = _start(
            "--state", store, "--journal-limit", str(o.journal_limit), *raised_limits()
        )
        try:
            result = send(url, o.requests, o.concurrency, o.sessions)
        finally:
            proc.terminate()
            proc.communicate(timeout=15)
            if server:
                server[0].terminate()
                server[0].wait(timeout=10)
    problems = discrepancies(result)
    kept = sum(j["kept"] for j in result.journals.values())
    dropped = sum(j["dropped"] for j in result.journals.values())
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result.statuses.items()))
    text = "\n".join(
        [
            f"## {o.requests:,} requests into {o.sessions} sessions, {o.state} store",
            "",
            f"Command: `python bench/hardening_load.py --requests {o.requests} --concurrency "
            f"{o.concurrency} --sessions {o.sessions} --journal-limit {o.journal_limit} "
            f"--state {o.state}`  ",
            f"Machine: {platform.platform()}, {platform.processor() or 'cpu'}, "
            f"Python {platform.python_version()}; one `faultproof serve` worker (64 threads)",
            "",
            "| requests | concurrency | sessions | journal bound | kept | dropped (counted) | "
            "lost | transport errors | answers | time | rate |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            f"| {result.total:,} | {o.concurrency} | {o.sessions} | {o.journal_limit:,} | "
            f"{kept:,} | {dropped:,} | {result.total - kept - dropped} | {len(result.errors)} | "
            f"{statuses} | {result.seconds:.1f} s | {result.total / result.seconds:,.0f} req/s |",
            "",
            "Exact: "
            + (
                "yes, every session's kept + dropped = sent, seqs contiguous"
                if not problems
                else "; ".join(problems)
            ),
            "",
        ]
    )
    print(text)
    if o.out:
        with o.out.open("a") as out:
            out.write(text + "\n")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
