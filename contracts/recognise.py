"""Which catalogue scenario a captured answer was, and what to grade when none can be told.

An answer is recognised, most certain first: by the scenario the mock named (the journal's
``scenario`` field, or its ``X-Faultproof-Scenario`` header in a HAR); else by its status and the
normal form of its body against the provider's catalogue (code, then message, where a message
with parameters such as "Try again in {{retry_after}} seconds" matches any value). Scenarios
that answer alike but are graded alike (``alana.RATE_001`` and its HTTP-date twin) resolve to
the canonical one. When none matches, or several match that are graded differently (AINative
answers an expired and a malformed token with the same 401 body), the answer is unrecognised
and the judge grades what the provider's client policy alone decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalogue import Catalogue, Provider
from .errors import UnknownIdError
from .normal_form import NormalError
from .scenario import Scenario
from .source import Source
from .template import PLACEHOLDER


@dataclass(frozen=True, slots=True)
class Recognition:
    """What a captured answer was taken for.

    Attributes:
        scenario: The catalogue scenario, or ``None`` when it cannot be told.
        how: One sentence: how it was recognised, or why not.
    """

    scenario: Scenario | None
    how: str


def _message_pattern(provider: Provider, scenario: Scenario) -> re.Pattern[str] | None:
    """The scenario's message with every ``{{parameter}}`` matching any text."""
    template = provider.normal_form.apply(scenario.body).message
    if template is None:
        return None
    literal = PLACEHOLDER.split(template)[::2]  # split keeps group names at odd indexes
    return re.compile(".+?".join(re.escape(part) for part in literal), re.DOTALL)


def _matching(provider: Provider, status: int, normal: NormalError) -> list[Scenario]:
    same = [s for s in provider.scenarios.values() if s.kind == "error" and s.status == status]
    if normal.code:
        same = [s for s in same if s.code == normal.code]
    elif not normal.message:
        return []
    worded = [
        s
        for s in same
        if (pattern := _message_pattern(provider, s)) and pattern.fullmatch(normal.message or "")
    ]
    # A provider whose wording differs from the seed's is still recognised by its code.
    return worded or (same if normal.code else [])


def _by_wait(found: list[Scenario], entry: Mapping[str, Any], provider: Provider) -> list[Scenario]:
    """Twins told apart by the wait served: a huge-wait scenario (``caps_retry_after``) when the
    answer asked for more than the policy's ceiling, the ordinary one otherwise."""
    wait = entry.get("retry_after_s")
    if wait is None:
        return found
    huge = float(wait) > provider.policy.max_wait_s
    return [s for s in found if ("caps_retry_after" in s.checks) == huge] or found


def recognise(entry: Mapping[str, Any], provider: Provider, catalogue: Catalogue) -> Recognition:
    """The scenario behind one captured answer that was not a plain success."""
    named = entry.get("scenario")
    if named:
        try:
            scenario = catalogue.scenario(named, provider.id)
        except UnknownIdError:
            pass
        else:
            return Recognition(scenario, f"named {named} by the mock that answered")
    status = entry.get("status")
    if status is None:
        return Recognition(None, "no answer came (a dropped or abandoned request)")
    body = entry.get("response_body")
    if body is None:
        return Recognition(None, f"a {status} whose body was not captured")
    normal = provider.normal_form.apply(body)
    said = normal.code or normal.message
    if not said:
        return Recognition(None, f"a {status} whose body is not a {provider.id} error envelope")
    found = _matching(provider, int(status), normal)
    if not found:
        return Recognition(None, f"no {provider.id} scenario answers {status} with {said!r}")
    if len({s.checks for s in found}) > 1:
        found = _by_wait(found, entry, provider)
    if len({s.checks for s in found}) > 1:
        ids = ", ".join(s.id for s in found)
        return Recognition(
            None, f"a {status} {said!r} could be any of {ids}, which are graded differently"
        )
    scenario = next((s for s in found if s.canonical), found[0])
    return Recognition(scenario, f"recognised by its status {status} and {said!r}")


def policy_checks(
    provider: Provider, status: int | None, wait_s: float | None, idempotent: bool
) -> tuple[str, ...]:
    """The checks the provider's client policy decides for an answer no scenario explains."""
    policy = provider.policy
    if not policy.is_retryable(status):
        return () if status == 401 else ("stops_on_non_retryable",)
    if not idempotent:
        return ("safe_retries", "bounded_attempts")
    if wait_s is None:
        waits = "backs_off"
    elif wait_s > policy.max_wait_s:
        waits = "caps_retry_after"
    else:
        waits = "honours_retry_after"
    return ("retries_retryable", waits, "bounded_attempts")


def stand_in(provider: Provider, failure: Mapping[str, Any], checks: tuple[str, ...]) -> Scenario:
    """A scenario standing for an answer the catalogue does not explain."""
    status = failure.get("status")
    body = failure.get("response_body")
    normal = provider.normal_form.apply(body) if body is not None else None
    return Scenario(
        id=f"{provider.id}.unrecognised_{status or 'no_answer'}",
        provider=provider.id,
        name=f"unrecognised_{status or 'no_answer'}",
        kind="error",
        status=status,
        code=normal.code if normal else None,
        message=normal.message if normal else None,
        headers={},
        body=None,
        content_type=None,
        fault=None if status else "no_answer",
        params={},
        retryable=provider.policy.is_retryable(status),
        canonical=False,
        checks=checks,
        operation=None,
        rule=None,
        expectation="what the provider's client policy asks for this status",
        source=Source("assumed", None, (), "captured traffic, not in the catalogue", ()),
    )


__all__ = ["Recognition", "policy_checks", "recognise", "stand_in"]
