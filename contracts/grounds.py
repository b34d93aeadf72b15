"""What a threshold rests on: verdict strength follows the provenance of policy values.

DESIGN.md: ``fail`` rests on something a seed documents; a threshold that exists only because a
policy value is assumed gives ``warn``, naming the assumption. Every check that compares the
traffic with a policy number says which policy values (``ClientPolicy.assumption`` refs) the
number rests on and lets ``breach`` decide, so the rule lives in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .check_registry import Finding
from .policy import ClientPolicy
from .scenario import Scenario


@dataclass(frozen=True, slots=True)
class Threshold:
    """A number the traffic is compared with, and the policy values it comes from.

    Attributes:
        value: The threshold, in the check's unit (seconds, attempts).
        rests_on: Policy refs (``min_wait_s``, ``backoff.initial_s``); empty when it rests on
            nothing assumed (a rule of HTTP itself).
    """

    value: float
    rests_on: tuple[str, ...]


def assumptions(policy: ClientPolicy, rests_on: Sequence[str]) -> list[str]:
    """The assumed values among ``rests_on``, each as a short phrase."""
    found = [policy.assumption(ref) for ref in rests_on]
    return list(dict.fromkeys(a for a in found if a))


def breach(policy: ClientPolicy, rests_on: Sequence[str], sentence: str) -> Finding:
    """A threshold was crossed: ``fail`` if every value it rests on is documented, else ``warn``
    with ``sentence`` naming the assumptions."""
    assumed = assumptions(policy, rests_on)
    if not assumed:
        return "fail", sentence
    return "warn", f"{sentence}; a threshold the seed does not give: {'; '.join(assumed)}"


def strongest(policy: ClientPolicy, crossed: Sequence[Threshold]) -> Threshold:
    """Of several crossed thresholds, the one to report: a documented one first (it fails),
    else the highest."""
    documented = [t for t in crossed if not assumptions(policy, t.rests_on)]
    return max(documented or crossed, key=lambda t: t.value)


_WAIT_HEADERS = {
    "retry-after": "retry_after_header",
    "x-ratelimit-reset": "x_ratelimit_reset",
}


def wait_refs(policy: ClientPolicy, scenario: Scenario) -> tuple[str, ...]:
    """The wait sources an answer of ``scenario`` names its wait in, as policy refs.

    When one of them is documented, the wait rests on it alone (a client reading that source
    gets the same wait), so a documented source makes a wait violation a fail. A scenario that
    shows none (captured traffic graded by the policy) rests on every source of the policy.
    """
    shown = {_WAIT_HEADERS[h.lower()] for h in scenario.headers if h.lower() in _WAIT_HEADERS}
    if isinstance(scenario.body, dict) and "retry_after" in scenario.body:
        shown.add("body_retry_after")
    sources = [s for s in policy.wait_sources if s in shown] or list(policy.wait_sources)
    refs = tuple(f"wait_sources.{s}" for s in sources)
    documented = [r for r in refs if policy.assumption(r) is None]
    return (documented[0],) if documented else refs


def attempt_refs(scenario: Scenario) -> tuple[str, ...]:
    """The policy values an attempt bound for ``scenario``'s answer rests on."""
    if scenario.status is None:
        return ("max_attempts",)
    return ("max_attempts", f"max_attempts.status_{scenario.status}")


__all__ = ["Threshold", "assumptions", "attempt_refs", "breach", "strongest", "wait_refs"]
