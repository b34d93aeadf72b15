"""`faultproof run`: choose scenarios, start or reach a mock, show progress, write reports."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from faultproof.contracts import default_catalogue
from faultproof.contracts.adapters import Client, PythonClient, SubprocessClient, load_callable
from faultproof.contracts.runner import MockControl, Runner, select
from faultproof.contracts.verdict import RunReport, ScenarioResult


@contextmanager
def _mock(url: str | None) -> Iterator[str]:
    if url:
        yield url.rstrip("/")
        return
    from .inprocess import running_mock

    with running_mock() as started:
        yield started


def _progress(total: int) -> tuple[object | None, callable]:  # type: ignore[valid-type]
    """A rich progress bar on a terminal; one line per finished scenario otherwise."""
    if sys.stderr.isatty():
        from rich.progress import Progress

        progress = Progress(transient=True)
        task = progress.add_task("grading", total=total)

        def advance(result: ScenarioResult) -> None:
            progress.update(task, advance=1, description=f"{result.verdict:4} {result.scenario}")

        return progress, advance

    def line(result: ScenarioResult) -> None:
        print(f"{result.verdict.upper():4} {result.provider:9} {result.scenario}", file=sys.stderr)

    return None, line


def _summary(report: RunReport) -> str:
    s = report.summary
    lines = [
        f"{s['scenarios']} scenarios: {s['passed']} passed, {s['failed']} failed, "
        f"{s['skipped']} skipped in {report.duration_s:.1f} s"
    ]
    for result in report.results:
        for check in result.checks:
            if check.verdict == "fail":
                lines.append(
                    f"  FAIL {result.scenario} [{result.provider}] {check.id}: {check.detail}"
                )
        if result.error:
            lines.append(f"  ERROR {result.scenario} [{result.provider}]: {result.error}")
    return "\n".join(lines)


def run_client(
    *,
    client_cmd: str | None,
    client_py: str | None,
    providers: Sequence[str],
    patterns: Sequence[str],
    mock_url: str | None,
    workers: int,
    outputs: Mapping[str, str | None],
) -> bool:
    """Run, report, and say whether every applicable check passed."""
    catalogue = default_catalogue()
    pairs = select(catalogue, providers, patterns)
    if client_py:
        # Like uvicorn and gunicorn: module:function specs import from the current directory.
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        load_callable(client_py)
    client: Client = PythonClient(client_py) if client_py else SubprocessClient(client_cmd or "")
    progress, advance = _progress(len(pairs))
    with _mock(mock_url) as url:
        runner = Runner(client, MockControl(url), catalogue, workers=workers, on_result=advance)
        if progress is not None:
            with progress:  # type: ignore[attr-defined]
                report = runner.run(pairs)
        else:
            report = runner.run(pairs)
    from faultproof.contracts.reports import write

    write(report, **{k: Path(v) for k, v in outputs.items() if v})
    print(_summary(report), file=sys.stderr)
    return report.passed
