"""What a judged run produces: outcomes, check results, scenario results, the run report.

Plain frozen data, so the same objects feed every report format (JSON, JUnit XML, Markdown,
HTML) and the CLI's exit code. ``RunReport.to_json()`` is the DESIGN.md report shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["pass", "fail", "warn", "skip"]
#: A scenario's verdict: a check's, or ``flaky`` (a timing failure its rerun did not repeat).
ScenarioVerdict = Literal["pass", "fail", "warn", "flaky", "skip"]
#: Scenario verdicts that fail a run only under ``--strict``.
STRICT_ONLY: frozenset[str] = frozenset({"warn", "flaky"})
Transport = Literal["timeout", "connection", "protocol"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a client under test reports for one operation (the adapter protocol's outcome).

    Attributes:
        ok: Whether the client returned a success.
        status: The HTTP status it ended on, or ``None`` after a transport failure.
        data: The parsed success body.
        code: Normal-form code of the error it reports.
        message: Normal-form message.
        request_id: Normal-form request id.
        transport: ``timeout``, ``connection`` or ``protocol`` when no usable answer came.
    """

    ok: bool
    status: int | None = None
    data: Any = None
    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    transport: Transport | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outcome:
        transport = data.get("transport")
        return cls(
            ok=bool(data.get("ok")),
            status=data.get("status"),
            data=data.get("data"),
            code=data.get("code"),
            message=data.get("message"),
            request_id=data.get("request_id"),
            transport=transport if transport in ("timeout", "connection", "protocol") else None,
        )

    def to_json(self) -> dict[str, Any]:
        if self.ok:
            return {"ok": True, "status": self.status, "data": self.data}
        if self.transport:
            return {"ok": False, "status": self.status, "transport": self.transport}
        return {
            "ok": False,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
        }


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict on one scenario, with one sentence of evidence.

    Attributes:
        id: The check id (``honours_retry_after``).
        verdict: ``pass``, ``fail``, ``warn`` or ``skip``.
        detail: A sentence a person understands ("retried 0.12 s after a 429 that asked for 1 s").
    """

    id: str
    verdict: Verdict
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "verdict": self.verdict, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One request of a scenario run, for the report's timeline.

    Attributes:
        t: Seconds since the first request of the run.
        method: HTTP method.
        path: Path below the provider.
        status: Answer status, ``None`` when no response was sent.
        scenario: The scenario that answered, or ``None`` for a normal answer.
        duration_s: From receipt to answer.
    """

    t: float
    method: str
    path: str
    status: int | None
    scenario: str | None
    duration_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "t": round(self.t, 4),
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "scenario": self.scenario,
            "duration_s": round(self.duration_s, 4),
        }


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """A client graded on one scenario.

    Attributes:
        scenario: Scenario id.
        provider: Provider id the run drove.
        checks: Every applicable check's result.
        timeline: The requests the mock saw, in order.
        outcome: What the client reported, or ``None`` if it reported nothing usable.
        duration_s: Wall time of the run.
        error: A tool error (the client crashed, printed no outcome, timed out hard), if any.
        stdout_tail: The last lines the client printed, for diagnosis.
        first_attempt: When the runner reran this scenario because its first attempt failed on
            timing, that failed attempt (this result is the rerun); ``None`` otherwise.
    """

    scenario: str
    provider: str
    checks: tuple[CheckResult, ...]
    timeline: tuple[TimelineEntry, ...] = ()
    outcome: Outcome | None = None
    duration_s: float = 0.0
    error: str | None = None
    stdout_tail: str = ""
    first_attempt: ScenarioResult | None = None

    @property
    def attempt_verdict(self) -> Verdict:
        """This attempt alone: ``fail`` (a check failed or the run errored), else ``warn``,
        else ``skip`` when nothing applied, else ``pass``."""
        if self.error or any(c.verdict == "fail" for c in self.checks):
            return "fail"
        if any(c.verdict == "warn" for c in self.checks):
            return "warn"
        if all(c.verdict == "skip" for c in self.checks):
            return "skip"
        return "pass"

    @property
    def verdict(self) -> ScenarioVerdict:
        """The attempt's verdict, except ``flaky`` for a rerun that did not repeat the failure
        of its first attempt: a failure that did not reproduce is never reported as ``pass``."""
        own, first = self.attempt_verdict, self.first_attempt
        if own != "fail" and first is not None and first.attempt_verdict == "fail":
            return "flaky"
        return own

    def fails(self, strict: bool = False) -> bool:
        """Whether this result fails the run: ``fail`` always, ``warn`` and ``flaky`` if strict."""
        verdict = self.verdict
        return verdict == "fail" or (strict and verdict in STRICT_ONLY)

    def flaky_checks(self) -> tuple[CheckResult, ...]:
        """The first attempt's failed checks, for a ``flaky`` result (else empty)."""
        if self.verdict != "flaky" or self.first_attempt is None:
            return ()
        return tuple(c for c in self.first_attempt.checks if c.verdict == "fail")

    def _attempt_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verdict": self.attempt_verdict,
            "checks": [c.to_json() for c in self.checks],
            "timeline": [t.to_json() for t in self.timeline],
            "outcome": self.outcome.to_json() if self.outcome else None,
            "duration_s": round(self.duration_s, 3),
        }
        if self.error:
            out["error"] = self.error
        return out

    def to_json(self) -> dict[str, Any]:
        """The report's result shape; a rerun carries its failed ``first_attempt`` too."""
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "provider": self.provider,
            **self._attempt_json(),
            "verdict": self.verdict,
        }
        if self.first_attempt is not None:
            out["first_attempt"] = self.first_attempt._attempt_json()
        return out


@dataclass(frozen=True, slots=True)
class RunReport:
    """A whole run: one client, many scenarios.

    Attributes:
        client: How the client was named (its command or ``module:function``).
        duration_s: Wall time of the run.
        results: One result per scenario, in catalogue order.
        started_at: Epoch seconds.
        meta: Anything else worth printing (mock URL, workers, faultproof version).
        strict: Whether ``warn`` and ``flaky`` results fail the run (``--strict``); the reports
            show them as failures then.
    """

    client: str
    duration_s: float
    results: tuple[ScenarioResult, ...]
    started_at: float = 0.0
    meta: Mapping[str, Any] = field(default_factory=dict)
    strict: bool = False

    @property
    def summary(self) -> dict[str, int]:
        """DESIGN.md's counts (scenarios, passed, failed, skipped), then warned and flaky."""
        verdicts = [r.verdict for r in self.results]
        return {
            "scenarios": len(verdicts),
            "passed": verdicts.count("pass"),
            "failed": verdicts.count("fail"),
            "skipped": verdicts.count("skip"),
            "warned": verdicts.count("warn"),
            "flaky": verdicts.count("flaky"),
        }

    @property
    def passed(self) -> bool:
        """Exit 0: nothing failed (nor, when ``strict``, warned or was flaky)."""
        return not any(r.fails(self.strict) for r in self.results)

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md report: client, duration_s, summary, results."""
        return {
            "client": self.client,
            "duration_s": round(self.duration_s, 3),
            "summary": self.summary,
            "results": [r.to_json() for r in self.results],
            "started_at": self.started_at,
            "meta": dict(self.meta),
            "strict": self.strict,
        }
