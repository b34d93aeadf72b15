"""faultproof against WireMock and Prism, one workload, one run: throughput, latency, start, RSS.

Usage: python bench/compare.py [--duration 10] [--warmup 10] [--cold-runs 3]
                               [--out bench/results/compare] [-- extra faultproof serve options]

For each server (``bench/peers.py``): start it ``--cold-runs`` times, timing launch to the first
exact answer (median reported; the last one stays up), RSS idle, a ``--warmup`` of wrk at 32
connections (the JVM needs it), then ``wrk --latency`` for ``--duration`` seconds at 32
connections and at 1, then RSS after load. RSS is the whole process tree (gunicorn's arbiter
and worker, node and its java child). Every wrk answer must be the 429 (wrk counts non-2xx
answers; socket errors or a 2xx fail the run). Ratios are faultproof over each peer. wrk comes
from Debian's package (installed with apt-get when missing). Writes ``<out>.md`` and
``<out>.json``; the load average is recorded before and after each server, because the 2 cores
are shared.
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
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, from /proc, in MB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    total_kb, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total_kb += int(found.group(1)) if found else 0
    return total_kb / 1024


def wrk(url: str, connections: int, seconds: float) -> dict[str, Any]:
    """One wrk run with ``Prefer: code=429``; every answer must be a non-2xx (the 429)."""
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    command += ["-H", f"Prefer: {peers.PREFER}", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if re.search(r"Socket errors", out) or not non2xx or int(non2xx.group(1)) != total:
        raise RuntimeError(f"wrk saw answers other than the 429 or socket errors:\n{out}")

    def percentile(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * UNITS[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50_ms": percentile("50"), "p99_ms": percentile("99"), "requests": total}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(server: peers.Server, options: argparse.Namespace) -> dict[str, Any]:
    starts, proc = [], None
    for _ in range(options.cold_runs):
        if proc is not None:
            peers.stop(proc)
        port = peers.free_port()
        started = time.perf_counter()
        proc = server.start(port)
        starts.append(peers.first_answer(server.url(port), started))
    assert proc is not None
    result: dict[str, Any] = {"load_before": load_average()}
    try:
        time.sleep(2)
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
    result["load_after"] = load_average()
    print(f"{server.name}: {json.dumps(result)}", flush=True)
    return result


FIGURES = (
    ("rps c32", ("c32", "rps"), "{:.0f}"),
    ("p50 c32 (ms)", ("c32", "p50_ms"), "{:.2f}"),
    ("p99 c32 (ms)", ("c32", "p99_ms"), "{:.2f}"),
    ("rps c1", ("c1", "rps"), "{:.0f}"),
    ("p50 c1 (ms)", ("c1", "p50_ms"), "{:.2f}"),
    ("p99 c1 (ms)", ("c1", "p99_ms"), "{:.2f}"),
    ("cold start (s)", ("cold_start_s",), "{:.2f}"),
    ("RSS idle (MB)", ("rss_idle_mb",), "{:.0f}"),
    ("RSS after load (MB)", ("rss_after_mb",), "{:.0f}"),
)


def figure(result: dict[str, Any], path: tuple[str, ...]) -> float:
    value: Any = result
    for key in path:
        value = value[key]
    return float(value)


def markdown(results: dict[str, dict[str, Any]], command: str, options: argparse.Namespace) -> str:
    names = list(results)
    ours = [n for n in names if n.startswith("faultproof")]
    pairs = [(o, p) for o in ours for p in names if p not in ours]
    lines = [
        "# faultproof against WireMock and Prism (one run)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores shared by wrk and the server, "
        f"Python {platform.python_version()}; wrk {options.duration:g} s per figure after a "
        f"{options.warmup:g} s warm-up; cold start is the median of {options.cold_runs} launches.",
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
    lines += [f"- {n}: {results[n]['load_before']} -> {results[n]['load_after']}" for n in names]
    goals = [
        ("throughput c32 >= WireMock (defaults)", "WireMock (defaults)", 1.0),
        ("throughput c32 >= 2 x Prism", "Prism (-v silent)", 2.0),
    ]
    lines += ["", "Goals (faultproof with its journal on):", ""]
    for name in ours:
        for text, peer, factor in goals:
            if peer in results:
                ratio = figure(results[name], ("c32", "rps")) / figure(
                    results[peer], ("c32", "rps")
                )
                verdict = "met" if ratio >= factor else "missed"
                lines.append(f"- {name}, {text}: {ratio:.2f}x, {verdict}")
        cold = results[name]["cold_start_s"]
        verdict = "met" if cold <= 0.3 else "missed"
        lines.append(f"- {name}, cold start <= 0.3 s: {cold:.3f} s, {verdict}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--only", action="append", help="Only servers whose name starts so.")
    parser.add_argument("--out", type=Path)
    parser.add_argument("serve_args", nargs="*", help="Extra `faultproof serve` options.")
    options = parser.parse_args()
    ensure_wrk()
    peers.install()
    chosen = [
        s
        for s in peers.servers(tuple(options.serve_args))
        if not options.only or s.name.startswith(tuple(options.only))
    ]
    results = {server.name: measure(server, options) for server in chosen}
    command = "python bench/compare.py " + " ".join(sys.argv[1:])
    report = markdown(results, command, options)
    print(report)
    if options.out:
        options.out.with_suffix(".md").write_text(report)
        record = {"command": command, "machine": platform.platform(), "results": results}
        options.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
