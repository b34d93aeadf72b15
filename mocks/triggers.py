"""Per-request triggers: which scenario a request asks for, if any.

Four spellings (DESIGN.md), each taking scenario parameters alongside:

- ``Prefer: code=429, retry_after=1`` (Prism's convention: the canonical error for a status;
  ``example=RATE_002`` picks the answer our OpenAPI documents name so)
- ``Prefer: scenario=RATE_001`` (or ``scenario=fault.hang``)
- ``X-Faultproof-Scenario: alana.RATE_001; retry_after=1``
- ``?__code=429`` / ``?__scenario=RATE_001``, other ``__name=value`` pairs being parameters

``Prefer`` is read as RFC 7240 says: the first instance of a preference wins, and a preference
the mock does not know is ignored (``return=minimal`` beside ``code=404``) unless the request
also asks ``handling=strict``. The other spellings are faultproof's own: every name must be known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.http import parse_list_header, parse_options_header

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


#: Preferences that choose the answer rather than parameterise it; ``dynamic`` is Prism's
#: switch for generated bodies, accepted and ignored (every answer here is the catalogue's).
CHOOSERS = frozenset({"scenario", "code", "example", "dynamic", "handling"})


def _pairs(text: str) -> dict[str, str]:
    """``retry_after=1; mode="rst"``: ``token[=word]`` pairs, names lowercased.

    RFC 7240's preference and its ``;`` parameters share the grammar of a header's options, so
    werkzeug's parser reads them as the options of a placeholder value (quoting included).
    """
    return parse_options_header(f"_; {text}")[1]


def _preferences(headers: Mapping[str, str] | Headers) -> dict[str, str]:
    """Every preference of the ``Prefer`` headers (one per line), the first instance winning."""
    prefs: dict[str, str] = {}
    for value in headers.get("Prefer", "").split("\n"):
        for item in parse_list_header(value):
            for name, word in _pairs(item).items():
                prefs.setdefault(name, word)
    return prefs


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
    prefs = _preferences(headers)
    lenient = prefs.get("handling", "lenient").lower() != "strict"
    strict: dict[str, str] = {}  # names from faultproof's own spellings: all must be known
    if headers.get(TRIGGER_HEADER):
        name, _, rest = headers[TRIGGER_HEADER].partition(";")
        strict.update(_pairs(rest))
        strict["scenario"] = name.strip()
    for key, value in query.items():
        if key.startswith(QUERY_PREFIX):
            strict[key[len(QUERY_PREFIX) :].lower()] = value
    asked = {**prefs, **strict}
    scenario = _chosen(catalogue, provider, asked)
    if scenario is None:
        return None
    known = {k: v for k, v in asked.items() if k in scenario.params}
    checked = set(asked) if not lenient else set(strict)
    unknown = sorted(checked - set(known) - CHOOSERS)
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


def _chosen(catalogue: Catalogue, provider: str, asked: Mapping[str, str]) -> Scenario | None:
    """The scenario that ``scenario``, ``example`` and ``code`` name together, if any."""
    example = asked.get("example")
    if "scenario" in asked:
        scenario = _lookup(catalogue, provider, asked["scenario"])
    elif example is not None:
        scenario = _example(catalogue, provider, example, asked.get("code"))
    elif "code" in asked:
        scenario = _by_code(catalogue, provider, asked["code"])
    else:
        return None
    if example is not None and example not in (scenario.name, scenario.id):
        raise TriggerError(
            f"example {example!r} is not {scenario.id}, which the request also asks for",
            [scenario.name],
        )
    return scenario


def _example(catalogue: Catalogue, provider: str, name: str, code: str | None) -> Scenario:
    """Prism's ``example=NAME``: the answer our OpenAPI documents name so (with ``code``, one of
    that status's examples)."""
    scenario = _lookup(catalogue, provider, name)
    if code is not None and str(scenario.status) != code.strip():
        named = sorted(
            s.name
            for s in catalogue.provider(provider).scenarios.values()
            if str(s.status) == code.strip() and s.kind == "error"
        )
        if not named:
            _by_code(catalogue, provider, code)  # raises, listing the valid codes
        raise TriggerError(
            f"{scenario.id} answers {scenario.status}, not {code}; the {code} examples: "
            + ", ".join(named),
            named,
        )
    return scenario
