"""`faultproof run`: choose scenarios, start or reach a mock, show progress, write reports."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from faultproof.contracts import default_catalogue
from faultproof.contracts.adapters import Client, PythonClient, SubprocessClient, load_callable
from faultproof.contracts.control_client import MockControl
from faultproof.contracts.probe import probe
from faultproof.contracts.reports.console import counts, verdict_lines
from faultproof.contracts.runner import Runner, select
from faultproof.contracts.verdict import RunReport, ScenarioResult


@contextmanager
def _mock(url: str | None) -> Iterator[str]:
    if url:
        yield url.rstrip("/")
        return
    from .serving.inprocess import running_mock

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
    head = f"{report.summary['scenarios']} scenarios: {counts(report)} in {report.duration_s:.1f} s"
    lines = [head, *verdict_lines(report)]
    lines += [_smallest(r) for r in report.results]
    return "\n".join(line for line in lines if line)


def _smallest(result: ScenarioResult) -> str:
    """The shrunk failing answer of a fuzz search, on one line (the reports carry it whole)."""
    fuzz = getattr(result, "fuzz", None)  # a FuzzResult; imported only with --fuzz (hypothesis)
    if not fuzz or fuzz.get("role") != "smallest" or result.verdict != "fail":
        return ""
    answer = json.dumps(getattr(result, "response", None), ensure_ascii=False)
    answer = answer if len(answer) <= 300 else answer[:297] + "..."
    return (
        f"  SMALLEST {result.scenario} [{result.provider}] "
        f"(shrunk from {fuzz.get('shrunk_from') or 'itself: already minimal'}): {answer}"
    )


def _with_fuzz(
    report: RunReport,
    providers: Sequence[str],
    fuzz: tuple[int, int],
    client: Client,
    control: MockControl,
) -> RunReport:
    """The catalogue report with the fuzz results and their summary (``meta.fuzz``) added."""
    from faultproof.contracts.fuzz import fuzz as run_fuzz

    examples, seed = fuzz
    catalogue = default_catalogue()
    print(f"fuzz: {examples} generated answers per provider (seed {seed})", file=sys.stderr)
    started = time.monotonic()
    results, summary = run_fuzz(
        [catalogue.provider(p) for p in providers],
        examples,
        client,
        control,
        seed_value=seed,
        on_result=lambda r: print(
            f"{r.verdict.upper():4} {r.provider:9} {r.scenario} (varies {r.fuzz['template']})",
            file=sys.stderr,
        ),
    )
    return dataclasses.replace(
        report,
        duration_s=report.duration_s + time.monotonic() - started,
        results=report.results + tuple(results),
        meta={**report.meta, "fuzz": summary},
    )


def run_client(
    *,
    client_cmd: str | None,
    client_py: str | None,
    providers: Sequence[str],
    patterns: Sequence[str],
    mock_url: str | None,
    workers: int,
    outputs: Mapping[str, str | None],
    control_token: str | None = None,
    fuzz: tuple[int, int] = (0, 0),
    strict: bool = False,
) -> bool:
    """Run, report, and say whether the run passed (no check failed; with ``strict``, none
    warned and no scenario was flaky either).

    ``fuzz`` is (examples per provider, seed): with examples, generated answers follow the
    catalogue (``faultproof.contracts.fuzz``), their results join the same report.
    """
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
        control = MockControl(url, control_token)
        control.check()
        if pairs:  # a client that cannot run at all is a tool error, not 210 failures
            probe(client, control, pairs[0][1])
        runner = Runner(client, control, catalogue, workers=workers, on_result=advance)
        if progress is not None:
            with progress:  # type: ignore[attr-defined]
                report = runner.run(pairs)
        else:
            report = runner.run(pairs)
        if fuzz[0]:
            chosen = providers or tuple(catalogue.providers)
            report = _with_fuzz(report, chosen, fuzz, client, runner.control)
    from faultproof.contracts.reports import write

    report = dataclasses.replace(report, strict=strict)
    written = {k: Path(v) for k, v in outputs.items() if v}
    write(report, **written)
    # Results on standard output, progress on standard error: `faultproof run > results.txt`.
    print(_summary(report))
    for fmt, path in written.items():
        print(f"wrote the {fmt} report to {path}")
    return report.passed
