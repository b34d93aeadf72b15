"""The check registry: ids, the run a check reads (``CheckContext``), and registration.

A check reads one run of one scenario and returns a finding: a verdict and one sentence of
evidence. Each check says which run it grades: ``recovery`` (a few planned failures, then
normal answers) or ``persistent`` (the failure repeats for every request). A duplicate id, an
id DESIGN.md does not name, or a function of another shape fails at import.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .catalogue import Provider
from .scenario import Operation, Scenario
from .verdict import CheckResult, Outcome, Verdict

Mode = Literal["recovery", "persistent"]
CHECK_IDS = (
    "parses_envelope",
    "stops_on_non_retryable",
    "retries_retryable",
    "honours_retry_after",
    "caps_retry_after",
    "bounded_attempts",
    "backs_off",
    "times_out",
    "detects_stream_error",
    "refreshes_token",
    "handles_non_json",
    "recovers",
    "safe_retries",
)


@dataclass(frozen=True, slots=True)
class CheckContext:
    """One run of one scenario, as a check sees it.

    Attributes:
        scenario: The scenario the run served.
        provider: The provider (its policy, normal form).
        operation: What the client was asked to do.
        entries: Journal entries of the run's session, in ``seq`` order (inbound requests only);
            an entry still ``in_flight`` has no ``responded_at`` and no ``status`` yet.
        outcome: What the client reported, or ``None`` when it reported nothing usable.
        elapsed_s: How long the client ran.
        time_limit_s: The time the run allowed (``FAULTPROOF_TIMEOUT_S``).
        killed: Whether the runner had to stop the client at the limit.
        failures: Failure answers planned before normal ones (recovery runs).
        params: The scenario parameters the run served (the body depends on them).
    """

    scenario: Scenario
    provider: Provider
    operation: Operation
    entries: Sequence[Mapping[str, Any]]
    outcome: Outcome | None
    elapsed_s: float = 0.0
    time_limit_s: float = 30.0
    killed: bool = False
    failures: int = 1
    params: Mapping[str, Any] = field(default_factory=dict)


Finding = tuple[Verdict, str]
CheckFn = Callable[[CheckContext], Finding]


@dataclass(frozen=True, slots=True)
class Check:
    """A registered check: its id, the run it grades, and the function."""

    id: str
    mode: Mode
    fn: CheckFn
    reads_outcome: bool = False
    timed: bool = False


REGISTRY: dict[str, Check] = {}


def check(
    check_id: str, mode: Mode, *, reads_outcome: bool = False, timed: bool = False
) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the check ``check_id``; refuse unknown ids, duplicates and bad shapes.

    ``reads_outcome`` marks a check that grades what the client reported, not only its traffic:
    graders of captured traffic or of a journal alone cannot decide it. ``timed`` marks a check
    whose verdict can change with how fast the machine runs the client (it compares times, or
    a client's time budget decides it): the runner confirms such a failure by a rerun.
    """

    def register(fn: CheckFn) -> CheckFn:
        if check_id not in CHECK_IDS:
            raise TypeError(
                f"{check_id!r} is not a DESIGN.md check id; valid: {', '.join(CHECK_IDS)}"
            )
        if list(inspect.signature(fn).parameters) != ["ctx"]:
            raise TypeError(f"check {check_id!r} must take exactly one parameter named ctx")
        if check_id in REGISTRY:
            raise TypeError(f"check {check_id!r} registered twice")
        REGISTRY[check_id] = Check(check_id, mode, fn, reads_outcome, timed)
        return fn

    return register


def run_check(check_id: str, ctx: CheckContext) -> CheckResult:
    """Grade one check; a check that raises is a tool error, reported as such, never a pass."""
    try:
        verdict, detail = REGISTRY[check_id].fn(ctx)
    except Exception as exc:  # a bug in a check must be loud in the report
        return CheckResult(
            check_id, "fail", f"the check itself failed: {type(exc).__name__}: {exc}"
        )
    return CheckResult(check_id, verdict, detail)
