"""The Markdown report, sized for a GitHub pull-request comment.

A headline and summary line (counts, client, duration), a providers-by-checks table (how many of
each provider's scenarios passed each check), then every failing scenario with its failed checks
and details, its client outcome and timeline folded in ``<details>``, and the warnings.
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
_ICON = {"fail": "❌", "warn": "⚠️", "pass": "✅", "skip": "⏭️"}


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


def _summary(report: RunReport) -> list[str]:
    s = report.summary
    checks = [c for r in report.results for c in r.checks]
    by_verdict = {v: sum(c.verdict == v for c in checks) for v in ("pass", "fail", "warn", "skip")}
    if s["failed"]:
        headline = (
            f"## ❌ faultproof: {s['failed']} of {_plural(s['scenarios'], 'scenario')} failed"
        )
    else:
        headline = f"## ✅ faultproof: no failures in {_plural(s['scenarios'], 'scenario')}"
    line = (
        f"**Client** {_code(report.client)} · **Duration** {report.duration_s:.2f} s · "
        f"**Scenarios** {s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped · "
        f"**Checks** {by_verdict['pass']} passed, {by_verdict['fail']} failed, "
        f"{by_verdict['warn']} warned, {by_verdict['skip']} skipped"
    )
    errored = sum(1 for r in report.results if r.error)
    if errored:
        line += f" · **Run errors** {errored}"
    return [headline, "", line]


def _cell(verdicts: list[str]) -> str:
    if not verdicts:
        return ""
    applied = [v for v in verdicts if v != "skip"]
    if not applied:
        return f"{_ICON['skip']} skip"
    passed = sum(v != "fail" for v in applied)
    worst = "fail" if "fail" in applied else "warn" if "warn" in applied else "pass"
    return f"{_ICON[worst]} {passed}/{len(applied)}"


def _matrix(report: RunReport) -> list[str]:
    check_ids = list(dict.fromkeys(c.id for r in report.results for c in r.checks))
    providers = list(dict.fromkeys(r.provider for r in report.results))
    header = ["provider", "scenarios", *(_code(c, in_table=True) for c in check_ids)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for provider in providers:
        results = [r for r in report.results if r.provider == provider]
        passed = sum(r.verdict == "pass" for r in results)
        errored = sum(1 for r in results if r.error)
        scenarios = f"{passed}/{len(results)} passed" + (f", {errored} errored" if errored else "")
        row = [_text(provider), scenarios]
        for check_id in check_ids:
            row.append(_cell([c.verdict for r in results for c in r.checks if c.id == check_id]))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "_n/m: scenarios where the check passed (or only warned) / where it applied._"]
    return lines


def _failure(result: ScenarioResult) -> list[str]:
    lines = [f"#### ❌ {_code(result.scenario)} ({_text(result.provider)})", ""]
    if result.error:
        lines.append(f"- **run error**: {_text(result.error)}")
    lines += [f"- {_code(c.id)}: {_text(c.detail)}" for c in result.checks if c.verdict == "fail"]
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
    summary = f"client outcome and timeline ({_plural(len(result.timeline), 'request')})"
    return [
        *lines,
        "",
        f"<details><summary>{summary}</summary>",
        "",
        _fence(body),
        "",
        "</details>",
        "",
    ]


def render(report: RunReport) -> str:
    """The report as GitHub-flavoured Markdown."""
    lines = [*_summary(report), "", "### Providers \u00d7 checks", "", *_matrix(report), ""]
    failing = [r for r in report.results if r.verdict == "fail"]
    if failing:
        lines += [f"### Failures ({len(failing)})", ""]
        for result in failing:
            lines += _failure(result)
    warnings: list[tuple[ScenarioResult, CheckResult]] = [
        (r, c) for r in report.results for c in r.checks if c.verdict == "warn"
    ]
    if warnings:
        lines += [f"### Warnings ({len(warnings)})", ""]
        lines += [f"- {_code(r.scenario)} · {_code(c.id)}: {_text(c.detail)}" for r, c in warnings]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write(report: RunReport, path: Path) -> None:
    """Write the Markdown report to ``path``."""
    path.write_text(render(report), encoding="utf-8")
