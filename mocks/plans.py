"""Plans: scripted sequences of answers for the requests of one session.

``{"match": {"method": "GET", "path": "/api/v1/products/*"}, "steps": [{"scenario":
"alana.RATE_001", "params": {"retry_after": 1}}, {"scenario": "alana.SERVER_002"}], "after":
"ok"}``: matching requests take the steps in order, each step exactly once however many
requests race for it (the store hands out step indexes atomically); then normal behaviour
(``ok``) or the last step forever (``repeat_last``). ``match`` may be omitted (every request).

A step names a catalogue scenario, or gives the answer literally, like a WireMock stub:
``{"response": {"status": 503, "headers": {"Retry-After": "2"}, "body": {...}}, "id":
"fuzz.alana.3"}`` is served as given (no placeholders filled in) and journaled under ``id``
(default ``plan.response``); ``faultproof run --fuzz`` serves its generated variants this way.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from faultproof.contracts import Catalogue, FaultproofError, UnknownIdError
from faultproof.contracts.literal import DEFAULT_ID, literal_scenario

from .triggers import Trigger

AFTER = ("ok", "repeat_last")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class PlanError(FaultproofError):
    """A plan that cannot be installed; nothing of it is applied."""

    def __init__(self, message: str, valid: list[str] | None = None) -> None:
        super().__init__(message)
        self.valid = valid or []


def _require(condition: bool, message: str, valid: list[str] | None = None) -> None:
    if not condition:
        raise PlanError(message, valid)


def validate(data: Any, catalogue: Catalogue, providers: tuple[str, ...]) -> dict[str, Any]:
    """The plan in normal form, or ``PlanError`` saying what is wrong and what is valid."""
    _require(isinstance(data, dict), f"a plan is a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - {"match", "steps", "after"})
    _require(not unknown, f"unknown plan fields {unknown}", ["match", "steps", "after"])
    match = {} if data.get("match") is None else data["match"]
    _require(
        isinstance(match, dict), "'match' is an object with optional 'method', 'path', 'provider'"
    )
    extra = sorted(set(match) - {"method", "path", "provider"})
    _require(not extra, f"unknown match fields {extra}", ["method", "path", "provider"])
    method = match.get("method")
    _require(
        method is None or (isinstance(method, str) and method.upper() in METHODS),
        f"match.method {method!r} is not an HTTP method",
        list(METHODS),
    )
    path = match.get("path")
    _require(
        path is None or (isinstance(path, str) and path.startswith("/")),
        f"match.path {path!r} must be a glob starting with '/' (for example /api/v1/products/*)",
    )
    provider = match.get("provider")
    _require(
        provider is None or provider in providers,
        f"match.provider {provider!r} is not served",
        list(providers),
    )
    after = data.get("after", "ok")
    _require(after in AFTER, f"'after' must be one of {list(AFTER)}, got {after!r}", list(AFTER))
    steps = data.get("steps")
    _require(
        isinstance(steps, list) and len(steps) > 0,
        "'steps' is a non-empty list of {scenario, params} or {response, id}",
    )
    valid_ids = [
        s.id
        for s in catalogue.scenarios()
        if (s.provider is None or s.provider in providers) and s.kind not in ("webhook",)
    ]
    normal_steps = [_step(index, step, catalogue, valid_ids) for index, step in enumerate(steps)]
    return {
        "match": {
            k: v
            for k, v in {
                "method": method and method.upper(),
                "path": path,
                "provider": provider,
            }.items()
            if v
        },
        "steps": normal_steps,
        "after": after,
    }


def _literal(index: int, step: dict[str, Any]) -> dict[str, Any]:
    extra = sorted(set(step) - {"response", "id"})
    _require(not extra, f"steps[{index}] has unknown fields {extra}", ["response", "id"])
    scenario_id = step.get("id", DEFAULT_ID)
    _require(isinstance(scenario_id, str), f"steps[{index}].id must be text like fuzz.alana.3")
    try:
        literal_scenario(step["response"], scenario_id)
    except FaultproofError as exc:
        raise PlanError(f"steps[{index}]: {exc}", ["status", "headers", "body"]) from None
    return {"response": step["response"], "id": scenario_id}


def _step(index: int, step: Any, catalogue: Catalogue, valid_ids: list[str]) -> dict[str, Any]:
    """One step in normal form: a catalogue scenario with parameters, or a literal response."""
    _require(
        isinstance(step, dict) and (isinstance(step.get("scenario"), str) or "response" in step),
        f"steps[{index}] must be an object with a 'scenario' id or a literal 'response'",
    )
    if "response" in step:
        return _literal(index, step)
    extra = sorted(set(step) - {"scenario", "params"})
    _require(not extra, f"steps[{index}] has unknown fields {extra}", ["scenario", "params"])
    if step["scenario"] not in valid_ids:
        missing = UnknownIdError("scenario (served by this mock)", step["scenario"], valid_ids)
        raise PlanError(f"steps[{index}]: {missing}", valid_ids)
    scenario = catalogue.scenario(step["scenario"])
    params = {} if step.get("params") is None else step["params"]
    _require(isinstance(params, dict), f"steps[{index}].params must be an object")
    try:
        scenario.resolve_params(params)
    except FaultproofError as exc:
        raise PlanError(f"steps[{index}]: {exc}", list(scenario.params)) from None
    return {"scenario": scenario.id, "params": params}


def matches(plan: dict[str, Any], method: str, provider: str, path: str) -> bool:
    """Whether a request (``path`` below its provider) falls under the plan."""
    match = plan.get("match", {})
    if match.get("method") and match["method"] != method:
        return False
    if match.get("provider") and match["provider"] != provider:
        return False
    pattern = match.get("path")
    return (
        not pattern
        or fnmatch.fnmatchcase(path, pattern)
        or fnmatch.fnmatchcase(f"/{provider}{path}", pattern)
    )


def step(plan: dict[str, Any], index: int, catalogue: Catalogue) -> Trigger | None:
    """The answer for the ``index``-th matching request, or ``None`` for normal behaviour."""
    steps = plan["steps"]
    if index >= len(steps):
        if plan["after"] != "repeat_last":
            return None
        index = len(steps) - 1
    chosen = steps[index]
    if "response" in chosen:
        return Trigger(literal_scenario(chosen["response"], chosen["id"]))
    return Trigger(catalogue.scenario(chosen["scenario"]), dict(chosen["params"]))
