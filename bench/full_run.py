"""Wall time of a full catalogue run of the reference client, against its slowest scenario.

Usage: python bench/full_run.py [--workers 32] [--out bench/results/full_run.md]

Issue 6's goal: the whole run costs at most about twice its slowest scenario, because
scenarios run in parallel and the runner passes small Retry-After values.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faultproof.contracts import default_catalogue
from faultproof.contracts.adapters import PythonClient
from faultproof.contracts.control_client import MockControl
from faultproof.contracts.runner import Runner, select
from faultproof.mocks.serving.inprocess import running_mock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    catalogue = default_catalogue()
    with running_mock() as url:
        report = Runner(
            PythonClient("examples.reference_client:client"),
            MockControl(url),
            catalogue,
            workers=options.workers,
        ).run(select(catalogue))
    slowest = max(report.results, key=lambda r: r.duration_s)
    s = report.summary
    text = (
        "# Full catalogue run of the reference client\n\n"
        f"Command: `python bench/full_run.py {' '.join(sys.argv[1:])}`  \n"
        f"Machine: {platform.platform()}, Python {platform.python_version()}\n\n"
        "| scenarios | passed | failed | skipped | wall time | slowest scenario | ratio |\n"
        "|---|---|---|---|---|---|---|\n"
        f"| {s['scenarios']} | {s['passed']} | {s['failed']} | {s['skipped']} "
        f"| {report.duration_s:.1f} s "
        f"| {slowest.duration_s:.1f} s ({slowest.scenario} on {slowest.provider}) "
        f"| {report.duration_s / slowest.duration_s:.2f} |\n"
    )
    print(text)
    if options.out:
        options.out.write_text(text)


if __name__ == "__main__":
    main()
