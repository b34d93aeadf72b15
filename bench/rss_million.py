"""RSS of `faultproof serve` (journal on) over a million requests: flat, bounded by the journal.

Usage: python bench/rss_million.py [--requests 1000000] [--chunk 10]
                                   [--out bench/results/rss_million.md] [-- serve options]

``faultproof serve`` runs with no server option (whatever it starts by default; its banner and
process tree are recorded). wrk sends the canned 429 (``Prefer: code=429``) at 32 connections
in ``--chunk``-second runs until ``--requests`` answers are counted (at most 1,000 runs);
after each run the RSS of the whole process tree (every worker) is sampled from /proc. The
default session's journal keeps ``--journal-limit`` entries (10,000 by default) and counts
the rest as dropped, so memory must stop growing once the journal is full: the report gives
the samples, the peak, and the growth over the second half of the run.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers
from compare import (
    code_under_test,
    describe,
    ensure_wrk,
    git_head,
    load_average,
    tree_rss_mb,
    wrk,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=float, default=10)
    parser.add_argument("--out", type=Path)
    parser.add_argument("serve_args", nargs="*", help="Extra `faultproof serve` options.")
    options = parser.parse_args()
    ensure_wrk()
    server = peers.faultproof(*options.serve_args)
    port = peers.free_port()
    log = Path(tempfile.mkstemp(prefix="bench-rss-", suffix=".log")[1])
    proc = server.start(port, log)
    samples: list[tuple[int, float, float]] = []
    load = load_average()
    try:
        peers.first_answer(server.url(port), time.perf_counter())
        time.sleep(1)
        serving = describe(proc.pid, log)
        started, done = time.perf_counter(), 0
        samples.append((0, 0.0, tree_rss_mb(proc.pid)))
        for _ in range(1000):
            if done >= options.requests:
                break
            done += wrk(server.url(port), 32, options.chunk)["requests"]
            samples.append((done, time.perf_counter() - started, tree_rss_mb(proc.pid)))
            print(f"{done:>9} requests  {samples[-1][2]:6.1f} MB", flush=True)
        journal = httpx.get(
            f"http://127.0.0.1:{port}/__faultproof/sessions/default/journal", timeout=30
        ).json()
    finally:
        peers.stop(proc)
        log.unlink(missing_ok=True)
    load_after = load_average()
    kept, dropped = len(journal["entries"]), journal["dropped"]
    half = [rss for count, _, rss in samples if count >= done / 2]
    peak = max(rss for _, _, rss in samples)
    met = peak <= 150 and max(half) - min(half) < 5
    command = "python bench/rss_million.py " + " ".join(sys.argv[1:])
    lines = [
        "# RSS of `faultproof serve` over a million requests (journal on)",
        "",
        f"Command: `{command}`  ",
        f"Commit: {git_head()}  ",
        f"faultproof code: {code_under_test()}  ",
        f"Serving: {serving}  ",
        f"Machine: {platform.platform()}, Python {platform.python_version()}; "
        f"load average {load} before, {load_after} after.",
        "",
        f"{done} requests in {samples[-1][1]:.0f} s; journal: {kept} entries kept, "
        f"{dropped} dropped (counted). Peak RSS {peak:.1f} MB; over the second half "
        f"{min(half):.1f} to {max(half):.1f} MB (growth {max(half) - min(half):.1f} MB). "
        f"Goal (at most 150 MB and flat): **{'met' if met else 'missed'}** "
        "(flat: the second half grows less than 5 MB).",
        "",
        "| requests | seconds | RSS (MB) |",
        "|---|---|---|",
        *(f"| {count} | {seconds:.0f} | {rss:.1f} |" for count, seconds, rss in samples),
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if options.out:
        options.out.write_text(report)
    if peak > 150:
        sys.exit(f"peak RSS {peak:.1f} MB exceeds the 150 MB goal")


if __name__ == "__main__":
    main()
