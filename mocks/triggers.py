"""Per-request triggers: which scenario a request asks for, if any.

Four spellings (DESIGN.md), each taking scenario parameters alongside:

- ``Prefer: code=429, retry_after=1`` (Prism's convention: the canonical error for a status)
- ``Prefer: scenario=RATE_001`` (or ``scenario=fault.hang``)
- ``X-Faultproof-Scenario: alana.RATE_001; retry_after=1``
- ``?__code=429`` / ``?__scenario=RATE_001``, other ``__name=value`` pairs being parameters
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import Headers

from faultproof.contracts import Catalogue, FaultproofError, Scenario, UnknownIdError

TRIGGER_HEADER = "X-Faultproof-Scenario"
QUERY_PREFIX = "__"


class TriggerError(FaultproofError):
    """A trigger that names no valid scenario, status or parameter."""

    def __init__(self, message: str, valid: list[str]) -> None:
        super().__init__(message)
        self.valid = valid


@dataclass(frozen=True, slots=True)
class Trigger:
    """A scenario asked for by the request, with its parameters.

    Attributes:
        scenario: The scenario to answer with.
        params: Parameter overrides from the request.
    """

    scenario: Scenario
    params: dict[str, Any] = field(default_factory=dict)


def _pairs(text: str) -> dict[str, str]:
    """``code=429, retry_after="1"; x=y`` as a dict (RFC 7240 preferences, loosely)."""
    pairs: dict[str, str] = {}
    for item in text.replace(";", ",").split(","):
        if "=" in item:
            key, _, value = item.partition("=")
            pairs[key.strip().lower()] = value.strip().strip('"')
    return pairs


def _lookup(catalogue: Catalogue, provider: str, name: str) -> Scenario:
    if "." in name and not name.startswith(("fault.", f"{provider}.")):
        raise TriggerError(
            f"scenario {name!r} belongs to another provider; this is /{provider}/",
            [s.id for s in catalogue.scenarios(provider)],
        )
    try:
        return catalogue.scenario(name, provider=provider)
    except UnknownIdError as exc:
        raise TriggerError(str(exc), exc.valid) from None


def _by_code(catalogue: Catalogue, provider: str, code: str) -> Scenario:
    try:
        return catalogue.provider(provider).canonical(int(code))
    except (UnknownIdError, ValueError):
        valid = sorted(
            {str(s.status) for s in catalogue.provider(provider).scenarios.values() if s.canonical}
        )
        raise TriggerError(
            f"no {provider} error for code {code!r}. Valid codes: {', '.join(valid)}", valid
        ) from None


def find_trigger(
    catalogue: Catalogue,
    provider: str,
    headers: Mapping[str, str] | Headers,
    query: Mapping[str, str],
) -> Trigger | None:
    """The trigger a request carries, or ``None``; a malformed one raises ``TriggerError``."""
    prefs: dict[str, str] = {}
    for value in headers.get("Prefer", "").split("\n") if headers.get("Prefer") else []:
        prefs.update(_pairs(value))
    if headers.get(TRIGGER_HEADER):
        name, _, rest = headers[TRIGGER_HEADER].partition(";")
        prefs.update(_pairs(rest))
        prefs["scenario"] = name.strip()
    for key, value in query.items():
        if key.startswith(QUERY_PREFIX):
            prefs[key[len(QUERY_PREFIX) :].lower()] = value
    if "scenario" in prefs:
        scenario = _lookup(catalogue, provider, prefs.pop("scenario"))
    elif "code" in prefs:
        scenario = _by_code(catalogue, provider, prefs.pop("code"))
    else:
        return None
    known = {k: v for k, v in prefs.items() if k in scenario.params}
    unknown = sorted(set(prefs) - set(known) - {"example", "dynamic"})
    if unknown:
        raise TriggerError(
            f"{scenario.id} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters: {', '.join(scenario.params) or 'none'}",
            list(scenario.params),
        )
    try:
        scenario.resolve_params(known)
    except FaultproofError as exc:
        raise TriggerError(str(exc), list(scenario.params)) from None
    return Trigger(scenario, known)
