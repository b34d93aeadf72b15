"""schemathesis over every surface of a live mock (five providers, the control plane), recorded.

Usage: python bench/hardening_schemathesis.py [--max-examples 200] [--seed 1]
       [--out bench/results/hardening_schemathesis.md]

Issue 8, item 1: at least 1,000 generated cases in all, no unplanned 5xx, every answer valid
against the OpenAPI document. The same runs as ``tests/mock/test_openapi.py`` (which tries
fewer cases per surface in CI), with every default check; exits 1 when any surface fails.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests" / "mock")]

from conftest import _start  # noqa: E402  (the tests' way of starting `faultproof serve`)
from schemathesis_surfaces import SURFACES, SurfaceRun, run_surface, serve_args  # noqa: E402


def _one(surface: str, workdir: Path, max_examples: int, seed: int) -> SurfaceRun:
    proc, url = _start(*serve_args(surface))
    try:
        return run_surface(surface, url, workdir / surface, max_examples, seed)
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [_one(s, Path(tmp), options.max_examples, options.seed) for s in SURFACES]
    rows = [
        f"| {r.surface} | {r.report['operations']['tested']} | {r.cases} | "
        f"{r.report['test_cases']['with_failures']} | {r.report['running_time']:.1f} s |"
        for r in runs
    ]
    total = sum(r.cases for r in runs)
    failed = [r for r in runs if r.returncode != 0]
    text = "\n".join(
        [
            "# schemathesis over every surface of a live `faultproof serve`",
            "",
            f"Command: `python bench/hardening_schemathesis.py --max-examples "
            f"{options.max_examples} --seed {options.seed}`  ",
            f"Machine: {platform.platform()}, Python {platform.python_version()}; "
            f"schemathesis {runs[0].report['schemathesis_version']}, every default check",
            "",
            "| surface | operations | cases generated | cases failing | time |",
            "|---|---|---|---|---|",
            *rows,
            f"| **all** | {sum(r.report['operations']['tested'] for r in runs)} | **{total}** | "
            f"{sum(r.report['test_cases']['with_failures'] for r in runs)} | "
            f"{sum(r.report['running_time'] for r in runs):.1f} s |",
            "",
        ]
    )
    print(text)
    for run in failed:
        print(run.output[-4000:], file=sys.stderr)
    if options.out:
        options.out.write_text(text)
    sys.exit(1 if failed or total < 1000 else 0)


if __name__ == "__main__":
    main()
