"""Import GitHub's OpenAPI description, then grade the reference client against it.

Goal (issue 17): the import under 10 s and 300 MB on this machine. The document comes from the
npm package @octokit/openapi (``npm pack @octokit/openapi@23.0.2``, then unpack it).

Usage: python bench/github_import.py PATH/TO/api.github.com.json [--runs 3]
Writes bench/results/github_import.md, and the run's reports beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def _import(document: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``faultproof import openapi`` process."""
    command = [sys.executable, "-m", "faultproof", "import", "openapi", str(document)]
    command += ["--id", "github", "--out", str(out)]
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.DEVNULL) as process:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = status
    wall = time.perf_counter() - started
    if status != 0:
        sys.exit(f"the import failed with status {status}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("document", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="github-catalogue-"))
    measured = [_import(args.document, out) for _ in range(args.runs)]
    walls = [w for w, _ in measured]
    peaks = [m for _, m in measured]
    catalogue = (out / "providers" / "github.yaml").stat().st_size / 1e6
    report = RESULTS / "github_run.json"
    started = time.perf_counter()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "faultproof",
            "run",
            "--catalogue",
            str(out),
            "--provider",
            "github",
            "--client-cmd",
            f"{sys.executable} {HERE.parent / 'examples' / 'reference_client.py'}",
            "--workers",
            "8",
            "--json",
            str(report),
            "--markdown",
            str(RESULTS / "github_run.md"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    run_s = time.perf_counter() - started
    results = json.loads(report.read_text())["results"]
    verdicts = {
        v: sum(r["verdict"] == v for r in results)
        for v in ("pass", "fail", "warn", "flaky", "skip")
    }
    lines = [
        "# GitHub's OpenAPI description: import and grading",
        "",
        f"Command: `python bench/github_import.py {args.document.name} --runs {args.runs}` "
        f"({args.document.stat().st_size / 1e6:.1f} MB document, @octokit/openapi 23.0.2).",
        "",
        "| measure | value | goal |",
        "|---|---|---|",
        f"| import wall time, median of {args.runs} | {statistics.median(walls):.2f} s "
        f"(max {max(walls):.2f} s) | under 10 s |",
        f"| import peak RSS, max of {args.runs} | {max(peaks):.0f} MB | under 300 MB |",
        f"| catalogue written | {catalogue:.1f} MB YAML | |",
        f"| reference client, every github scenario and fault | {len(results)} scenarios in "
        f"{run_s:.1f} s: {verdicts} (exit {run.returncode}) | |",
        "",
        "Reports of the run: `github_run.json`, `github_run.md`.",
    ]
    (RESULTS / "github_import.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
