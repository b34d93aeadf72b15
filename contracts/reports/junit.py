"""JUnit XML for CI servers (Jenkins, GitLab, GitHub test reporters).

One ``<testsuite>`` per provider, one ``<testcase>`` per scenario and check, named
``"<scenario> :: <check id>"`` with classname ``faultproof.<provider>``:

- ``fail``: a ``<failure>`` whose message is the check's detail and whose text is the client's
  outcome and the scenario's request timeline;
- ``warn``: a passing testcase with the property ``faultproof.verdict=warn`` (and the detail as
  ``faultproof.warning``) and the detail and evidence in ``<system-out>`` (what Jenkins, GitLab
  and GitHub reporters show of a passing test); under ``--strict`` a ``<failure>`` instead;
- ``skip``: ``<skipped>`` with the detail as message;
- a ``flaky`` scenario (a timing failure its automatic rerun did not repeat): the rerun's
  testcases, and on each check that failed on the first attempt Maven Surefire's
  ``<flakyFailure>`` (message, type, ``<stackTrace>`` with the first attempt's outcome and
  timeline, ``<system-out>`` with both timelines) under the passing testcase, with the property
  ``faultproof.verdict=flaky``; under ``--strict`` a ``<failure>`` carrying both timelines;
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

from ..verdict import CheckResult, Outcome, RunReport, ScenarioResult, TimelineEntry

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


def _property(case: ET.Element, name: str, value: str) -> None:
    """A testcase property (pytest's ``record_property`` shape), ``<properties>`` first."""
    properties = case.find("properties")
    if properties is None:
        properties = ET.Element("properties")
        case.insert(0, properties)
    _sub(properties, "property", name=name, value=value)


def _warn(case: ET.Element, check: CheckResult, result: ScenarioResult, strict: bool) -> None:
    _property(case, "faultproof.verdict", "warn")
    _property(case, "faultproof.warning", check.detail)
    if strict:
        text = f"warning, a failure under --strict: {check.detail}\n\n{_evidence(result)}"
        _sub(case, "failure", text, message=f"warn: {check.detail}", type=check.id)
    else:
        _sub(case, "system-out", f"warning: {check.detail}\n\n{_evidence(result)}")


def _first_failures(result: ScenarioResult) -> list[CheckResult]:
    """What failed on a flaky result's first attempt (its run error as a check named ``run``)."""
    first = result.first_attempt
    if result.verdict != "flaky" or first is None:
        return []
    errored = [CheckResult("run", "fail", first.error)] if first.error else []
    return errored + list(result.flaky_checks())


def _flaky(case: ET.Element, failed: CheckResult, result: ScenarioResult, strict: bool) -> None:
    first = result.first_attempt
    assert first is not None  # only called for flaky results
    _property(case, "faultproof.verdict", "flaky")
    both = (
        f"first attempt (failed):\n{timeline_text(first.timeline)}\n\n"
        f"rerun (did not fail):\n{timeline_text(result.timeline)}"
    )
    if strict:
        text = (
            f"flaky, a failure under --strict: {failed.detail} on the first attempt, not on "
            f"the automatic rerun\n\nfirst attempt: {_evidence(first)}\n\n"
            f"rerun: {_evidence(result)}"
        )
        _sub(case, "failure", text, message=f"flaky: {failed.detail}", type=failed.id)
        return
    node = _sub(case, "flakyFailure", message=failed.detail, type=failed.id)
    _sub(node, "stackTrace", f"{failed.detail}\n\n{_evidence(first)}")
    _sub(node, "system-out", both)


def _testcases(suite: ET.Element, result: ScenarioResult, classname: str, strict: bool) -> None:
    count = len(result.checks) + (1 if result.error or not result.checks else 0)
    time = _secs(result.duration_s / count)
    cases: list[tuple[str, ET.Element]] = []
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
        cases.append(("run", case))
    elif not result.checks:
        case = _sub(suite, "testcase", name=result.scenario, classname=classname, time=time)
        _sub(case, "skipped", message="no check applies to this scenario")
        cases.append(("", case))
    for check in result.checks:
        case = _sub(
            suite,
            "testcase",
            name=f"{result.scenario} :: {check.id}",
            classname=classname,
            time=time,
        )
        cases.append((check.id, case))
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
            _warn(case, check, result, strict)
    by_id = dict(cases)
    for failed in _first_failures(result):
        # A first-attempt failure of a check the rerun did not grade goes on the first testcase.
        _flaky(by_id.get(failed.id, cases[0][1]), failed, result, strict)


def _count(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    return {
        "tests": len(cases),
        "failures": sum(c.find("failure") is not None for c in cases),
        "errors": sum(c.find("error") is not None for c in cases),
        "skipped": sum(c.find("skipped") is not None for c in cases),
    }


def render(report: RunReport) -> bytes:
    """The report as a UTF-8 JUnit XML document (``report.strict`` makes warn and flaky fail)."""
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
    # Runs overlap (--workers), so a suite's summed testcase times exceed the run's wall time:
    # each suite gets its share of the wall time instead, and the suites add up to the run.
    busy = sum(r.duration_s for r in report.results) or 1.0
    for provider, results in by_provider.items():
        share = report.duration_s * sum(r.duration_s for r in results) / busy
        suite = _sub(root, "testsuite", name=provider, time=_secs(share))
        if timestamp:
            suite.set("timestamp", timestamp)
        properties = _sub(suite, "properties")
        for name, value in {"client": report.client, **report.meta}.items():
            _sub(properties, "property", name=str(name), value=str(value))
        for result in results:
            _testcases(suite, result, f"faultproof.{provider}", report.strict)
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
