"""The checks about answers: what the client reported, and whether it retried at all.

``parses_envelope``, ``detects_stream_error``, ``handles_non_json`` and ``recovers`` grade what
the client reported; ``stops_on_non_retryable``, ``retries_retryable`` and ``refreshes_token``
what it sent. Whether an answer is retryable rests on the policy's status list: retrying it is
owed (a fail) only when a seed documents that status as retryable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .check_registry import CheckContext, Finding, check
from .evidence import NO_REQUEST, status, what
from .grounds import breach

SECRET_HEADERS = ("authorization", "x-api-key", "cookie")


def _credential(entry: Mapping[str, Any]) -> str:
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    return "|".join([*(headers.get(h, "") for h in SECRET_HEADERS), str(entry.get("path"))])


def _retry_refs(ctx: CheckContext) -> tuple[str, ...]:
    """A retry is owed because the policy lists the status (no response: owed by HTTP itself)."""
    got = ctx.scenario.status
    return () if got is None else (f"retryable_statuses.status_{got}",)


@check("parses_envelope", "persistent", reads_outcome=True)
def parses_envelope(ctx: CheckContext) -> Finding:
    """The reported error is the normal form of the body the provider sent."""
    if isinstance(ctx.scenario.body, str) or not (ctx.scenario.code or ctx.scenario.message):
        return "skip", "the answer has no JSON envelope to parse"
    if ctx.outcome is None:
        return "fail", f"reported no outcome after a {what(ctx)}"
    if ctx.outcome.ok:
        return "fail", f"reported success after a {what(ctx)}"
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
        return "skip", f"{NO_REQUEST}: nothing to repeat"
    first = ctx.entries[0]
    count = sum(
        1
        for e in ctx.entries
        if (e.get("method"), e.get("path")) == (first.get("method"), first.get("path"))
    )
    if count == 1:
        return "pass", f"stopped after one {what(ctx)}"
    return "fail", f"sent {count} requests after a non-retryable {what(ctx)}"


@check("retries_retryable", "recovery", timed=True)
def retries_retryable(ctx: CheckContext) -> Finding:
    """A retryable answer is retried."""
    if not ctx.entries:
        return "skip", f"{NO_REQUEST}: no answer to retry"
    if len(ctx.entries) >= 2:
        return "pass", f"retried after a {what(ctx)} ({len(ctx.entries)} requests)"
    finding = f"gave up after one {what(ctx)} that the policy retries"
    return breach(ctx.provider.policy, _retry_refs(ctx), finding)


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
        if not ctx.entries:
            return "skip", NO_REQUEST
        return "skip", f"the planned {what(ctx)} was never served"
    first = refused[0]
    old = _credential(ctx.entries[first])
    later = ctx.entries[first + 1 :]
    if not later:
        return "fail", f"stopped after a {what(ctx)} instead of refreshing its credential"
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
        f"retried with the same credential after a {what(ctx)}, without asking for a new one",
    )


@check("handles_non_json", "persistent", reads_outcome=True)
def handles_non_json(ctx: CheckContext) -> Finding:
    """A body that is not the provider's JSON is reported as an error, without crashing."""
    if ctx.outcome is None:
        return "fail", f"crashed or printed no outcome on a {what(ctx)}"
    if ctx.outcome.ok:
        return "fail", f"accepted a {what(ctx)} as a success"
    return "pass", f"reported {ctx.outcome.transport or ctx.outcome.status} for a {what(ctx)}"


@check("recovers", "recovery", reads_outcome=True, timed=True)
def recovers(ctx: CheckContext) -> Finding:
    """Once the failures end, the client returns the real answer."""
    if ctx.outcome is None:
        return "fail", "reported no outcome" + ("" if ctx.entries else f" and {NO_REQUEST}")
    if not ctx.entries:
        return "fail", f"{NO_REQUEST}; reported {ctx.outcome.to_json()}"
    last = status(ctx.entries[-1])
    if ctx.outcome.ok and ctx.entries and 200 <= int(ctx.entries[-1].get("status") or 0) < 300:
        return "pass", f"returned the real answer after {len(ctx.entries)} requests"
    return (
        "fail",
        f"ended with {ctx.outcome.to_json()} after {len(ctx.entries)} requests (last: {last})",
    )
