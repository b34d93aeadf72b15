"""The checks about time: waits asked for, waits capped, backoff, attempt bounds, timeouts.

Each compares the journal's timestamps with a threshold from the provider's policy. Lower
bounds allow ``CLOCK_TOLERANCE_S``, upper bounds ``UPPER_MARGIN_S`` (``timing.py``: load only
lengthens waits). A crossed threshold goes through ``grounds.breach``: it fails when the policy
values it rests on are documented, and warns naming them when they are assumed.
"""

from __future__ import annotations

from .check_registry import CheckContext, Finding, check
from .evidence import NO_REQUEST, answered, asked, gaps, secs, status, what
from .grounds import Threshold, assumptions, attempt_refs, breach, strongest, wait_refs
from .timing import CLOCK_TOLERANCE_S, START_TOLERANCE_S, over_upper

CAP_REFS = ("max_wait_s", "max_wait_s.server_named")


@check("honours_retry_after", "recovery", timed=True)
def honours_retry_after(ctx: CheckContext) -> Finding:
    """Every retry waits at least what the previous answer's Retry-After asked."""
    if not ctx.entries:
        return "skip", NO_REQUEST
    policy, refs = ctx.provider.policy, wait_refs(ctx.provider.policy, ctx.scenario)
    named = [
        (entry, gap) for entry, gap in gaps(ctx.entries) if entry.get("retry_after_s") is not None
    ]
    if not named:
        last = ctx.entries[-1]
        if last.get("retry_after_s") is not None:
            return breach(
                policy, refs, f"never retried after a {what(ctx)} that asked for {asked(last)}"
            )
        return "skip", "no answer carried a wait (Retry-After, body retry_after, X-RateLimit-Reset)"
    for entry, gap in named:
        if gap < float(entry["retry_after_s"]) - CLOCK_TOLERANCE_S:
            return breach(
                policy,
                refs,
                f"retried {secs(gap)} after a {status(entry)} that asked for {asked(entry)}",
            )
    shortest = min(gap for _, gap in named)
    return "pass", f"waited at least the asked time on every retry (shortest wait {secs(shortest)})"


@check("caps_retry_after", "persistent", timed=True)
def caps_retry_after(ctx: CheckContext) -> Finding:
    """A wait longer than the policy allows is capped, or surfaced as an error."""
    if not ctx.entries:
        return "skip", NO_REQUEST
    policy = ctx.provider.policy
    ceiling = policy.max_wait_s
    huge = [e for e in ctx.entries if float(e.get("retry_after_s") or 0) > ceiling]
    if not huge:
        return "skip", f"no answer asked for a wait above the {secs(ceiling)} cap"
    capped = []
    for entry, gap in gaps(ctx.entries):
        wait = entry.get("retry_after_s")
        if wait is None:
            continue
        if gap < min(float(wait), ceiling) - CLOCK_TOLERANCE_S:
            return breach(
                policy,
                wait_refs(policy, ctx.scenario),
                f"retried {secs(gap)} after a {status(entry)} that asked for {asked(entry)}: "
                f"capping means waiting the cap ({secs(ceiling)}), not ignoring the wait",
            )
        if over_upper(gap, ceiling):
            return breach(
                policy,
                CAP_REFS,
                f"waited {secs(gap)} after a {status(entry)} that asked for {asked(entry)}; "
                f"the policy caps waits at {secs(ceiling)}",
            )
        capped.append(gap)
    last = ctx.entries[-1]
    end = float(last.get("responded_at") or last["received_at"])
    waiting = ctx.elapsed_s - (end - float(ctx.entries[0]["received_at"]))
    # ``waiting``: since the last answer, start-up included, so an overestimate; the start-up
    # tolerance and the upper margin keep it from blaming a client that waits exactly the cap.
    too_long = over_upper(waiting, ceiling + START_TOLERANCE_S)
    if ctx.killed and answered(last) and too_long:
        return breach(
            policy,
            CAP_REFS,
            f"still waiting when stopped at {secs(ctx.time_limit_s)}, about {secs(waiting)} after "
            f"a {status(last)} that asked for {asked(last)}; "
            f"the policy caps waits at {secs(ceiling)}",
        )
    if len(ctx.entries) == 1 and not ctx.killed and too_long:
        return breach(
            policy,
            CAP_REFS,
            f"slept about {secs(waiting)} on a wait of {asked(last)} before giving up; "
            f"the policy caps waits at {secs(ceiling)}",
        )
    if capped:
        return "pass", f"capped the asked {asked(huge[0])} at {secs(max(capped))}"
    if ctx.killed:
        return "skip", (
            f"the run was stopped {secs(waiting)} after the last answer, before the "
            f"{secs(ceiling)} cap: whether it would have capped the wait cannot be told"
        )
    return (
        "pass",
        f"surfaced the {what(ctx)} that asked for {asked(last)} instead of sleeping on it",
    )


@check("bounded_attempts", "persistent", timed=True)
def bounded_attempts(ctx: CheckContext) -> Finding:
    """However long failures last, attempts stop at the policy's maximum (a request in flight
    is an attempt)."""
    policy = ctx.provider.policy
    limit, refs = policy.max_attempts, attempt_refs(ctx.scenario)
    count = len(ctx.entries)
    if count == 0:
        if ctx.killed:
            return "skip", f"{NO_REQUEST} before it was stopped (a hang): times_out grades that"
        return "skip", f"{NO_REQUEST}: no attempt to count"
    if count > limit:
        return breach(policy, refs, f"sent {count} requests; the policy allows at most {limit}")
    if ctx.killed and not answered(ctx.entries[-1]):
        return "skip", (
            f"stopped while its request {count} was unanswered (a hang): times_out grades that"
        )
    if ctx.killed:
        return breach(
            policy,
            refs,
            f"still retrying when stopped at {secs(ctx.time_limit_s)} ({count} requests so far; "
            f"the policy allows {limit})",
        )
    return "pass", f"{count} attempt(s); the policy allows {limit}"


def _floors(ctx: CheckContext, retry: int) -> list[Threshold]:
    """The policy's lower bounds on the wait before retry number ``retry``, with their grounds."""
    policy = ctx.provider.policy
    backoff = policy.backoff
    rests = ["backoff.initial_s", "backoff.jitter_ratio"]
    if retry > 1:
        rests.append("backoff.multiplier")
    if backoff.initial_s * backoff.multiplier ** min(retry - 1, 64) > backoff.max_s:
        rests.append("backoff.max_s")
    return [
        Threshold(policy.min_wait_s, ("min_wait_s",)),
        Threshold(backoff.nominal(retry) * (1 - backoff.jitter_ratio), tuple(rests)),
    ]


@check("backs_off", "persistent", timed=True)
def backs_off(ctx: CheckContext) -> Finding:
    """Retries without a server-named wait are spaced by the policy's backoff, never shrinking."""
    unnamed = [
        (entry, gap) for entry, gap in gaps(ctx.entries) if entry.get("retry_after_s") is None
    ]
    if not unnamed:
        if not ctx.entries:
            return "skip", NO_REQUEST
        return "skip", "no retry to space (or every wait was named by the server)"
    policy = ctx.provider.policy
    breaches = []
    for number, (entry, gap) in enumerate(unnamed, start=1):
        crossed = [t for t in _floors(ctx, number) if gap < t.value - CLOCK_TOLERANCE_S]
        if crossed:
            breaches.append((entry, gap, strongest(policy, crossed)))
    if breaches:
        # A documented floor crossed on any retry fails; only assumed ones crossed warns.
        entry, gap, worst = min(breaches, key=lambda b: bool(assumptions(policy, b[2].rests_on)))
        return breach(
            policy,
            worst.rests_on,
            f"retried {secs(gap)} after a {status(entry)}; "
            f"the policy asks at least {secs(worst.value)}",
        )
    # The per-retry minimum grows with the policy's backoff, so growth needs no second test:
    # comparing observed gaps would blame an on-time retry for following a late one.
    return "pass", "waits: " + ", ".join(secs(gap) for _, gap in unnamed)


@check("times_out", "persistent", reads_outcome=True, timed=True)
def times_out(ctx: CheckContext) -> Finding:
    """A request that gets no (complete) answer is abandoned within the allowed time."""
    policy = ctx.provider.policy
    if not ctx.entries:
        return "skip", f"{NO_REQUEST}: there was no answer to wait for"
    if ctx.killed or ctx.outcome is None:
        return breach(
            policy,
            ("timeout_s",),
            f"never gave up: still waiting when stopped at {secs(ctx.time_limit_s)}",
        )
    if ctx.outcome.ok:
        return "fail", "reported success although no complete answer ever came"
    if over_upper(ctx.elapsed_s, ctx.time_limit_s + START_TOLERANCE_S):
        return breach(
            policy,
            ("timeout_s",),
            f"gave up after {secs(ctx.elapsed_s)}; the run allowed {secs(ctx.time_limit_s)}",
        )
    return (
        "pass",
        f"gave up after {secs(ctx.elapsed_s)} ({ctx.outcome.transport or ctx.outcome.status})",
    )
