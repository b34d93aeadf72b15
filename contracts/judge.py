"""Grading captured traffic (``faultproof judge``) with the checks the runner uses.

Captured traffic is split into conversations: one operation and its repeats. Within one session
and provider, a request joins the open conversation of the same method and path when that
conversation's last answer was not a plain success and it came within twice the policy's
longest wait; anything else starts a new one. A conversation of successes only has nothing to
grade. For a scenario whose client must refresh a credential, the requests in between (the
refresh call) belong to the conversation, as in the runner's sessions.

Each conversation is graded by the checks of the scenario its first failure was recognised as
(``recognise.py``), or by the client policy alone when none can be told, with the same check
functions. What traffic cannot show is never guessed: checks about what the client reported
(``parses_envelope``, ``detects_stream_error``, ``handles_non_json``) or about when it stopped
waiting (``times_out``) are skipped with the reason; ``recovers`` passes when the real answer
arrived and is skipped when the traffic ends on a failure (whether the server would have
answered a further retry is not in it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from .capture import CaptureError, read_har, read_journal
from .catalogue import Catalogue, Provider
from .check_safety import ambiguous
from .checks import CheckContext, run_check
from .errors import UnknownIdError
from .recognise import Recognition, policy_checks, recognise, stand_in
from .runner import _timeline
from .scenario import IDEMPOTENT_METHODS, Operation
from .verdict import CheckResult, Outcome, RunReport, ScenarioResult

Format = Literal["journal", "har"]
#: A repeat later than this many times the policy's longest wait starts a new conversation.
MAX_GAP_FACTOR = 2.0
UNDECIDABLE = {
    "parses_envelope": "what the client reported is not in captured traffic, only what it sent",
    "detects_stream_error": (
        "whether the client took the stream's error line for an error is not in captured traffic"
    ),
    "handles_non_json": (
        "whether the client reported the non-JSON answer as an error (or crashed) "
        "is not in captured traffic"
    ),
    "times_out": "when the client stopped waiting for an answer is not in captured traffic",
}
NO_POLICY_401 = (
    "a 401 may ask the client to refresh its credential or to stop; without knowing which "
    "scenario it was, the traffic cannot say which the client owed"
)


@dataclass(frozen=True, slots=True)
class Conversation:
    """One operation as the traffic shows it.

    Attributes:
        provider: The provider it went to.
        entries: Its requests (and, for a token refresh, the requests in between), in order.
        recognition: What its first failure was taken for.
    """

    provider: Provider
    entries: tuple[dict[str, Any], ...]
    recognition: Recognition


@dataclass(frozen=True, slots=True)
class Judgement:
    """A judged capture: the report, and one line per result saying what was graded and why."""

    report: RunReport
    notes: tuple[str, ...]


def _end(entry: Mapping[str, Any]) -> float:
    """When the entry's answer ended; a request still in flight has only its arrival."""
    return float(entry.get("responded_at") or entry["received_at"])


def _ok(entry: Mapping[str, Any]) -> bool:
    status = entry.get("status")
    return status is not None and 200 <= int(status) < 400 and not entry.get("scenario")


def _marked(entry: dict[str, Any], provider: Provider, catalogue: Catalogue) -> dict[str, Any]:
    """The entry with ``scenario`` set to what its answer was recognised as."""
    if _ok(entry):
        return entry
    found = recognise(entry, provider, catalogue).scenario
    return {**entry, "scenario": found.id if found else entry.get("scenario")}


def conversations(entries: Sequence[dict[str, Any]], catalogue: Catalogue) -> list[Conversation]:
    """Every conversation with at least one answer that was not a plain success."""
    streams: dict[tuple[Any, str], list[dict[str, Any]]] = {}
    for entry in entries:
        streams.setdefault((entry.get("session"), entry["provider"]), []).append(entry)
    found = []
    for (_, provider_id), stream in streams.items():
        found += _split(stream, catalogue.provider(provider_id), catalogue)
    return sorted(found, key=lambda c: float(c.entries[0]["received_at"]))


def _split(
    stream: list[dict[str, Any]], provider: Provider, catalogue: Catalogue
) -> list[Conversation]:
    max_gap = MAX_GAP_FACTOR * provider.policy.max_wait_s
    judged = []
    for group in _groups(stream, max_gap):
        failure = next((e for e in group if not _ok(e)), None)
        if failure is not None:
            judged.append((group, recognise(failure, provider, catalogue)))
    side: dict[int, list[dict[str, Any]]] = {}
    for index, (group, recognition) in enumerate(judged):
        if recognition.scenario and "refreshes_token" in recognition.scenario.checks:
            side[index] = _refresh_requests(group, stream, max_gap)
    taken = {id(e) for extra in side.values() for e in extra}
    found = []
    for index, (group, recognition) in enumerate(judged):
        if all(id(e) in taken for e in group):
            continue  # a refresh call, graded with the request it refreshed for
        ordered = sorted(group + side.get(index, []), key=lambda e: float(e["received_at"]))
        entries = tuple(_marked(e, provider, catalogue) for e in ordered)
        found.append(Conversation(provider, entries, recognition))
    return found


def _groups(stream: list[dict[str, Any]], max_gap: float) -> list[list[dict[str, Any]]]:
    """Requests grouped by method and path, each group ended by a success or a long gap."""
    current: dict[tuple[str, str], list[dict[str, Any]]] = {}
    groups = []
    for entry in stream:
        key = (entry["method"], entry["path"])
        group = current.get(key)
        if group and not _ok(group[-1]):
            gap = float(entry["received_at"]) - _end(group[-1])
            if gap <= max_gap:
                group.append(entry)
                continue
        if group:
            groups.append(group)
        current[key] = [entry]
    return groups + list(current.values())


def _refresh_requests(
    group: list[dict[str, Any]], stream: list[dict[str, Any]], max_gap: float
) -> list[dict[str, Any]]:
    """Requests to other paths during the group and, when it ended refused, right after it."""
    key = (group[0]["method"], group[0]["path"])
    ids = {id(e) for e in group}
    end = float(group[-1]["received_at"])
    last = _end(group[-1])
    found = []
    for entry in stream:
        at = float(entry["received_at"])
        if id(entry) in ids or at < float(group[0]["received_at"]):
            continue
        after = at > end
        if after and ((entry["method"], entry["path"]) == key or _ok(group[-1])):
            break
        if after and at - last > max_gap:
            break
        found.append(entry)
        last = max(last, _end(entry))
    return found


def _operation(provider: Provider, entry: Mapping[str, Any]) -> Operation:
    """The captured request as an operation; the catalogue's when it is one of its operations."""
    method, path = entry["method"], entry["path"]
    known = next(
        (o for o in provider.operations.values() if (o.method, o.path) == (method, path)), None
    )
    return Operation(
        name=known.name if known else f"{method} {path}",
        method=method,
        path=path,
        query=dict(entry.get("query") or {}),
        headers=dict(entry.get("headers") or {}),
        idempotent=known.idempotent if known else method in IDEMPOTENT_METHODS,
    )


def _grade_one(check_id: str, ctx: CheckContext) -> CheckResult:
    """One check on a conversation, or a skip saying what the traffic cannot show."""
    if check_id in UNDECIDABLE:
        return CheckResult(check_id, "skip", UNDECIDABLE[check_id])
    last = ctx.entries[-1]
    if check_id == "recovers":
        if not _ok(last):
            return CheckResult(
                check_id,
                "skip",
                f"the traffic ends on a {last.get('status') or 'missing answer'}: whether the "
                "server would have answered a further retry is not in it",
            )
        result = run_check(
            check_id, dataclasses.replace(ctx, outcome=Outcome(ok=True, status=last["status"]))
        )
        return dataclasses.replace(
            result, detail=result.detail + " (what the client then returned is not captured)"
        )
    if check_id == "caps_retry_after" and len(ctx.entries) == 1:
        return CheckResult(
            check_id,
            "skip",
            "it stopped after one answer; whether it slept on the asked wait before giving up "
            "is not in captured traffic",
        )
    return run_check(check_id, ctx)


def _unsafe_repeat(operation: Operation, entries: Sequence[Mapping[str, Any]]) -> bool:
    """A non-idempotent request repeated after an answer that may mean it was processed.

    ``safe_retries`` then applies whatever scenario recognition picked: a 503 body may match a
    scenario of a GET, and the POST repeated after it must still be graded.
    """
    if operation.idempotent:
        return False
    return any(
        ambiguous(a) and (a["method"], a["path"]) == (b["method"], b["path"])
        for a, b in pairwise(entries)
    )


def grade(conversation: Conversation) -> ScenarioResult:
    """Every check its scenario (or, unrecognised, the client policy) applies."""
    provider, entries = conversation.provider, list(conversation.entries)
    failure = next(e for e in entries if not _ok(e))
    operation = _operation(provider, entries[0])
    scenario = conversation.recognition.scenario
    suffix = ""
    if scenario is None:
        wait = failure.get("retry_after_s")
        checks = policy_checks(provider, failure.get("status"), wait, operation.idempotent)
        scenario = stand_in(provider, failure, checks)
        suffix = f" [unrecognised: {conversation.recognition.how}; graded by the client policy]"
    ctx = CheckContext(scenario, provider, operation, entries, None)
    checks = scenario.checks
    if "safe_retries" not in checks and _unsafe_repeat(operation, entries):
        checks += ("safe_retries",)
    results = [_grade_one(c, ctx) for c in checks] or [
        CheckResult("stops_on_non_retryable", "skip", NO_POLICY_401)
    ]
    return ScenarioResult(
        scenario=scenario.id,
        provider=provider.id,
        checks=tuple(dataclasses.replace(r, detail=r.detail + suffix) for r in results),
        timeline=_timeline(entries),
        duration_s=_end(entries[-1]) - float(entries[0]["received_at"]),
    )


def judge(
    path: Path, fmt: Format, provider: str | None = None, catalogue: Catalogue | None = None
) -> Judgement:
    """Read a journal export or a HAR file and grade every conversation in it."""
    from .catalogue import default_catalogue

    cat = catalogue or default_catalogue()
    if provider is not None:
        cat.provider(provider)  # an unknown id stops here, listing the valid ones
    if fmt == "har":
        entries = read_har(path, cat.providers, provider)
    else:
        entries = read_journal(path, provider)
    for entry in entries:
        if entry.get("provider") not in cat.providers:
            given = str(entry.get("provider"))
            if entry.get("provider") is None:
                raise CaptureError(f"{path}: an entry names no provider; pass --provider P")
            raise UnknownIdError(f"provider (in {path})", given, cat.providers)
    return judge_entries(entries, cat, f"captured traffic: {path.name}", f"{fmt} {path}")


def judge_entries(
    entries: Sequence[dict[str, Any]], cat: Catalogue, client: str, source: str
) -> Judgement:
    """Grade journal entries (each naming a known provider): what ``judge`` does with a file,
    and what the control plane's verdicts endpoint does with a session's journal."""
    # Captured elsewhere, secrets may be in clear: the evidence keeps fingerprints only.
    entries = [cat.providers[e["provider"]].redaction.entry(e) for e in entries]
    if not entries:
        return Judgement(RunReport(client=client, duration_s=0.0, results=()), ())
    found = conversations(entries, cat)
    results = tuple(grade(c) for c in found)
    notes = tuple(
        f"{r.verdict.upper():4} {r.scenario}: {c.entries[0]['method']} {c.entries[0]['path']}, "
        f"{len(c.entries)} request(s); {c.recognition.how}"
        for r, c in zip(results, found, strict=True)
    )
    start = min(float(e["received_at"]) for e in entries)
    end = max(_end(e) for e in entries)
    report = RunReport(
        client=client,
        duration_s=end - start,
        results=results,
        started_at=start,
        meta={
            "source": source,
            "requests": len(entries),
            "conversations graded": len(found),
        },
    )
    return Judgement(report, notes)


__all__ = ["Conversation", "Judgement", "conversations", "grade", "judge", "judge_entries"]
