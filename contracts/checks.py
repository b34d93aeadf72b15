"""The client contract: one plain function per check id, registered by name.

A check reads one run of one scenario (``CheckContext``: the scenario, its provider's policy,
the operation, the journal entries the mock recorded, the client's outcome) and returns a
``CheckResult`` with one sentence of evidence. Each check says which run it grades:
``recovery`` (a few planned failures, then normal answers) or ``persistent`` (the failure
repeats for every request). A duplicate id, an id DESIGN.md does not name, or a function of
another shape fails at import.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

from .catalogue import Provider
from .scenario import Operation, Scenario
from .timing import CLOCK_TOLERANCE_S, START_TOLERANCE_S, expected_wait
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
SECRET_HEADERS = ("authorization", "x-api-key", "cookie")


@dataclass(frozen=True, slots=True)
class CheckContext:
    """One run of one scenario, as a check sees it.

    Attributes:
        scenario: The scenario the run served.
        provider: The provider (its policy, normal form).
        operation: What the client was asked to do.
        entries: Journal entries of the run's session, in ``seq`` order (inbound requests only).
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


def _status(entry: Mapping[str, Any]) -> str:
    status = entry.get("status")
    return "no response" if status is None else str(status)


def _gaps(entries: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], float]]:
    """(answer, wait before the next request) for each consecutive pair."""
    return [(a, float(b["received_at"]) - float(a["responded_at"])) for a, b in pairwise(entries)]


def _what(ctx: CheckContext) -> str:
    s = ctx.scenario
    return f"{s.status or s.fault} ({s.code or s.message or s.id})"


def _credential(entry: Mapping[str, Any]) -> str:
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    return "|".join([*(headers.get(h, "") for h in SECRET_HEADERS), str(entry.get("path"))])


@check("parses_envelope", "persistent", reads_outcome=True)
def parses_envelope(ctx: CheckContext) -> Finding:
    """The reported error is the normal form of the body the provider sent."""
    if isinstance(ctx.scenario.body, str) or not (ctx.scenario.code or ctx.scenario.message):
        return "skip", "the answer has no JSON envelope to parse"
    if ctx.outcome is None:
        return "fail", f"reported no outcome after a {_what(ctx)}"
    if ctx.outcome.ok:
        return "fail", f"reported success after a {_what(ctx)}"
    served = ctx.scenario.render(ctx.params, now=0).body
    normal = ctx.provider.normal_form.apply(served)
    got = (ctx.outcome.code, ctx.outcome.message)
    want = (normal.code, normal.message)
    if got != want:
        return (
            "fail",
            f"reported code {got[0]!r}, message {got[1]!r}; the body says {want[0]!r}, {want[1]!r}",
        )
    want_id = normal.request_id
    if want_id and ctx.outcome.request_id != want_id:
        return (
            "fail",
            f"lost the request id: reported {ctx.outcome.request_id!r}, the body says {want_id!r}",
        )
    return "pass", f"reported {want[0] or want[1]!r} as the body says"


@check("stops_on_non_retryable", "persistent")
def stops_on_non_retryable(ctx: CheckContext) -> Finding:
    """A non-retryable answer is not sent again (a refresh call to another path is no repeat)."""
    if not ctx.entries:
        return "fail", "sent no request at all"
    first = ctx.entries[0]
    count = sum(
        1
        for e in ctx.entries
        if (e.get("method"), e.get("path")) == (first.get("method"), first.get("path"))
    )
    if count == 1:
        return "pass", f"stopped after one {_what(ctx)}"
    return "fail", f"sent {count} requests after a non-retryable {_what(ctx)}"


@check("retries_retryable", "recovery", timed=True)
def retries_retryable(ctx: CheckContext) -> Finding:
    """A retryable answer is retried."""
    if len(ctx.entries) >= 2:
        return "pass", f"retried after a {_what(ctx)} ({len(ctx.entries)} requests)"
    return "fail", f"gave up after one {_what(ctx)} that the policy retries"


@check("honours_retry_after", "recovery", timed=True)
def honours_retry_after(ctx: CheckContext) -> Finding:
    """Every retry waits at least what the previous answer's Retry-After asked."""
    asked = [
        (entry, gap) for entry, gap in _gaps(ctx.entries) if entry.get("retry_after_s") is not None
    ]
    if not asked:
        if ctx.entries and ctx.entries[-1].get("retry_after_s") is not None:
            return (
                "fail",
                f"never retried after a {_what(ctx)} that asked for "
                f"{ctx.entries[-1]['retry_after_s']:g} s",
            )
        return "skip", "no answer carried a Retry-After"
    for entry, gap in asked:
        wait = float(entry["retry_after_s"])
        if gap < wait - CLOCK_TOLERANCE_S:
            return "fail", f"retried {gap:.2f} s after a {_status(entry)} that asked for {wait:g} s"
    shortest = min(gap for _, gap in asked)
    return "pass", f"waited at least the asked time on every retry (shortest wait {shortest:.2f} s)"


@check("caps_retry_after", "persistent", timed=True)
def caps_retry_after(ctx: CheckContext) -> Finding:
    """A wait longer than the policy allows is capped, or surfaced as an error."""
    ceiling = ctx.provider.policy.max_wait_s
    for entry, gap in _gaps(ctx.entries):
        asked = entry.get("retry_after_s")
        if asked is not None and gap < min(float(asked), ceiling) - CLOCK_TOLERANCE_S:
            return "fail", (
                f"retried {gap:.2f} s after a {_status(entry)} that asked for {float(asked):g} s: "
                f"capping means waiting the cap ({ceiling:g} s), not ignoring the wait"
            )
        if gap > ceiling + CLOCK_TOLERANCE_S:
            return (
                "fail",
                f"waited {gap:.1f} s after a {_status(entry)}; "
                f"the policy caps waits at {ceiling:g} s",
            )
    if len(ctx.entries) == 1 and ctx.elapsed_s > ceiling + START_TOLERANCE_S:
        return "fail", (
            f"slept {ctx.elapsed_s:.1f} s on a Retry-After of "
            f"{ctx.entries[0].get('retry_after_s')} s before giving up; "
            f"the policy caps waits at {ceiling:g} s"
        )
    if ctx.killed:
        asked = ctx.entries[-1].get("retry_after_s") if ctx.entries else None
        return (
            "fail",
            f"still waiting after {ctx.time_limit_s:g} s on a Retry-After of {asked} s "
            f"(cap: {ceiling:g} s)",
        )
    return "pass", f"neither slept past the {ceiling:g} s cap nor hung on the asked wait"


@check("bounded_attempts", "persistent", timed=True)
def bounded_attempts(ctx: CheckContext) -> Finding:
    """However long failures last, attempts stop at the policy's maximum."""
    limit = ctx.provider.policy.max_attempts
    count = len(ctx.entries)
    if ctx.killed and count == 0:
        return "skip", "its first request never finished (a hang): times_out grades that"
    if ctx.killed and count <= limit:
        return (
            "fail",
            f"still retrying when stopped at {ctx.time_limit_s:g} s ({count} requests so far)",
        )
    if count <= limit:
        return (
            "pass",
            f"{count} attempt(s); the policy allows {limit}",
        )
    return "fail", f"sent {count} requests; the policy allows at most {limit}"


@check("backs_off", "persistent", timed=True)
def backs_off(ctx: CheckContext) -> Finding:
    """Retries without a server-named wait are spaced by the policy's backoff, never shrinking."""
    gaps = [(entry, gap) for entry, gap in _gaps(ctx.entries) if entry.get("retry_after_s") is None]
    if not gaps:
        return "skip", "no retry to space (or every wait was named by the server)"
    policy = ctx.provider.policy
    for number, (entry, gap) in enumerate(gaps, start=1):
        low, _ = expected_wait(number, policy)
        if gap < low:
            return (
                "fail",
                f"retried {gap:.2f} s after a {_status(entry)}; "
                f"the policy asks at least {low:.2f} s",
            )
    # The per-retry minimum grows with the policy's backoff, so growth needs no second test:
    # comparing observed gaps would blame an on-time retry for following a late one.
    return "pass", "waits: " + ", ".join(f"{gap:.2f} s" for _, gap in gaps)


@check("times_out", "persistent", reads_outcome=True, timed=True)
def times_out(ctx: CheckContext) -> Finding:
    """A request that gets no (complete) answer is abandoned within the allowed time."""
    if ctx.killed or ctx.outcome is None:
        return "fail", f"never gave up: still waiting when stopped at {ctx.time_limit_s:g} s"
    if ctx.outcome.ok:
        return "fail", "reported success although no complete answer ever came"
    if ctx.elapsed_s > ctx.time_limit_s + START_TOLERANCE_S:
        return (
            "fail",
            f"gave up after {ctx.elapsed_s:.1f} s; the run allowed {ctx.time_limit_s:g} s",
        )
    return (
        "pass",
        f"gave up after {ctx.elapsed_s:.1f} s ({ctx.outcome.transport or ctx.outcome.status})",
    )


@check("detects_stream_error", "persistent", reads_outcome=True)
def detects_stream_error(ctx: CheckContext) -> Finding:
    """An error line inside a stream ends the result as an error, not as a short success."""
    if ctx.outcome is None:
        return "fail", "reported no outcome for a stream that ended with an error line"
    if ctx.outcome.ok:
        return "fail", "returned the partial stream as a success, ignoring its error line"
    if ctx.outcome.code != ctx.scenario.code:
        return (
            "fail",
            f"reported {ctx.outcome.code!r} instead of the stream's {ctx.scenario.code!r}",
        )
    return "pass", f"reported the stream's {ctx.scenario.code} line as an error"


@check("refreshes_token", "recovery")
def refreshes_token(ctx: CheckContext) -> Finding:
    """After an expired credential, the client gets a new one and repeats with it."""
    refused = [
        i
        for i, e in enumerate(ctx.entries)
        if e.get("status") == ctx.scenario.status and e.get("scenario") == ctx.scenario.id
    ]
    if not refused:
        return "skip", f"the planned {_what(ctx)} was never served"
    first = refused[0]
    old = _credential(ctx.entries[first])
    later = ctx.entries[first + 1 :]
    if not later:
        return "fail", f"stopped after a {_what(ctx)} instead of refreshing its credential"
    refused_at = (ctx.entries[first].get("method"), ctx.entries[first].get("path"))
    repeated = any((e.get("method"), e.get("path")) == refused_at for e in later)
    asked = any((e.get("method"), e.get("path")) != refused_at for e in later)
    renewed = any(e.get("method") == ctx.operation.method and _credential(e) != old for e in later)
    if renewed:
        return "pass", f"retried with a new credential ({len(later)} requests after the 401)"
    if asked and repeated:
        return (
            "pass",
            "asked for a fresh credential, then retried (the provider gave back the same)",
        )
    return (
        "fail",
        f"retried with the same credential after a {_what(ctx)}, without asking for a new one",
    )


@check("handles_non_json", "persistent", reads_outcome=True)
def handles_non_json(ctx: CheckContext) -> Finding:
    """A body that is not the provider's JSON is reported as an error, without crashing."""
    if ctx.outcome is None:
        return "fail", f"crashed or printed no outcome on a {_what(ctx)}"
    if ctx.outcome.ok:
        return "fail", f"accepted a {_what(ctx)} as a success"
    return "pass", f"reported {ctx.outcome.transport or ctx.outcome.status} for a {_what(ctx)}"


@check("recovers", "recovery", reads_outcome=True, timed=True)
def recovers(ctx: CheckContext) -> Finding:
    """Once the failures end, the client returns the real answer."""
    if ctx.outcome is None:
        return "fail", "reported no outcome"
    last = _status(ctx.entries[-1]) if ctx.entries else "nothing"
    if ctx.outcome.ok and ctx.entries and 200 <= int(ctx.entries[-1].get("status") or 0) < 300:
        return "pass", f"returned the real answer after {len(ctx.entries)} requests"
    return (
        "fail",
        f"ended with {ctx.outcome.to_json()} after {len(ctx.entries)} requests "
        f"(last answer: {last})",
    )


@check("safe_retries", "persistent")
def safe_retries(ctx: CheckContext) -> Finding:
    """A non-idempotent request is not repeated after an answer that may mean it was processed."""
    if ctx.operation.idempotent:
        return "skip", f"{ctx.operation.method} {ctx.operation.name} is idempotent"
    if any(k.lower() == "idempotency-key" for k in ctx.operation.headers):
        return "skip", "the request carries an Idempotency-Key"
    for entry, following in pairwise(ctx.entries):
        status = entry.get("status")
        ambiguous = status is None or int(status) >= 500
        if (
            ambiguous
            and following.get("method") == entry.get("method")
            and following.get("path") == entry.get("path")
        ):
            return (
                "fail",
                f"repeated {entry.get('method')} {entry.get('path')} after a "
                f"{_status(entry)} that may have been processed",
            )
    return "pass", f"did not repeat the {ctx.operation.method} after a {_what(ctx)}"
