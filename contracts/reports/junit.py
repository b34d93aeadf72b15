"""JUnit XML for CI servers (Jenkins, GitLab, GitHub test reporters).

One ``<testsuite>`` per provider, one ``<testcase>`` per scenario and check, named
``"<scenario> :: <check id>"`` with classname ``faultproof.<provider>``:

- ``fail``: a ``<failure>`` whose message is the check's detail and whose text is the client's
  outcome and the scenario's request timeline;
- ``warn``: a passing testcase with the detail in ``<system-out>``;
- ``skip``: ``<skipped>`` with the detail as message;
- a scenario whose run errored (client crashed, printed nothing, timed out hard): an extra
  testcase ``"<scenario> :: run"`` carrying an ``<error>``;
- a scenario no check applies to: one skipped testcase named after the scenario.

A scenario's wall time is split evenly over its testcases, so suite times add up to the run's.
The plain-text helpers here (``describe_entry``, ``describe_outcome``, ``timeline_text``) are
shared by the Markdown and HTML writers.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from ..verdict import Outcome, RunReport, ScenarioResult, TimelineEntry

# Characters XML 1.0 cannot carry at all, not even as references (ANSI escapes from a client's
# output, NUL bytes): ElementTree would write them through and leave an unparseable file.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` with characters XML cannot carry replaced by a visible ``\\xNN`` escape."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def describe_entry(entry: TimelineEntry) -> str:
    """One request as a line: ``  0.120s  GET /v1/x -> 429 [alana.RATE_001] (3 ms)``."""
    status = "no response" if entry.status is None else str(entry.status)
    scenario = f" [{entry.scenario}]" if entry.scenario else ""
    ms = entry.duration_s * 1000
    took = f" ({ms:.{0 if ms >= 10 else 1}f} ms)" if entry.duration_s else ""
    return f"{entry.t:8.3f}s  {entry.method} {entry.path} -> {status}{scenario}{took}"


def describe_outcome(outcome: Outcome | None) -> str:
    """What the client reported, in one line."""
    if outcome is None:
        return "the client reported no usable outcome"
    if outcome.ok:
        return f"ok (status {outcome.status})"
    if outcome.transport:
        return f"failed: {outcome.transport} error (status {outcome.status})"
    return (
        f"error (status {outcome.status}): code={outcome.code!r} message={outcome.message!r} "
        f"request_id={outcome.request_id!r}"
    )


def timeline_text(entries: Iterable[TimelineEntry]) -> str:
    """The request timeline, one line per request, or a sentence when there was none."""
    lines = [describe_entry(e) for e in entries]
    if not lines:
        return "no request reached the mock"
    return f"timeline ({len(lines)} request{'s' if len(lines) != 1 else ''}):\n" + "\n".join(lines)


def describe_response(result: ScenarioResult) -> str:
    """For a ``--fuzz`` result, the generated answer that was served (else the empty string)."""
    fuzz = getattr(result, "fuzz", None)  # a FuzzResult (contracts/fuzz.py)
    if not fuzz:
        return ""
    role = "smallest failing answer" if fuzz.get("role") == "smallest" else "generated answer"
    shrunk = f", shrunk from {fuzz['shrunk_from']}" if fuzz.get("shrunk_from") else ""
    served = json.dumps(getattr(result, "response", None), ensure_ascii=False, indent=1)
    return (
        f"{role} (varies {fuzz.get('template')}{shrunk}); expected: {fuzz.get('expect')}\n{served}"
    )


def _evidence(result: ScenarioResult) -> str:
    served = describe_response(result)
    return (
        f"{served}\n\n" if served else ""
    ) + f"client outcome: {describe_outcome(result.outcome)}\n\n{timeline_text(result.timeline)}"


def _secs(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    node = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrib.items()})
    if text is not None:
        node.text = xml_safe(text)
    return node


def _testcases(suite: ET.Element, result: ScenarioResult, classname: str) -> None:
    count = len(result.checks) + (1 if result.error or not result.checks else 0)
    time = _secs(result.duration_s / count)
    if result.error:
        case = _sub(
            suite, "testcase", name=f"{result.scenario} :: run", classname=classname, time=time
        )
        _sub(
            case,
            "error",
            f"{result.error}\n\n{_evidence(result)}",
            message=result.error,
            type="tool_error",
        )
        if result.stdout_tail:
            _sub(case, "system-out", result.stdout_tail)
    elif not result.checks:
        case = _sub(suite, "testcase", name=result.scenario, classname=classname, time=time)
        _sub(case, "skipped", message="no check applies to this scenario")
    for check in result.checks:
        case = _sub(
            suite,
            "testcase",
            name=f"{result.scenario} :: {check.id}",
            classname=classname,
            time=time,
        )
        if check.verdict == "fail":
            _sub(
                case,
                "failure",
                f"{check.detail}\n\n{_evidence(result)}",
                message=check.detail,
                type=check.id,
            )
            if result.stdout_tail:
                _sub(case, "system-out", result.stdout_tail)
        elif check.verdict == "skip":
            _sub(case, "skipped", message=check.detail)
        elif check.verdict == "warn":
            _sub(case, "system-out", f"warning: {check.detail}")


def _count(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    return {
        "tests": len(cases),
        "failures": sum(len(c.findall("failure")) for c in cases),
        "errors": sum(len(c.findall("error")) for c in cases),
        "skipped": sum(len(c.findall("skipped")) for c in cases),
    }


def render(report: RunReport) -> bytes:
    """The report as a UTF-8 JUnit XML document."""
    timestamp = (
        datetime.fromtimestamp(report.started_at, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        if report.started_at
        else None
    )
    root = ET.Element("testsuites", {"name": "faultproof", "time": _secs(report.duration_s)})
    by_provider: dict[str, list[ScenarioResult]] = {}
    for result in report.results:
        by_provider.setdefault(result.provider, []).append(result)
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for provider, results in by_provider.items():
        suite = _sub(
            root, "testsuite", name=provider, time=_secs(sum(r.duration_s for r in results))
        )
        if timestamp:
            suite.set("timestamp", timestamp)
        properties = _sub(suite, "properties")
        for name, value in {"client": report.client, **report.meta}.items():
            _sub(properties, "property", name=str(name), value=str(value))
        for result in results:
            _testcases(suite, result, f"faultproof.{provider}")
        counts = _count(suite)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def write(report: RunReport, path: Path) -> None:
    """Write the JUnit XML report to ``path``."""
    path.write_bytes(render(report))
