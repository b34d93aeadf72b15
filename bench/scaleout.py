"""Scale-out of `faultproof serve`: --workers 2 and two replicas on Redis against one process.

Usage: python bench/scaleout.py [--duration 10] [--warmup 5] [--sqlite] [--settle 1.0]
                                [--out bench/results/scaleout] [-- extra serve options]

Every configuration runs ``faultproof serve`` with no server option (whatever it starts by
default; banner and process tree recorded) and the journal on, on the workload of
``bench/compare.py`` (the canned 87-byte 429, every answer checked by wrk's non-2xx count):

- one process on memory (the baseline of every ratio);
- one process on Redis (what the store costs before any scaling);
- ``--workers 2 --state redis://...``;
- two replicas, each ``--state redis://...`` on its own port, sharing one Redis database;
- with ``--sqlite``, also ``--workers 2 --state sqlite://`` (this host's embedded shared store).

Redis is a real ``redis-server`` on a free loopback port, with no persistence, started and
stopped here. The load is the same for every configuration: two wrk processes at once, each
``-t1 -c16`` (32 connections in all); on the two replicas each wrk drives one replica, so the
two wrk processes are the load balancer (nginx would take CPU from the same 2 cores and add a
hop the single-process baseline does not have). Requests/s is the sum of both; p50 and p99
are the worse of the two. After the run, the journal of the default session is read through
every port: on a shared store every port must report the same total (kept + dropped), at least
the requests wrk counted. Redis is flushed before each configuration.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers
from compare import (
    code_under_test,
    describe,
    ensure_wrk,
    git_head,
    load_average,
    parse_wrk,
    settle,
    tree_rss_mb,
    wrk_command,
)


def start_redis(folder: str) -> tuple[subprocess.Popen[bytes], str]:
    """A throwaway redis-server on a free loopback port, answering PING within 10 s."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    port = peers.free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", folder]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.05)
    peers.stop(proc)
    sys.exit("redis-server did not start within 10 s")


def two_wrk(urls: list[str], seconds: float) -> dict[str, Any]:
    """Two wrk processes at once, ``-t1 -c16`` each, one per url (the same url twice for one
    port): summed requests/s, the worse p50/p99."""
    runs = [
        subprocess.Popen(
            wrk_command(url, 16, seconds, threads=1), stdout=subprocess.PIPE, text=True
        )
        for url in urls
    ]
    outs = [run.communicate(timeout=seconds + 60)[0] for run in runs]
    parts = [parse_wrk(out) for out in outs]
    return {
        "rps": sum(p["rps"] for p in parts),
        "p50_ms": max(p["p50_ms"] for p in parts),
        "p99_ms": max(p["p99_ms"] for p in parts),
        "requests": sum(p["requests"] for p in parts),
        "per_wrk_rps": [p["rps"] for p in parts],
    }


def journal_total(port: int) -> int:
    journal = httpx.get(
        f"http://127.0.0.1:{port}/__faultproof/sessions/default/journal", timeout=30
    ).json()
    return len(journal["entries"]) + int(journal["dropped"])


def measure(name: str, replicas: list[tuple[str, ...]], options: argparse.Namespace) -> dict:
    result: dict[str, Any] = {}
    if options.settle:
        result["settle"] = settle(options.settle, options.settle_max)
    result["load_before"] = load_average()
    started: list[tuple[subprocess.Popen[bytes], int, Path]] = []
    try:
        for args in replicas:
            server = peers.faultproof(*args, *options.serve_args)
            port = peers.free_port()
            log = Path(tempfile.mkstemp(prefix="bench-scale-", suffix=".log")[1])
            started.append((server.start(port, log), port, log))
            peers.first_answer(server.url(port), time.perf_counter())
        time.sleep(1)
        result["serving"] = [describe(proc.pid, log) for proc, _, log in started]
        url = "http://127.0.0.1:{}/alana" + peers.PATH
        ports = [port for _, port, _ in started]
        urls = [url.format(ports[0]), url.format(ports[-1])]
        before = journal_total(ports[0])
        two_wrk(urls, options.warmup)
        result.update(two_wrk(urls, options.duration))
        result["rss_mb"] = sum(tree_rss_mb(proc.pid) for proc, _, _ in started)
        totals = [journal_total(port) for port in ports]
        result["journal_totals"] = totals
        result["journal_ok"] = len(set(totals)) == 1 and totals[0] - before >= result["requests"]
    finally:
        for proc, _, log in started:
            peers.stop(proc)
            log.unlink(missing_ok=True)
    result["load_after"] = load_average()
    print(f"{name}: {json.dumps(result)}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--sqlite", action="store_true", help="Also --workers 2 on sqlite://.")
    parser.add_argument("--settle", type=float, default=1.0, metavar="LOAD")
    parser.add_argument("--settle-max", type=float, default=150)
    parser.add_argument("--out", type=Path)
    parser.add_argument("serve_args", nargs="*", help="Extra `faultproof serve` options.")
    options = parser.parse_args()
    ensure_wrk()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        redis_proc, redis_url = start_redis(folder)
        try:
            configs: list[tuple[str, list[tuple[str, ...]]]] = [
                ("one process, memory", [()]),
                ("one process, Redis", [("--state", redis_url)]),
                ("--workers 2, Redis", [("--workers", "2", "--state", redis_url)]),
                ("two replicas, Redis", [("--state", redis_url), ("--state", redis_url)]),
            ]
            if options.sqlite:
                configs.append(
                    ("--workers 2, SQLite", [("--workers", "2", "--state", "sqlite://")])
                )
            for name, replicas in configs:
                redis.Redis.from_url(redis_url).flushall()  # each configuration starts empty
                results[name] = measure(name, replicas, options)
        finally:
            peers.stop(redis_proc)
    base = results["one process, memory"]
    command = "python bench/scaleout.py " + " ".join(sys.argv[1:])
    lines = [
        "# Scale-out of `faultproof serve` (one run)",
        "",
        f"Command: `{command}`  ",
        f"Commit: {git_head()}  ",
        f"faultproof code: {code_under_test()}  ",
        f"Machine: {platform.platform()}, 2 cores shared by wrk, the servers and Redis, Python "
        f"{platform.python_version()}; two wrk processes at once (`-t1 -c16` each, one per "
        f"replica: the load balancer), {options.duration:g} s after a {options.warmup:g} s "
        "warm-up; journal on. Ratio: requests/s over one process on memory.",
        "",
        "| configuration | requests/s | ratio | p50 (ms) | p99 (ms) | RSS (MB) "
        "| journal total per port (same on every port) | load before -> after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['rps']:,.0f} | {r['rps'] / base['rps']:.2f} | {r['p50_ms']:.2f} "
            f"| {r['p99_ms']:.2f} | {r['rss_mb']:.0f} "
            f"| {' / '.join(str(t) for t in r['journal_totals'])} "
            f"({'yes' if r['journal_ok'] else 'NO'}) | {r['load_before']} -> {r['load_after']} |"
        )
    lines += ["", "What served each configuration:", ""]
    for name, r in results.items():
        lines += [f"- {name}: " + "; ".join(r["serving"])]
    report = "\n".join(lines) + "\n"
    print(report)
    if options.out:
        options.out.with_suffix(".md").write_text(report)
        record = {"command": command, "commit": git_head(), "results": results}
        options.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
