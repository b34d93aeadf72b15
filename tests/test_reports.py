"""The report writers on a hand-built run: JSON, JUnit XML, Markdown, HTML."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import orjson
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from faultproof.contracts.errors import FaultproofError, UnknownIdError
from faultproof.contracts.reports import WRITERS, html, json_report, junit, markdown, write
from faultproof.contracts.verdict import (
    CheckResult,
    Outcome,
    RunReport,
    ScenarioResult,
    TimelineEntry,
)

SCRIPT_DETAIL = 'gave up after <script>alert("x")</script> & a | pipe * star _under_'
MOCK_URL = "http://127.0.0.1:8080"


def _report() -> RunReport:
    rate = ScenarioResult(
        scenario="alana.RATE_001",
        provider="alana",
        checks=(
            CheckResult("parses_envelope", "pass", "read code rate_limited from the envelope"),
            CheckResult(
                "honours_retry_after", "fail", "retried 0.12 s after a 429 that asked for 1 s"
            ),
            CheckResult("bounded_attempts", "warn", "3 attempts, at the documented maximum"),
        ),
        timeline=(
            TimelineEntry(0.0, "GET", "/api/v1/products/42", 429, "alana.RATE_001", 0.004),
            TimelineEntry(0.12, "GET", "/api/v1/products/42", None, "fault.hang", 0.5),
            TimelineEntry(1.3, "GET", "/api/v1/products/42", 200, None, 0.01),
        ),
        outcome=Outcome(ok=True, status=200, data={"id": 42}),
        duration_s=1.5,
    )
    auth = ScenarioResult(
        scenario="alana.AUTH_001",
        provider="alana",
        checks=(
            CheckResult("parses_envelope", "pass", "read code unauthorized"),
            CheckResult("stops_on_non_retryable", "pass", "one request, no retry after a 401"),
            CheckResult("refreshes_token", "skip", "the client has no token to refresh"),
        ),
        timeline=(TimelineEntry(0.0, "GET", "/api/v1/me", 401, "alana.AUTH_001", 0.002),),
        outcome=Outcome(
            ok=False, status=401, code="unauthorized", message="bad token", request_id="r-1"
        ),
        duration_s=0.3,
    )
    server = ScenarioResult(
        scenario="alloy.SERVER_500",
        provider="alloy",
        checks=(
            CheckResult("safe_retries", "fail", SCRIPT_DETAIL),
            CheckResult("retries_retryable", "pass", "retried the 503"),
        ),
        timeline=(
            TimelineEntry(0.0, "POST", "/v2/orders", 500, "alloy.SERVER_500", 0.02),
            TimelineEntry(0.25, "POST", "/v2/orders", 500, "alloy.SERVER_500", 0.02),
            TimelineEntry(0.75, "POST", "/v2/orders", 503, "alloy.SERVER_500", 0.02),
        ),
        outcome=Outcome(
            ok=False, status=503, code="unavailable", message="<b>down</b>", request_id=None
        ),
        duration_s=1.0,
    )
    stream = ScenarioResult(
        scenario="alloy.STREAM_001",
        provider="alloy",
        checks=(
            CheckResult("detects_stream_error", "skip", "the client does not stream"),
            CheckResult("recovers", "skip", "nothing to recover from"),
        ),
        duration_s=0.1,
    )
    crash = ScenarioResult(
        scenario="airbyte.CRASH_001",
        provider="airbyte",
        checks=(),
        error="client exited 1 without printing an outcome",
        stdout_tail="Traceback (most recent call last):\n\x1b[31mKeyError: 'x'\x1b[0m\x00",
        duration_s=0.2,
    )
    slow = ScenarioResult(
        scenario="airbyte.TIMEOUT_001",
        provider="airbyte",
        checks=(
            CheckResult("times_out", "warn", "gave up after 9.8 s, close to the 10 s ceiling"),
            CheckResult("recovers", "pass", "the next request succeeded"),
        ),
        timeline=(
            TimelineEntry(0.0, "GET", "/v1/jobs", None, "fault.hang", 9.8),
            TimelineEntry(9.9, "GET", "/v1/jobs", 200, None, 0.01),
        ),
        outcome=Outcome(ok=False, status=None, transport="timeout"),
        duration_s=10.0,
    )
    return RunReport(
        client="python -m my_client --flag",
        duration_s=13.1,
        results=(rate, auth, server, stream, crash, slow, _flaky()),
        started_at=1_700_000_000.0,
        meta={"mock_url": MOCK_URL, "workers": 2},
    )


FIRST_DETAIL = "waited 0.05 s before retrying a 503, below the 0.40 s minimum"


def _flaky() -> ScenarioResult:
    """A rerun that passed after a first attempt that failed a timing check."""
    first = ScenarioResult(
        scenario="alana.SERVER_002",
        provider="alana",
        checks=(
            CheckResult("retries_retryable", "pass", "retried the 503"),
            CheckResult("backs_off", "fail", FIRST_DETAIL),
        ),
        timeline=(
            TimelineEntry(0.0, "GET", "/api/v1/products/7", 503, "alana.SERVER_002", 0.003),
            TimelineEntry(0.05, "POST", "/api/v1/first-only", 200, None, 0.003),
        ),
        outcome=Outcome(ok=True, status=200, data={"id": 7}),
        duration_s=0.4,
    )
    return ScenarioResult(
        scenario="alana.SERVER_002",
        provider="alana",
        checks=(
            CheckResult("retries_retryable", "pass", "retried the 503"),
            CheckResult("backs_off", "pass", "waited 0.52 s, within 0.40-1.20 s"),
        ),
        timeline=(
            TimelineEntry(0.0, "GET", "/api/v1/products/7", 503, "alana.SERVER_002", 0.003),
            TimelineEntry(0.52, "GET", "/api/v1/products/7", 200, None, 0.003),
        ),
        outcome=Outcome(ok=True, status=200, data={"id": 7}),
        duration_s=0.6,
        first_attempt=first,
    )


@pytest.fixture
def report() -> RunReport:
    return _report()


@pytest.fixture
def written(report, tmp_path) -> dict[str, Path]:
    paths = {fmt: tmp_path / "out" / f"report.{fmt}" for fmt in WRITERS}
    write(report, **paths)
    return paths


# --- the entry point ------------------------------------------------------------------------


def test_write_writes_only_the_formats_given(report, tmp_path):
    write(report, json=tmp_path / "a" / "r.json", html=str(tmp_path / "r.html"))
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["r.html", "r.json"]


def test_registry_names_the_command_line_formats():
    assert list(WRITERS) == ["json", "junit", "markdown", "html"]


def test_unwritable_path_is_a_tool_error(report, tmp_path):
    with pytest.raises(FaultproofError, match="cannot write the junit report"):
        write(report, junit=tmp_path)  # a folder, not a file


def test_unknown_format_suggests(report, tmp_path):
    from faultproof.contracts.reports import write_format

    with pytest.raises(UnknownIdError, match="Did you mean 'junit'"):
        write_format("junti", report, tmp_path / "x")


# --- JSON -----------------------------------------------------------------------------------


def test_json_round_trips_the_design_shape(report, written):
    data = orjson.loads(written["json"].read_bytes())
    assert data == orjson.loads(orjson.dumps(report.to_json()))
    assert {"client", "duration_s", "summary", "results"} <= data.keys()
    assert data["summary"] == {
        "scenarios": 7,
        "passed": 1,
        "failed": 3,
        "skipped": 1,
        "warned": 1,
        "flaky": 1,
    }
    assert [r["verdict"] for r in data["results"]] == [
        "fail",
        "pass",
        "fail",
        "skip",
        "fail",
        "warn",
        "flaky",
    ]
    assert data["strict"] is False
    first = data["results"][0]
    assert {"scenario", "provider", "verdict", "checks", "timeline"} <= first.keys()
    assert first["checks"][1] == {
        "id": "honours_retry_after",
        "verdict": "fail",
        "detail": "retried 0.12 s after a 429 that asked for 1 s",
    }
    assert first["timeline"][0] == {
        "t": 0.0,
        "method": "GET",
        "path": "/api/v1/products/42",
        "status": 429,
        "scenario": "alana.RATE_001",
        "duration_s": 0.004,
    }
    assert first["timeline"][1]["status"] is None
    assert data["results"][4]["error"] == "client exited 1 without printing an outcome"
    assert written["json"].read_text().startswith('{\n  "client"')  # indented


def test_json_survives_values_orjson_cannot_encode(report):
    odd = RunReport(
        client="c",
        duration_s=0.0,
        results=(
            ScenarioResult("x.Y", "x", (), outcome=Outcome(ok=True, status=200, data=b"\xff raw")),
        ),
        meta={"path": Path("/tmp/x"), "tags": {"b", "a"}},
    )
    data = orjson.loads(json_report.render(odd))
    assert data["meta"] == {"path": "/tmp/x", "tags": ["a", "b"]}
    assert data["results"][0]["outcome"]["data"] == "\ufffd raw"


# --- JUnit XML ------------------------------------------------------------------------------


def test_junit_counts_per_provider_and_in_all(written):
    xml = JUnitXml.fromfile(str(written["junit"]))
    suites = {s.name: s for s in xml}
    assert list(suites) == ["alana", "alloy", "airbyte"]
    counts = {n: (s.tests, s.failures, s.errors, s.skipped) for n, s in suites.items()}
    assert counts == {"alana": (8, 1, 0, 1), "alloy": (4, 1, 0, 2), "airbyte": (3, 0, 1, 0)}
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (15, 2, 1, 3)  # <testsuites>
    assert xml.time == pytest.approx(13.1)


def test_junit_testcases_names_results_and_texts(written):
    cases = {c.name: (s.name, c) for s in JUnitXml.fromfile(str(written["junit"])) for c in s}
    suite, case = cases["alana.RATE_001 :: honours_retry_after"]
    assert suite == "alana"
    assert case.classname == "faultproof.alana"
    [failure] = case.result
    assert isinstance(failure, Failure)
    assert failure.message == "retried 0.12 s after a 429 that asked for 1 s"
    assert failure.type == "honours_retry_after"
    assert "-> 429 [alana.RATE_001]" in failure.text
    assert "-> no response [fault.hang]" in failure.text
    assert "client outcome: ok (status 200)" in failure.text

    _, script = cases["alloy.SERVER_500 :: safe_retries"]
    assert script.result[0].message == SCRIPT_DETAIL  # escaped in the file, intact when parsed

    _, warn = cases["alana.RATE_001 :: bounded_attempts"]
    assert warn.is_passed and "warning: 3 attempts" in warn.system_out

    _, skip = cases["alana.AUTH_001 :: refreshes_token"]
    assert isinstance(skip.result[0], Skipped)
    assert skip.result[0].message == "the client has no token to refresh"

    _, crash = cases["airbyte.CRASH_001 :: run"]
    [error] = crash.result
    assert isinstance(error, Error)
    assert error.message == "client exited 1 without printing an outcome"
    assert "\\x1b[31mKeyError" in crash.system_out  # control characters made visible, file valid


def test_junit_times_and_timestamp(written):
    xml = JUnitXml.fromfile(str(written["junit"]))
    suites = list(xml)
    # the suites share the run's wall time, in proportion to their runs' (overlapping) times
    assert sum(s.time for s in suites) == pytest.approx(xml.time, abs=0.01)
    busy = sum(c.time for s in suites for c in s)
    for suite in suites:
        share = sum(c.time for c in suite) / busy
        assert suite.time == pytest.approx(xml.time * share, abs=0.01)
        assert suite.timestamp == "2023-11-14T22:13:20"
    props = {p.name: p.value for p in next(iter(xml)).properties()}
    assert props["client"] == "python -m my_client --flag"
    assert props["mock_url"] == MOCK_URL


def test_junit_scenario_without_checks_is_one_skipped_case():
    lonely = RunReport("c", 0.0, (ScenarioResult("x.NONE", "x", ()),))
    suite = next(iter(JUnitXml.fromstring(junit.render(lonely).decode())))
    assert (suite.tests, suite.skipped) == (1, 1)


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_summary_matrix_and_failures(report):
    text = markdown.render(report)
    assert text.startswith("## ❌ faultproof: 3 of 7 scenarios failed")
    assert "**Scenarios** 1 passed, 3 failed, 1 warned, 1 flaky, 1 skipped" in text
    assert "`python -m my_client --flag`" in text and "13.10 s" in text
    header = next(line for line in text.splitlines() if line.startswith("| provider"))
    assert "`honours_retry_after`" in header and "`safe_retries`" in header
    alana = next(line for line in text.splitlines() if line.startswith("| alana"))
    cells = [c.strip() for c in alana.strip("|").split("|")]
    assert cells[1] == "1/3 passed, 1 flaky"
    assert cells[header.strip("|").split("|").index(" `honours_retry_after` ")] == "❌ 0/1"
    assert "### Failures (3)" in text
    assert "- `honours_retry_after`: retried 0.12 s after a 429 that asked for 1 s" in text
    assert "#### ❌ `alana.RATE_001` (alana)" in text
    assert "- **run error**: client exited 1 without printing an outcome" in text
    assert "### Warnings (2)" in text


def test_markdown_escapes_user_text(report):
    text = markdown.render(report)
    assert "<script>" not in text
    assert r"&lt;script&gt;alert(\"x\")" not in text  # quotes are not HTML-escaped in text
    assert (
        'gave up after &lt;script&gt;alert("x")&lt;/script&gt; &amp; a \\| pipe \\* star \\_under\\_'
        in text
    )


def test_markdown_all_passing_headline():
    ok = RunReport(
        "c", 1.0, (ScenarioResult("x.A", "x", (CheckResult("recovers", "pass", "ok"),)),)
    )
    text = markdown.render(ok)
    assert text.startswith("## ✅ faultproof: no failures in 1 scenario")
    assert "### Failures" not in text


# --- HTML -----------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _sections(page: str) -> dict[str, str]:
    """Each scenario card's HTML by scenario id (a card runs to the next one: cards hold
    ``<details>`` of their own)."""
    cards = page.split('<details class="scenario ')[1:]
    return {re.search(r'data-scenario="([^"]*)"', card).group(1): card for card in cards}


def test_html_opens_failed_cards_and_closes_passed_ones(report):
    page = html.render(report)
    assert {r.verdict for r in report.results} >= {"pass", "fail"}
    for result in report.results:
        card = _sections(page)[result.scenario]
        opened = " open data-scenario=" in card.split(">", 1)[0]
        assert opened == (result.verdict not in ("pass", "skip")), (result.scenario, card[:200])


def test_html_is_one_file_with_no_external_resources(written, report):
    assert sorted(p.name for p in written["html"].parent.iterdir()) == sorted(
        f"report.{f}" for f in WRITERS
    )
    page = written["html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for tag, attrs in _tags(page):
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href")
        assert href is None or href.startswith("#"), href
    assert "@import" not in page and "url(" not in page
    # The only URL in the page is the mock URL from meta, shown as text.
    assert re.findall(r"https?://[^\s<\"]+", page) == [MOCK_URL]


def test_html_matrix_has_a_linked_cell_per_scenario(report):
    page = html.render(report)
    tags = _tags(page)
    cells = {
        a["data-scenario"]: a for t, a in tags if t == "a" and "cell" in (a.get("class") or "")
    }
    assert set(cells) == {r.scenario for r in report.results}
    ids = {a["id"] for _, a in tags if "id" in a}
    for result in report.results:
        cell = cells[result.scenario]
        assert result.verdict in cell["class"].split()
        assert cell["href"][1:] in ids
    assert "safe_retries: gave up after" in cells["alloy.SERVER_500"]["title"]
    assert "honours_retry_after" in cells["alana.RATE_001"]["title"]
    assert "warned" in cells["airbyte.TIMEOUT_001"]["class"]
    groups = [a["data-provider"] for t, a in tags if t == "tbody"]
    assert groups == ["alana", "alloy", "airbyte"]


def test_html_draws_a_timeline_per_scenario_with_requests(report):
    page = html.render(report)
    sections = _sections(page)
    assert set(sections) == {r.scenario for r in report.results}
    for result in report.results:
        body = sections[result.scenario]
        attempts = [a for a in (result.first_attempt, result) if a is not None]
        if result.timeline:
            assert body.count("<svg") == len(attempts)
            assert body.count("<g><title>") == sum(len(a.timeline) for a in attempts)
        else:
            assert "<svg" not in body and "No request reached the mock" in body
    assert page.count("<svg") == sum(1 for r in report.results if r.timeline) + 1  # the flaky


def test_html_timeline_is_to_scale_and_coloured_by_status(report):
    svg = _sections(html.render(report))["alana.RATE_001"]
    marks = re.findall(
        r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="8" fill="(#\w+)"', svg
    )
    xs = [float(x) for x, _, _ in marks]
    assert [fill for _, _, fill in marks] == ["#f07c1b", "#8a8f98", "#2e9d4f"]  # 429, none, 2xx
    scale = (xs[2] - xs[0]) / 1.3
    assert xs[1] - xs[0] == pytest.approx(0.12 * scale, abs=0.2)
    assert float(marks[1][1]) == pytest.approx(0.5 * scale, abs=0.2)  # the hang's duration bar
    assert ">0.0 s</text>" in svg and ">1.5 s</text>" in svg
    rows = re.findall(
        r'<g><title>(.*?)</title><text x="4" [^>]*>(.*?)</text>.*?font-weight="bold">(.*?)</text></g>',
        svg,
    )
    assert [(label, status) for _, label, status in rows] == [
        ("alana.RATE_001 · GET /api/v1/products/42", "429"),
        ("fault.hang · GET /api/v1/products/42", "—"),
        ("(normal answer) · GET /api/v1/products/42", "200"),
    ]
    assert rows[1][0] == "0.120s  GET /api/v1/products/42 -&gt; no response [fault.hang] (500 ms)"
    server = _sections(html.render(report))["alloy.SERVER_500"]
    assert 'fill="#d64545"' in server  # 5xx red


def test_html_escapes_every_user_string(report):
    page = html.render(report)
    assert page.count("<script") == 1  # the filter script, nothing from the data
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; a | pipe" in page
    assert "&lt;b&gt;down&lt;/b&gt;" in page and "<b>down</b>" not in page
    assert "\x1b" not in page and "\\x1b[31mKeyError" in page  # control characters made visible


def test_html_shows_checks_outcomes_and_errors(report):
    sections = _sections(html.render(report))
    assert "retried 0.12 s after a 429 that asked for 1 s" in sections["alana.RATE_001"]
    assert "<dd>unauthorized</dd>" in sections["alana.AUTH_001"]
    assert "<dd>timeout error</dd>" in sections["airbyte.TIMEOUT_001"]
    assert "Run error: client exited 1" in sections["airbyte.CRASH_001"]
    assert "the client reported no usable outcome" in sections["airbyte.CRASH_001"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "2xx"),
        (302, "3xx"),
        (404, "4xx"),
        (429, "429"),
        (503, "5xx"),
        (None, "none"),
        (999, "none"),
    ],
)
def test_status_classes(status, expected):
    assert html.status_class(status) == expected


def test_ticks_are_round_and_cover_the_range():
    lo, hi, step, decimals = html._ticks(0.0, 1.3)
    assert (lo, hi, step, decimals) == (0.0, 1.5, 0.5, 1)
    lo, hi, step, decimals = html._ticks(40.0, 41.0)
    assert lo <= 40.0 and hi >= 41.0 and step == pytest.approx(0.2) and decimals == 1


def test_html_anchor_ids_are_unique_for_odd_or_repeated_scenario_ids():
    results = tuple(ScenarioResult(s, "x", ()) for s in ("x.A B", "x.A-B", "x.A-B", "<>"))
    results += (
        ScenarioResult("fault.hang", "alana", ()),
        ScenarioResult("fault.hang", "alloy", ()),
    )
    page = html.render(RunReport("c", 0.0, results))
    tags = _tags(page)
    ids = [a["id"] for _, a in tags if "id" in a]
    assert len(ids) == len(set(ids)) == 6
    assert {"s-alana-fault.hang", "s-alloy-fault.hang"} <= set(ids)
    hrefs = [a["href"][1:] for t, a in tags if t == "a"]
    assert sorted(hrefs) == sorted(ids)


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_an_empty_run_renders_in_every_format(fmt, tmp_path):
    empty = RunReport("c", 0.0, ())
    write(empty, **{fmt: tmp_path / "r"})
    assert (tmp_path / "r").stat().st_size > 0


# --- verdict kinds: warn, flaky, strict -----------------------------------------------------


def _one(*verdicts: str, first: ScenarioResult | None = None) -> ScenarioResult:
    checks = tuple(CheckResult(f"c{i}", v, f"{v} {i}") for i, v in enumerate(verdicts))  # type: ignore[arg-type]
    return ScenarioResult("x.A", "x", checks, first_attempt=first)


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (("pass", "skip"), "pass"),
        (("pass", "warn", "skip"), "warn"),
        (("warn", "fail"), "fail"),
        (("skip", "skip"), "skip"),
        ((), "skip"),
    ],
)
def test_scenario_verdict_from_its_checks(verdicts, expected):
    assert _one(*verdicts).verdict == expected


def test_a_run_error_fails_whatever_the_checks_say():
    errored = ScenarioResult("x.A", "x", (CheckResult("c", "warn", "w"),), error="crashed")
    assert errored.verdict == "fail"


@pytest.mark.parametrize(
    ("rerun", "expected"),
    [(("pass",), "flaky"), (("warn",), "flaky"), (("skip",), "flaky"), (("fail",), "fail")],
)
def test_a_rerun_after_a_failed_first_attempt_is_flaky_unless_it_fails(rerun, expected):
    result = _one(*rerun, first=_one("fail"))
    assert result.verdict == expected
    assert result.attempt_verdict == rerun[0]


def test_a_first_attempt_that_did_not_fail_changes_nothing():
    assert _one("pass", first=_one("pass")).verdict == "pass"


def test_strict_fails_warned_and_flaky_runs_only():
    warned = RunReport("c", 0.0, (_one("pass"), _one("warn")))
    flaky = RunReport("c", 0.0, (_one("pass", first=_one("fail")),))
    failed = RunReport("c", 0.0, (_one("fail"),))
    assert (warned.passed, flaky.passed, failed.passed) == (True, True, False)
    strict = [dataclasses.replace(r, strict=True).passed for r in (warned, flaky, failed)]
    assert strict == [False, False, False]
    assert dataclasses.replace(RunReport("c", 0.0, (_one("pass"),)), strict=True).passed


def test_json_keeps_the_first_attempt_beside_the_rerun(report):
    data = report.to_json()["results"][6]
    assert data["verdict"] == "flaky"
    assert [c["verdict"] for c in data["checks"]] == ["pass", "pass"]
    first = data["first_attempt"]
    assert set(first) == {"verdict", "checks", "timeline", "outcome", "duration_s"}
    assert first["verdict"] == "fail" and first["duration_s"] == 0.4
    assert first["checks"][1] == {"id": "backs_off", "verdict": "fail", "detail": FIRST_DETAIL}
    assert [t["path"] for t in first["timeline"]] == ["/api/v1/products/7", "/api/v1/first-only"]
    assert first["outcome"] == {"ok": True, "status": 200, "data": {"id": 7}}
    assert "first_attempt" not in report.to_json()["results"][0]


def _cases(report: RunReport) -> dict[str, ET.Element]:
    """Testcases by name, as raw elements: junitparser ignores Surefire's flakyFailure."""
    root = ET.fromstring(junit.render(report))
    return {c.get("name"): c for c in root.iter("testcase")}


def _props(case: ET.Element) -> dict[str, str | None]:
    return {p.get("name"): p.get("value") for p in case.iterfind("properties/property")}


def test_junit_warn_is_a_passing_case_with_a_property_and_system_out(report):
    xml = JUnitXml.fromstring(junit.render(report).decode())
    cases = {c.name: c for s in xml for c in s}
    warn = cases["airbyte.TIMEOUT_001 :: times_out"]
    assert warn.is_passed
    assert "warning: gave up after 9.8 s" in warn.system_out
    assert "-> no response [fault.hang]" in warn.system_out  # the evidence with it
    assert _props(_cases(report)["airbyte.TIMEOUT_001 :: times_out"]) == {
        "faultproof.verdict": "warn",
        "faultproof.warning": "gave up after 9.8 s, close to the 10 s ceiling",
    }
    assert next(iter(_cases(report)["airbyte.TIMEOUT_001 :: times_out"])).tag == "properties"


def test_junit_flaky_is_a_surefire_flaky_failure_under_a_passing_case(report):
    xml = JUnitXml.fromstring(junit.render(report).decode())
    cases = {c.name: c for s in xml for c in s}
    assert cases["alana.SERVER_002 :: backs_off"].is_passed
    assert cases["alana.SERVER_002 :: retries_retryable"].is_passed
    raw = _cases(report)
    [flaky] = raw["alana.SERVER_002 :: backs_off"].findall("flakyFailure")
    assert flaky.get("message") == FIRST_DETAIL and flaky.get("type") == "backs_off"
    trace = flaky.findtext("stackTrace")
    assert FIRST_DETAIL in trace and "/api/v1/first-only -> 200" in trace
    out = flaky.findtext("system-out")
    first, rerun = out.split("rerun (did not fail):")
    assert "first-only" in first and "0.520s" in rerun
    assert _props(raw["alana.SERVER_002 :: backs_off"]) == {"faultproof.verdict": "flaky"}
    assert not raw["alana.SERVER_002 :: retries_retryable"].findall("flakyFailure")


def test_junit_strict_turns_warn_and_flaky_into_failures(report):
    strict = dataclasses.replace(report, strict=True)
    xml = JUnitXml.fromstring(junit.render(strict).decode())
    assert (xml.tests, xml.failures, xml.errors) == (15, 5, 1)  # 2 fails, 2 warns, 1 flaky
    cases = {c.name: c for s in xml for c in s}
    [warn] = cases["airbyte.TIMEOUT_001 :: times_out"].result
    assert isinstance(warn, Failure) and warn.message.startswith("warn: gave up after 9.8 s")
    [flaky] = cases["alana.SERVER_002 :: backs_off"].result
    assert isinstance(flaky, Failure) and flaky.message == f"flaky: {FIRST_DETAIL}"
    assert "first-only" in flaky.text and "0.520s" in flaky.text  # both timelines
    assert not _cases(strict)["alana.SERVER_002 :: backs_off"].findall("flakyFailure")


def test_junit_a_first_attempt_error_goes_on_the_first_case():
    crashed = ScenarioResult("x.A", "x", (CheckResult("c", "fail", "no"),), error="killed")
    rerun = ScenarioResult(
        "x.A", "x", (CheckResult("recovers", "pass", "ok"),), first_attempt=crashed
    )
    case = _cases(RunReport("c", 0.0, (rerun,)))["x.A :: recovers"]
    assert [f.get("type") for f in case.findall("flakyFailure")] == ["run", "c"]


def test_markdown_shows_flaky_with_both_timelines_and_warnings(report):
    text = markdown.render(report)
    flaky = text.split("### Flaky (1)", 1)[1].split("### Warnings", 1)[0]
    assert "#### 🔁 `alana.SERVER_002` (alana)" in flaky
    assert f"- `backs_off` failed on the first attempt: {FIRST_DETAIL}" in flaky
    assert "first attempt: client outcome and timeline (2 requests)" in flaky
    assert "rerun: client outcome and timeline (2 requests)" in flaky
    assert "/api/v1/first-only" in flaky and "0.520s" in flaky
    header = next(line for line in text.splitlines() if line.startswith("| provider"))
    alana = next(line for line in text.splitlines() if line.startswith("| alana"))
    column = header.strip("|").split("|").index(" `backs_off` ")
    assert alana.strip("|").split("|")[column].strip() == "🔁 1/1"
    assert "- `airbyte.TIMEOUT_001` · `times_out`: gave up after 9.8 s" in text
    assert "alana.SERVER_002" not in text.split("### Failures", 1)[1].split("### Flaky", 1)[0]


def test_markdown_headline_for_warned_only_and_under_strict():
    warned = RunReport("c", 0.0, (_one("pass"), _one("warn"), _one("pass", first=_one("fail"))))
    assert markdown.render(warned).startswith(
        "## ⚠️ faultproof: no failures in 3 scenarios, 1 warned, 1 flaky"
    )
    strict = markdown.render(dataclasses.replace(warned, strict=True))
    assert strict.startswith("## ❌ faultproof: 2 of 3 scenarios failed (--strict")
    assert "### Warnings (1, failures under --strict)" in strict


def test_html_marks_warn_and_flaky_and_shows_the_first_attempt(report):
    page = html.render(report)
    cells = {
        a["data-scenario"]: a["class"].split()
        for t, a in _tags(page)
        if t == "a" and "cell" in (a.get("class") or "")
    }
    assert "flaky" in cells["alana.SERVER_002"] and "warn" in cells["airbyte.TIMEOUT_001"]
    assert "1 warned" in page and "1 flaky" in page
    section = _sections(page)["alana.SERVER_002"]
    first, rerun = section.split('<div class="attempt rerun">')
    assert '<div class="attempt first-attempt">' in first and FIRST_DETAIL in first
    assert "/api/v1/first-only" in first and "/api/v1/first-only" not in rerun
    assert first.count("<svg") == rerun.count("<svg") == 1
    assert ".cell.flaky{" in page and ".cell.warn{" in page
    assert 'data-show="flaky"' in page and 'data-show="warn"' in page


def test_html_header_badge_follows_strict():
    warned = RunReport("c", 0.0, (_one("warn"),))
    assert '<h1>faultproof report <span class="badge b-warn">' in html.render(warned)
    strict = html.render(dataclasses.replace(warned, strict=True))
    assert '<h1>faultproof report <span class="badge b-fail">' in strict
