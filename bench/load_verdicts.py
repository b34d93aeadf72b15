"""Verdicts of the reference client on a quiet and on a busy machine: they must not differ.

Usage: python bench/load_verdicts.py [--busy-runs 3] [--load stress-ng|python] [--out FILE]

Runs the whole catalogue with default options through ``faultproof run`` (a fresh process, as
a user runs it), once on a quiet machine, then ``--busy-runs`` times while the machine is kept
busy (``stress-ng --cpu 4``, or as many Python busy loops when stress-ng is missing), for both
adapters: the subprocess protocol (``--client-cmd``) and ``--client-py``. Records every run's
summary, its wall time against the quiet run, and each failed or flaky scenario by name. The
goal (issue 12): no failure and no flaky result for the reference client, and a busy run's wall
time within 1.5x of the quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = {
    "subprocess": ["--client-cmd", f"{sys.executable} examples/reference_client.py"],
    "python": ["--client-py", "examples.reference_client:client"],
}


@contextmanager
def busy(load: str, workers: int) -> Iterator[str]:
    """Keep the machine busy while the block runs; yields what keeps it busy."""
    if load == "stress-ng" and shutil.which("stress-ng"):
        command = ["stress-ng", "--cpu", str(workers), "--timeout", "3600s", "--quiet"]
        label = f"stress-ng --cpu {workers}"
    else:
        forks = f"for _ in range({workers - 1}): os.fork() or exec('while True: pass')"
        command = [sys.executable, "-c", f"import os\n{forks}\nwhile True: pass\n"]
        label = f"{workers} Python busy loops"
    process = subprocess.Popen(command, start_new_session=True)
    try:
        time.sleep(1.0)  # let the load settle before the run starts
        yield label
    finally:
        os.killpg(process.pid, 9)
        process.wait()


def load_average() -> float:
    return os.getloadavg()[0]


def run_once(adapter: str) -> dict[str, object]:
    """One ``faultproof run`` of the whole catalogue; its summary, wall time and findings."""
    with tempfile.TemporaryDirectory() as folder:
        report_path = Path(folder) / "report.json"
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "faultproof.mocks.cli",
                "run",
                *CLIENTS[adapter],
                "--json",
                str(report_path),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - started
        if not report_path.exists():
            raise SystemExit(
                f"faultproof run wrote no report (exit {done.returncode}):\n{done.stderr[-2000:]}"
            )
        report = json.loads(report_path.read_text())
    findings = [
        {
            "scenario": r["scenario"],
            "provider": r["provider"],
            "verdict": r["verdict"],
            "checks": [f"{c['id']}: {c['detail']}" for c in r["checks"] if c["verdict"] == "fail"],
        }
        for r in report["results"]
        if r["verdict"] in ("fail", "flaky")
    ]
    return {
        "adapter": adapter,
        "exit": done.returncode,
        "wall_s": round(wall, 1),
        "summary": report["summary"],
        "reruns": report.get("meta", {}).get("reruns"),
        "findings": findings,
        "load_average_after": round(load_average(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy-runs", type=int, default=3)
    parser.add_argument("--load", choices=("stress-ng", "python"), default="stress-ng")
    parser.add_argument("--load-workers", type=int, default=4)
    parser.add_argument("--adapter", choices=tuple(CLIENTS), action="append")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/load_verdicts.md")
    options = parser.parse_args()
    runs: list[dict[str, object]] = []
    for adapter in options.adapter or list(CLIENTS):
        quiet = {**run_once(adapter), "machine": f"quiet (load {load_average():.1f} before)"}
        runs.append(quiet)
        print(json.dumps(quiet), flush=True)
        for _ in range(options.busy_runs):
            with busy(options.load, options.load_workers) as label:
                row = {**run_once(adapter), "machine": label}
            row["wall_vs_quiet"] = round(float(row["wall_s"]) / float(quiet["wall_s"]), 2)
            runs.append(row)
            print(json.dumps(row), flush=True)
    lines = [
        "# Reference-client verdicts on a quiet and a busy machine",
        "",
        f"Command: `python bench/load_verdicts.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores",
        "",
        "| adapter | machine | scenarios | passed | failed | warned | flaky | skipped | reruns "
        "| wall | vs quiet | load after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in runs:
        s = row["summary"]
        assert isinstance(s, dict)
        lines.append(
            f"| {row['adapter']} | {row['machine']} | {s['scenarios']} | {s['passed']} "
            f"| {s['failed']} | {s.get('warned', '-')} | {s.get('flaky', '-')} "
            f"| {s['skipped']} | {row['reruns']} | {row['wall_s']} s "
            f"| {row.get('wall_vs_quiet', '1.00')} | {row['load_average_after']} |"
        )
    findings = [(row, f) for row in runs for f in row["findings"]]  # type: ignore[attr-defined]
    lines += ["", "## Failed or flaky scenarios", ""]
    lines += [
        f"- {row['adapter']}, {row['machine']}: {f['scenario']} on {f['provider']} "
        f"({f['verdict']}): {'; '.join(f['checks'])}"
        for row, f in findings
    ] or ["None."]
    options.out.write_text("\n".join(lines) + "\n")
    (options.out.with_suffix(".json")).write_text(json.dumps(runs, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
