"""The Markdown report, sized for a GitHub pull-request comment.

A headline and summary line (counts, client, duration), a providers-by-checks table (how many of
each provider's scenarios passed each check; ⚠️ where one only warned, 🔁 where one was flaky),
then every failing scenario with its failed checks and details, its client outcome and timeline
folded in ``<details>``; every flaky scenario with what failed on its first attempt and both
timelines; and the warnings with their evidence. Under ``--strict`` the headline counts warned
and flaky scenarios as failures.
Every string from a client or a catalogue is escaped, so a detail cannot break the layout.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from ..verdict import CheckResult, RunReport, ScenarioResult
from .junit import describe_entry, describe_outcome, describe_response, xml_safe

#: Timeline lines shown per failing scenario; the JSON and HTML reports carry all of them.
MAX_TIMELINE_LINES = 30

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_ICON = {"fail": "❌", "flaky": "🔁", "warn": "⚠️", "pass": "✅", "skip": "⏭️"}


def _text(value: str) -> str:
    """Inline text with Markdown and HTML specials escaped, on one line."""
    one_line = " ".join(value.split())
    return html.escape(_MD_SPECIAL.sub(r"\\\1", one_line), quote=False)


def _code(value: str, *, in_table: bool = False) -> str:
    """A code span that survives backticks (and pipes, inside a table)."""
    value = " ".join(value.split())
    ticks = "`" * (max((len(r) for r in re.findall("`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    span = f"{ticks}{pad}{value}{pad}{ticks}"
    return span.replace("|", "\\|") if in_table else span


def _fence(body: str) -> str:
    ticks = "`" * max(3, max((len(r) for r in re.findall("`+", body)), default=0) + 1)
    return f"{ticks}text\n{body}\n{ticks}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _headline(report: RunReport) -> str:
    s = report.summary
    scenarios = _plural(s["scenarios"], "scenario")
    failing = sum(r.fails(report.strict) for r in report.results)
    if failing:
        strict = " (--strict: warned and flaky count)" if failing > s["failed"] else ""
        return f"## ❌ faultproof: {failing} of {scenarios} failed{strict}"
    if s["warned"] or s["flaky"]:
        return (
            f"## ⚠️ faultproof: no failures in {scenarios}, {s['warned']} warned, {s['flaky']} flaky"
        )
    return f"## ✅ faultproof: no failures in {scenarios}"


def _summary(report: RunReport) -> list[str]:
    s = report.summary
    checks = [c for r in report.results for c in r.checks]
    by_verdict = {v: sum(c.verdict == v for c in checks) for v in ("pass", "fail", "warn", "skip")}
    line = (
        f"**Client** {_code(report.client)} · **Duration** {report.duration_s:.2f} s · "
        f"**Scenarios** {s['passed']} passed, {s['failed']} failed, {s['warned']} warned, "
        f"{s['flaky']} flaky, {s['skipped']} skipped · "
        f"**Checks** {by_verdict['pass']} passed, {by_verdict['fail']} failed, "
        f"{by_verdict['warn']} warned, {by_verdict['skip']} skipped"
    )
    errored = sum(1 for r in report.results if r.error)
    if errored:
        line += f" · **Run errors** {errored}"
    return [_headline(report), "", line]


def _cell(verdicts: list[str]) -> str:
    if not verdicts:
        return ""
    applied = [v for v in verdicts if v != "skip"]
    if not applied:
        return f"{_ICON['skip']} skip"
    passed = sum(v != "fail" for v in applied)
    worst = next((v for v in ("fail", "flaky", "warn") if v in applied), "pass")
    return f"{_ICON[worst]} {passed}/{len(applied)}"


def _check_verdict(result: ScenarioResult, check: CheckResult) -> str:
    """A check's verdict in the matrix: ``flaky`` where it failed only on the first attempt."""
    if check.verdict != "fail" and check.id in {c.id for c in result.flaky_checks()}:
        return "flaky"
    return check.verdict


def _matrix(report: RunReport) -> list[str]:
    check_ids = list(dict.fromkeys(c.id for r in report.results for c in r.checks))
    providers = list(dict.fromkeys(r.provider for r in report.results))
    header = ["provider", "scenarios", *(_code(c, in_table=True) for c in check_ids)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for provider in providers:
        results = [r for r in report.results if r.provider == provider]
        verdicts = [r.verdict for r in results]
        errored = sum(1 for r in results if r.error)
        scenarios = f"{verdicts.count('pass')}/{len(results)} passed" + "".join(
            f", {n} {word}"
            for n, word in (
                (verdicts.count("warn"), "warned"),
                (verdicts.count("flaky"), "flaky"),
                (errored, "errored"),
            )
            if n
        )
        row = [_text(provider), scenarios]
        for check_id in check_ids:
            row.append(
                _cell([_check_verdict(r, c) for r in results for c in r.checks if c.id == check_id])
            )
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "_n/m: scenarios where the check did not fail (⚠️: it warned on an assumed value; "
        "🔁: it failed on the first attempt, not on the automatic rerun) / where it applied._",
    ]
    return lines


def _evidence(result: ScenarioResult, label: str) -> list[str]:
    """The client outcome and timeline of one attempt, folded in ``<details>``."""
    timeline = [describe_entry(e) for e in result.timeline[:MAX_TIMELINE_LINES]]
    hidden = len(result.timeline) - len(timeline)
    if hidden > 0:
        timeline.append(f"... {hidden} more (see the JSON or HTML report)")
    served = describe_response(result)
    body = (
        (f"{xml_safe(served)}\n\n" if served else "")
        + (f"client outcome: {describe_outcome(result.outcome)}\n\n")
        + ("\n".join(timeline) or "no request reached the mock")
    )
    if result.stdout_tail:
        body += "\n\nclient output (tail):\n" + xml_safe(result.stdout_tail.rstrip())
    summary = f"{label} ({_plural(len(result.timeline), 'request')})"
    return [f"<details><summary>{summary}</summary>", "", _fence(body), "", "</details>", ""]


def _heading(result: ScenarioResult) -> list[str]:
    icon = _ICON[result.verdict]
    return [f"#### {icon} {_code(result.scenario)} ({_text(result.provider)})", ""]


def _failure(result: ScenarioResult) -> list[str]:
    lines = _heading(result)
    if result.error:
        lines.append(f"- **run error**: {_text(result.error)}")
    lines += [f"- {_code(c.id)}: {_text(c.detail)}" for c in result.checks if c.verdict == "fail"]
    return [*lines, "", *_evidence(result, "client outcome and timeline")]


def _flaky(result: ScenarioResult) -> list[str]:
    first = result.first_attempt
    assert first is not None  # only called for flaky results
    lines = _heading(result)
    if first.error:
        lines.append(f"- **run error** on the first attempt: {_text(first.error)}")
    lines += [
        f"- {_code(c.id)} failed on the first attempt: {_text(c.detail)}"
        for c in result.flaky_checks()
    ]
    lines.append(f"- the automatic rerun did not fail (it ended {result.attempt_verdict})")
    return [
        *lines,
        "",
        *_evidence(first, "first attempt: client outcome and timeline"),
        *_evidence(result, "rerun: client outcome and timeline"),
    ]


def render(report: RunReport) -> str:
    """The report as GitHub-flavoured Markdown."""
    lines = [*_summary(report), "", "### Providers \u00d7 checks", "", *_matrix(report), ""]
    failing = [r for r in report.results if r.verdict == "fail"]
    if failing:
        lines += [f"### Failures ({len(failing)})", ""]
        for result in failing:
            lines += _failure(result)
    flaky = [r for r in report.results if r.verdict == "flaky"]
    if flaky:
        lines += [f"### Flaky ({len(flaky)})", ""]
        for result in flaky:
            lines += _flaky(result)
    warnings: list[tuple[ScenarioResult, CheckResult]] = [
        (r, c) for r in report.results for c in r.checks if c.verdict == "warn"
    ]
    if warnings:
        strict = ", failures under --strict" if report.strict else ""
        lines += [f"### Warnings ({len(warnings)}{strict})", ""]
        lines += [f"- {_code(r.scenario)} · {_code(c.id)}: {_text(c.detail)}" for r, c in warnings]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write(report: RunReport, path: Path) -> None:
    """Write the Markdown report to ``path``."""
    path.write_text(render(report), encoding="utf-8")
