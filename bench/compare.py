"""faultproof against WireMock and Prism, one workload, one run: throughput, latency, start, RSS.

Usage: python bench/compare.py [--duration 10] [--warmup 10] [--cold-runs 3] [--settle 1.0]
                               [--variant LABEL=OPTIONS] [--only NAME]
                               [--out bench/results/compare] [-- extra faultproof serve options]

Servers (``bench/peers.py``): ``faultproof serve`` with no server option (whatever it starts by
default; its banner and process tree are recorded), each ``--variant``, WireMock with its
defaults and with ``--no-request-journal``, Prism ``-v silent``. For each: wait until the
1-minute load average is under ``--settle`` (bounded by ``--settle-max``), start it
``--cold-runs`` times, timing launch to the first exact answer (median reported; the last one
stays up), RSS idle, a ``--warmup`` of wrk at 32 connections (the JVM needs it), then
``wrk --latency`` for ``--duration`` seconds at 32 connections and at 1, then RSS after load.
RSS is the whole process tree (a server's workers, node and its java child). Every wrk answer
must be the 429 (wrk counts non-2xx answers; socket errors or a 2xx fail the run). Ratios are
faultproof over each peer; each goal of issue 13 that this run can decide is marked met or
missed. wrk comes from Debian's package (installed with apt-get when missing). Writes
``<out>.md`` and ``<out>.json``; the load average is recorded before and after each server,
because the 2 cores are shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers

HERE = Path(__file__).resolve().parent

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)


def processes(pid: int) -> list[dict[str, Any]]:
    """``pid`` and all its descendants from /proc: pid, name, threads and RSS (kB) of each."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        fields = dict(re.findall(r"^(\w+):\s+(\S+)", status, re.M))
        found.append(
            {
                "pid": current,
                "name": fields.get("Name", "?"),
                "threads": int(fields.get("Threads", 0)),
                "rss_kb": int(fields.get("VmRSS", 0)),
            }
        )
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, from /proc, in MB."""
    return sum(p["rss_kb"] for p in processes(pid)) / 1024


def tree_threads(pid: int) -> int:
    """Threads of ``pid`` and all its descendants."""
    return sum(p["threads"] for p in processes(pid))


def describe(pid: int, log: Path | None = None) -> str:
    """What is serving: the first stderr line (faultproof's banner names its server) and the
    process tree (names, threads)."""
    tree = ", ".join(f"{p['name']} ({p['threads']} threads)" for p in processes(pid))
    banner = ""
    if log is not None and log.exists():
        lines = log.read_text(errors="replace").splitlines()
        banner = next((line for line in lines if line.startswith("faultproof:")), "")
    return f"{banner} [{tree}]" if banner else f"[{tree}]"


def git_head() -> str:
    out = subprocess.run(
        ["git", "log", "-1", "--format=%h %s"], capture_output=True, text=True, cwd=HERE.parent
    )
    return out.stdout.strip()[:100]


def code_under_test() -> str:
    """Where ``faultproof serve`` is imported from (PYTHONPATH may point at a snapshot of a
    commit), and how many files under mocks/ and contracts/ differ from HEAD when that is this
    working tree. A snapshot is made with
    ``git archive HEAD contracts mocks | tar -x -C DIR/faultproof`` and
    ``git log -1 --format='%h %s' > DIR/COMMIT``, then ``PYTHONPATH=DIR``."""
    where = subprocess.run(
        [sys.executable, "-c", "import faultproof.mocks as m; print(m.__path__[0])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if Path(where).resolve() != (HERE.parent / "mocks").resolve():
        stamp = Path(where).parent.parent / "COMMIT"  # written beside a `git archive` snapshot
        commit = f", snapshot of {stamp.read_text().strip()}" if stamp.exists() else ""
        return f"{where} (PYTHONPATH={os.environ.get('PYTHONPATH', '')}{commit})"
    dirty = subprocess.run(
        ["git", "status", "--short", "mocks", "contracts"],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
    ).stdout.splitlines()
    return f"{where} (working tree, {len(dirty)} files under mocks/ and contracts/ not committed)"


def settle(below: float, limit_s: float) -> dict[str, Any]:
    """Wait (at most ``limit_s``) until the 1-minute load average is under ``below``."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if float(load_average().split()[0]) < below:
            break
        time.sleep(5)
    return {"waited_s": round(time.monotonic() - started), "load": load_average()}


def wrk_command(url: str, connections: int, seconds: float, threads: int = 2) -> list[str]:
    """wrk with ``Prefer: code=429`` and its latency distribution."""
    threads = min(threads, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    return [*command, "-H", f"Prefer: {peers.PREFER}", url]


def parse_wrk(out: str) -> dict[str, Any]:
    """requests/s, p50, p99 and the count of one wrk run; every answer must be a non-2xx (the
    429), with no socket errors."""
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if re.search(r"Socket errors", out) or not non2xx or int(non2xx.group(1)) != total:
        raise RuntimeError(f"wrk saw answers other than the 429 or socket errors:\n{out}")

    def percentile(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * UNITS[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50_ms": percentile("50"), "p99_ms": percentile("99"), "requests": total}


def wrk(url: str, connections: int, seconds: float) -> dict[str, Any]:
    """One wrk run with ``Prefer: code=429``; every answer must be a non-2xx (the 429)."""
    command = wrk_command(url, connections, seconds)
    return parse_wrk(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(server: peers.Server, options: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if options.settle:
        result["settle"] = settle(options.settle, options.settle_max)
    starts, proc = [], None
    log = Path(tempfile.mkstemp(prefix="bench-", suffix=".log")[1])
    for _ in range(options.cold_runs):
        if proc is not None:
            peers.stop(proc)
        port = peers.free_port()
        started = time.perf_counter()
        proc = server.start(port, log)
        starts.append(peers.first_answer(server.url(port), started))
    assert proc is not None
    result["load_before"] = load_average()
    try:
        time.sleep(2)
        result["serving"] = describe(proc.pid, log)
        result["cold_start_s"] = statistics.median(starts)
        result["cold_starts_s"] = [round(s, 3) for s in starts]
        result["rss_idle_mb"] = tree_rss_mb(proc.pid)
        url = server.url(port)
        wrk(url, 32, options.warmup)
        result["c32"] = wrk(url, 32, options.duration)
        result["c1"] = wrk(url, 1, options.duration)
        result["rss_after_mb"] = tree_rss_mb(proc.pid)
    finally:
        peers.stop(proc)
        log.unlink(missing_ok=True)
    result["load_after"] = load_average()
    print(f"{server.name}: {json.dumps(result)}", flush=True)
    return result


FIGURES = (
    ("requests/s, 32 connections", ("c32", "rps"), "{:,.0f}"),
    ("p50, 32 connections (ms)", ("c32", "p50_ms"), "{:.2f}"),
    ("p99, 32 connections (ms)", ("c32", "p99_ms"), "{:.2f}"),
    ("requests/s, 1 connection", ("c1", "rps"), "{:,.0f}"),
    ("p50, 1 connection (ms)", ("c1", "p50_ms"), "{:.2f}"),
    ("p99, 1 connection (ms)", ("c1", "p99_ms"), "{:.2f}"),
    ("cold start to first exact answer (s)", ("cold_start_s",), "{:.2f}"),
    ("RSS idle (MB, process tree)", ("rss_idle_mb",), "{:.0f}"),
    ("RSS after load (MB, process tree)", ("rss_after_mb",), "{:.0f}"),
)
WIREMOCK, PRISM = "WireMock (defaults)", "Prism (-v silent)"
# (goal, figure, peer or None for an absolute bound, bound, True when higher is better)
GOALS: tuple[tuple[str, tuple[str, ...], str | None, float, bool], ...] = (
    (
        "requests/s at 32 connections >= 1.0x WireMock (defaults)",
        ("c32", "rps"),
        WIREMOCK,
        1.0,
        True,
    ),
    ("requests/s at 32 connections >= 2x Prism", ("c32", "rps"), PRISM, 2.0, True),
    ("p99 at 32 connections <= 0.2x WireMock (defaults)", ("c32", "p99_ms"), WIREMOCK, 0.2, False),
    ("cold start <= 0.3 s", ("cold_start_s",), None, 0.3, False),
    (
        "RSS after load <= 150 MB (flat over a million: bench/rss_million.py)",
        ("rss_after_mb",),
        None,
        150,
        False,
    ),
)


def figure(result: dict[str, Any], path: tuple[str, ...]) -> float:
    value: Any = result
    for key in path:
        value = value[key]
    return float(value)


def goals(results: dict[str, dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Each goal for faultproof row ``name``: its value, the ratio (or the bound), met or not."""
    verdicts = []
    for text, path, peer, bound, higher in GOALS:
        if peer is not None and peer not in results:
            continue
        value = figure(results[name], path)
        measured = value / figure(results[peer], path) if peer else value
        met = measured >= bound if higher else measured <= bound
        verdicts.append({"goal": text, "measured": measured, "ratio": peer is not None, "met": met})
    return verdicts


def markdown(results: dict[str, dict[str, Any]], command: str, options: argparse.Namespace) -> str:
    names = list(results)
    ours = [n for n in names if n.startswith("faultproof")]
    pairs = [(o, p) for o in ours for p in names if p not in ours]
    lines = [
        "# faultproof against WireMock and Prism (one run)",
        "",
        f"Command: `{command}`  ",
        f"Commit: {git_head()}  ",
        f"faultproof code: {code_under_test()}  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores shared by wrk and the server, "
        f"Python {platform.python_version()}; wrk {options.duration:g} s per figure after a "
        f"{options.warmup:g} s warm-up at 32 connections; cold start is the median of "
        f"{options.cold_runs} launches. Journal on for faultproof. Ratios are faultproof over "
        "the peer (above 1 is better for requests/s, below 1 for latency, start and memory).",
        "",
        "What served each row:",
        "",
        *(f"- {n}: {results[n]['serving']}" for n in names),
        "",
        "| figure | "
        + " | ".join(names)
        + " | "
        + " | ".join(f"{o} / {p}" for o, p in pairs)
        + " |",
        "|---" * (1 + len(names) + len(pairs)) + "|",
    ]
    for label, path, fmt in FIGURES:
        values = {n: figure(results[n], path) for n in names}
        ratios = [f"{values[o] / values[p]:.2f}" if values[p] else "-" for o, p in pairs]
        lines.append(f"| {label} | " + " | ".join(fmt.format(v) for v in values.values()) + " | ")
        lines[-1] += " | ".join(ratios) + " |"
    lines += ["", "Load average (1, 5, 15 min) before -> after each server:", ""]
    for n in names:
        waited = results[n].get("settle")
        note = ""
        if waited:
            reached = float(waited["load"].split()[0]) < options.settle
            note = (
                f" (waited {waited['waited_s']} s: the 1-min load "
                + ("fell" if reached else "did not fall")
                + f" under {options.settle:g})"
            )
        lines.append(f"- {n}: {results[n]['load_before']} -> {results[n]['load_after']}{note}")
    lines += ["", "Goals (faultproof with its journal on):", ""]
    for name in ours:
        for verdict in goals(results, name):
            shown = (
                f"{verdict['measured']:.2f}x"
                if verdict["ratio"]
                else f"{verdict['measured']:.3g} {'s' if 'cold' in verdict['goal'] else 'MB'}"
            )
            met = "**met**" if verdict["met"] else "**missed**"
            lines.append(f"- {name}, {verdict['goal']}: {shown}, {met}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--only", action="append", help="Only servers whose name starts so.")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=OPTIONS",
        help="Also measure `faultproof serve OPTIONS` as 'faultproof (LABEL)', "
        "e.g. --variant 'granian=--server granian' (repeatable).",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=1.0,
        metavar="LOAD",
        help="Before each server, wait until the 1-minute load average is under LOAD "
        "(0: do not wait).",
    )
    parser.add_argument("--settle-max", type=float, default=150, help="Longest wait (s).")
    parser.add_argument("--out", type=Path)
    parser.add_argument("serve_args", nargs="*", help="Extra `faultproof serve` options.")
    options = parser.parse_args()
    ensure_wrk()
    peers.install()
    variants = tuple(tuple(v.split("=", 1)) for v in options.variant)
    chosen = [
        s
        for s in peers.servers(tuple(options.serve_args), variants)  # type: ignore[arg-type]
        if not options.only or s.name.startswith(tuple(options.only))
    ]
    results = {server.name: measure(server, options) for server in chosen}
    command = "python bench/compare.py " + " ".join(sys.argv[1:])
    report = markdown(results, command, options)
    print(report)
    if options.out:
        options.out.with_suffix(".md").write_text(report)
        verdicts = {n: goals(results, n) for n in results if n.startswith("faultproof")}
        record = {
            "command": command,
            "commit": git_head(),
            "faultproof_code": code_under_test(),
            "machine": platform.platform(),
            "results": results,
            "goals": verdicts,
        }
        options.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
