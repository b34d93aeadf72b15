"""The terminal's account of a run: the counts phrase and one line per finding.

``faultproof run`` and ``faultproof judge`` print the same lines, so a CI log reads alike whichever
graded the client; the report files carry the full evidence.
"""

from __future__ import annotations

from ..verdict import RunReport


def counts(report: RunReport) -> str:
    """The summary counts as a phrase: ``3 passed, 1 failed, 1 warned, 0 flaky, 0 skipped``."""
    s = report.summary
    return (
        f"{s['passed']} passed, {s['failed']} failed, {s['warned']} warned, {s['flaky']} flaky, "
        f"{s['skipped']} skipped"
    )


def verdict_lines(report: RunReport, *, provider: bool = True) -> list[str]:
    """One line per failed or warned check, flaky first attempt and run error, for a terminal.

    Under ``report.strict`` the warn and flaky lines say that they fail the run.
    """
    strict = " (fails under --strict)" if report.strict else ""
    lines = []
    for result in report.results:
        where = f"{result.scenario} [{result.provider}]" if provider else result.scenario
        for check in result.checks:
            if check.verdict in ("fail", "warn"):
                mark = "FAIL" if check.verdict == "fail" else "WARN"
                tail = strict if check.verdict == "warn" else ""
                lines.append(f"  {mark} {where} {check.id}: {check.detail}{tail}")
        for check in result.flaky_checks():
            lines.append(
                f"  FLAKY {where} {check.id}: failed on the first attempt ({check.detail}), "
                f"not on the automatic rerun{strict}"
            )
        if result.error:
            lines.append(f"  ERROR {where}: {result.error}")
    return lines
