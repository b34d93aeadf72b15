"""The judge's checks as assertions inside a user's own tests.

A ``Journal`` is what a session's mock recorded, plus what a check needs to read it: the
scenario that was planned, its provider, how many failures came before normal answers and the
parameters they were served with. ``assert_honours_retry_after(journal)`` grades it with the
same check function ``faultproof run`` uses and, on failure, raises ``AssertionError`` with the
check's one sentence of evidence and the request timeline, so pytest shows what happened.

A ``warn`` (a threshold that rests on an assumed policy value, named in the detail) does not fail
the test: it is issued as a ``FaultproofWarning``, which pytest lists in its warnings summary.
``strict=True``, the plugin's ``--faultproof-strict`` or
``-W error::faultproof.contracts.assertions.FaultproofWarning`` make it fail the test instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from .catalogue import Catalogue, Provider, default_catalogue
from .checks import REGISTRY, CheckContext, Mode, run_check
from .errors import FaultproofError
from .scenario import Scenario
from .verdict import CheckResult, Outcome


class FaultproofWarning(UserWarning):
    """A check warned: its threshold rests on an assumed policy value, not on a seed.

    A warning, not a failure, so an assumption cannot fail a user's suite; turn it into an error
    with ``strict=True``, ``--faultproof-strict`` or ``-W error::<this class>``.
    """


@dataclass(frozen=True)
class Journal(Sequence[Mapping[str, Any]]):
    """A session's journal entries (``seq`` order) and the plan they answered.

    Attributes:
        entries: Inbound journal entries as the control plane returns them.
        dropped: Entries the mock dropped past its journal bound.
        scenario: The planned scenario; ``None`` to read it from the entries.
        provider: Its provider; ``None`` to read it from the entries.
        failures: Planned failure answers before normal behaviour.
        params: Parameters the scenario was served with (Retry-After seconds, ...).
        time_limit_s: The time the client was given.
        mode: The kind of run the plan made (``recovery``: failures then normal answers;
            ``persistent``: the failure for every request); ``None`` when unknown.
    """

    entries: tuple[Mapping[str, Any], ...]
    dropped: int = 0
    scenario: Scenario | None = None
    provider: Provider | None = None
    failures: int = 1
    params: Mapping[str, Any] = field(default_factory=dict)
    time_limit_s: float = 30.0
    mode: Mode | None = None

    @classmethod
    def from_export(cls, data: Mapping[str, Any], **context: Any) -> Journal:
        """A journal from ``GET /__faultproof/sessions/<id>/journal``'s JSON."""
        inbound = [e for e in data.get("entries", []) if e.get("direction") != "outbound"]
        return cls(
            tuple(sorted(inbound, key=lambda e: e["seq"])),
            int(data.get("dropped", 0)),
            **context,
        )

    @overload
    def __getitem__(self, index: int) -> Mapping[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Mapping[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return self.entries[index]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return iter(self.entries)

    @property
    def statuses(self) -> list[int | None]:
        """The status of each answer, ``None`` where the connection was cut."""
        return [e.get("status") for e in self.entries]

    def resolve(self, catalogue: Catalogue | None = None) -> tuple[Scenario, Provider]:
        """The planned scenario and provider, read from the entries when not given."""
        if self.scenario is not None and self.provider is not None:
            return self.scenario, self.provider
        catalogue = catalogue or default_catalogue()
        served = next((e for e in self.entries if e.get("scenario")), None)
        if served is None:
            raise FaultproofError(
                "this journal has no planned answer to grade: none of its "
                f"{len(self.entries)} requests was answered by a scenario (plan one first)"
            )
        # Our journal names the provider; DESIGN.md's fields alone leave it in the scenario id.
        provider_id = served.get("provider") or served["scenario"].split(".", 1)[0]
        if self.provider is None and provider_id == "fault":
            raise FaultproofError(
                f"{served['scenario']} is served on every provider: say which with provider=..."
            )
        provider = self.provider or catalogue.provider(provider_id)
        scenario = self.scenario or catalogue.scenario(served["scenario"], provider.id)
        return scenario, provider

    def context(
        self, outcome: Outcome | None = None, elapsed_s: float | None = None
    ) -> CheckContext:
        """What a check reads; the client's time is the journal's span unless given."""
        scenario, provider = self.resolve()
        span = (
            float(self.entries[-1]["responded_at"]) - float(self.entries[0]["received_at"])
            if self.entries
            else 0.0
        )
        return CheckContext(
            scenario,
            provider,
            provider.operation_for(scenario),
            self.entries,
            outcome,
            span if elapsed_s is None else elapsed_s,
            self.time_limit_s,
            False,
            self.failures,
            self.params,
        )

    def timeline(self) -> str:
        """One line per request: offset, method, path, status, serving scenario."""
        if not self.entries:
            return "  (no requests reached the mock)"
        start = float(self.entries[0]["received_at"])
        return "\n".join(
            f"  {float(e['received_at']) - start:7.3f}s {e['method']} {e['path']} -> "
            f"{e.get('status') or 'no response'} {e.get('scenario') or ''}".rstrip()
            for e in self.entries
        )


def evaluate(
    journal: Journal, check_id: str, outcome: Outcome | None = None, elapsed_s: float | None = None
) -> CheckResult:
    """One check's verdict on the journal, without raising."""
    if check_id not in REGISTRY:
        raise FaultproofError(f"unknown check {check_id!r}; valid: {', '.join(REGISTRY)}")
    if REGISTRY[check_id].reads_outcome and outcome is None:
        raise FaultproofError(
            f"{check_id} grades what the client reported: pass outcome=Outcome(...) "
            "(ok, status, code, message, request_id or transport)"
        )
    return run_check(check_id, journal.context(outcome, elapsed_s))


def _lines(results: Sequence[CheckResult], verdicts: tuple[str, ...]) -> list[str]:
    return [f"{r.id}: {r.detail}" for r in results if r.verdict in verdicts]


def _judged(
    journal: Journal, results: Sequence[CheckResult], strict: bool, stacklevel: int
) -> None:
    """Raise ``AssertionError`` on a fail (or, strict, a warn); issue a warning per warn.

    ``stacklevel`` counts the frames up to the user's test, so the warning names their line.
    """
    failing = ("fail", "warn") if strict else ("fail",)
    scenario, provider = journal.resolve()
    if any(r.verdict in failing for r in results):
        where = f"timeline of {scenario.id} on {provider.id}:"
        raise AssertionError("\n".join([*_lines(results, failing), where, journal.timeline()]))
    for line in _lines(results, ("warn",)):
        warnings.warn(
            FaultproofWarning(f"{scenario.id} on {provider.id}: {line}"), stacklevel=stacklevel
        )


def _assert_one(
    journal: Journal,
    check_id: str,
    outcome: Outcome | None,
    elapsed_s: float | None,
    strict: bool,
) -> CheckResult:
    # Called by assert_check or an assert_<check>: _judged, here, that caller, the user's test.
    result = evaluate(journal, check_id, outcome, elapsed_s)
    _judged(journal, [result], strict, stacklevel=4)
    return result


def assert_check(
    journal: Journal,
    check_id: str,
    outcome: Outcome | None = None,
    elapsed_s: float | None = None,
    *,
    strict: bool = False,
) -> CheckResult:
    """Fail the calling test when ``check_id`` fails on the journal (or, ``strict``, warns);
    a warn otherwise issues a ``FaultproofWarning``. Returns the result."""
    return _assert_one(journal, check_id, outcome, elapsed_s, strict)


def assert_survives(
    journal: Journal,
    outcome: Outcome | None = None,
    elapsed_s: float | None = None,
    *,
    strict: bool = False,
) -> list[CheckResult]:
    """Every check the planned scenario lists for this kind of run, as ``faultproof run`` grades it.

    Without ``outcome`` only the checks that read traffic alone are graded; the ones that grade
    what the client reported (``parses_envelope``, ``recovers``, ...) need it. Warns are
    ``FaultproofWarning`` warnings unless ``strict``, where they fail like failures.
    """
    scenario, _ = journal.resolve()
    wanted = [
        c
        for c in scenario.checks
        if journal.mode in (None, REGISTRY[c].mode)
        and (outcome is not None or not REGISTRY[c].reads_outcome)
    ]
    results = [run_check(c, journal.context(outcome, elapsed_s)) for c in wanted]
    _judged(journal, results, strict, stacklevel=3)
    return results


Asserter = Callable[..., CheckResult]


def _asserter(check_id: str) -> Asserter:
    def assertion(
        journal: Journal,
        outcome: Outcome | None = None,
        elapsed_s: float | None = None,
        *,
        strict: bool = False,
    ) -> CheckResult:
        return _assert_one(journal, check_id, outcome, elapsed_s, strict)

    assertion.__name__ = assertion.__qualname__ = f"assert_{check_id}"
    assertion.__doc__ = (
        f"Fail the calling test when the ``{check_id}`` check fails (or, ``strict``, warns)."
    )
    return assertion


assert_parses_envelope = _asserter("parses_envelope")
assert_stops_on_non_retryable = _asserter("stops_on_non_retryable")
assert_retries_retryable = _asserter("retries_retryable")
assert_honours_retry_after = _asserter("honours_retry_after")
assert_caps_retry_after = _asserter("caps_retry_after")
assert_bounded_attempts = _asserter("bounded_attempts")
assert_backs_off = _asserter("backs_off")
assert_times_out = _asserter("times_out")
assert_detects_stream_error = _asserter("detects_stream_error")
assert_refreshes_token = _asserter("refreshes_token")
assert_handles_non_json = _asserter("handles_non_json")
assert_recovers = _asserter("recovers")
assert_safe_retries = _asserter("safe_retries")

__all__ = [
    "FaultproofWarning",
    "Journal",
    "assert_backs_off",
    "assert_bounded_attempts",
    "assert_caps_retry_after",
    "assert_check",
    "assert_detects_stream_error",
    "assert_handles_non_json",
    "assert_honours_retry_after",
    "assert_parses_envelope",
    "assert_recovers",
    "assert_refreshes_token",
    "assert_retries_retryable",
    "assert_safe_retries",
    "assert_stops_on_non_retryable",
    "assert_survives",
    "assert_times_out",
    "evaluate",
]
