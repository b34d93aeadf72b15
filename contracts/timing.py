"""Expected retry timing as pure functions: what the checks compare journal timestamps with.

Tolerances are explicit and justified:

- ``CLOCK_TOLERANCE_S`` (50 ms): the journal stamps receipt and answer in the mock's process;
  scheduling on a loaded 2-core CI machine and timer resolution move either stamp by a few
  tens of milliseconds. A client that waits ``Retry-After`` exactly must not fail for that.
- HTTP-dates carry one-second precision; the mock rounds the date *up* and journals
  ``retry_after_s`` as the wait the date really asked for at the moment it answered, so the same
  50 ms tolerance applies to both forms.
- ``START_TOLERANCE_S`` (1 s): a run's elapsed time counts from the first request the mock saw
  (the runner's budget rule), but a client starts its own clock a little earlier (building its
  HTTP client, connecting) and reports and exits after it gives up.
- Jitter: a policy's ``jitter_ratio`` lets a wait fall that fraction below its nominal value.

Lower bounds (a retry came too soon) are safe under load: a busy machine only lengthens a
client's waits, so 50 ms is enough. Upper bounds (a client slept too long, never gave up) are
not: a loaded machine wakes a sleeping client late, starts a subprocess late and reads the
journal late. Every upper bound therefore adds ``UPPER_MARGIN_S`` (``over_upper``): on the 2-core
CI machine at load 4-11, wake-ups and first requests were seen up to 0.7 s late, so 2 s covers
that with room, and it still catches the failures the upper bounds exist for: sleeping a huge
asked wait (the runner asks twice the ceiling, 60 s or more past it) and never giving up (the
client is stopped at its limit and reported as still waiting, whatever the margin).
"""

from __future__ import annotations

from .policy import ClientPolicy

CLOCK_TOLERANCE_S = 0.05
#: A client's clock starts a little before its first request reaches the mock, and it reports and
#: exits after it gives up: one that gives up at exactly its limit must not fail ``times_out``.
START_TOLERANCE_S = 1.0
#: Added to every upper bound on time (see above): late wake-ups on a loaded machine.
UPPER_MARGIN_S = 2.0


def over_upper(observed_s: float, bound_s: float) -> bool:
    """Whether ``observed_s`` exceeds the upper bound ``bound_s`` beyond what load explains."""
    return observed_s > bound_s + UPPER_MARGIN_S


def expected_wait(
    retry: int, policy: ClientPolicy, retry_after_s: float | None = None
) -> tuple[float, float]:
    """The (lowest, highest) acceptable wait before retry number ``retry`` (1 = first retry).

    With a server-named wait, at least that wait and at most the policy's ceiling (or the asked
    wait, if the policy would allow longer). Without one, the policy's backoff: no less than its
    jittered nominal wait (and the policy minimum), no more than its ceiling.
    """
    if retry_after_s is not None:
        low = max(0.0, retry_after_s - CLOCK_TOLERANCE_S)
        return low, max(policy.max_wait_s, retry_after_s) + UPPER_MARGIN_S
    jittered = policy.backoff.nominal(retry) * (1 - policy.backoff.jitter_ratio)
    low = max(0.0, max(policy.min_wait_s, jittered) - CLOCK_TOLERANCE_S)
    return low, policy.max_wait_s + UPPER_MARGIN_S
