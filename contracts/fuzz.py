"""``faultproof run --fuzz N``: generated error answers, served, graded, and shrunk by hypothesis.

Per provider, hypothesis draws up to N answers from ``strategies.error_responses`` (honoured
waits kept within ``FUZZ_MAX_WAIT_S``, so a run costs seconds). Each answer is served to the
client through a session plan's literal-response step and graded with the catalogue's checks:
which ones, and on which run, follow from the catalogue and the policy (``expect``); what a
client should do with an odd ``Retry-After`` follows from the parser's table. On the first
failure hypothesis shrinks the answer; every candidate is a real client run, so shrinking
stops starting new runs after ``SHRINK_BUDGET_S`` and the smallest failure found so far is
reported. Providers are searched in parallel, one thread each.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Flaky

from . import traffic
from .adapters import Client
from .catalogue import Provider
from .checks import Mode
from .control_client import MockControl
from .literal import LiteralScenario, literal_scenario
from .runner import SLACK_S, RunSpec, _execute, grade
from .strategies import ErrorResponse, error_responses
from .verdict import ScenarioResult

#: Longest honoured wait a generated answer asks for; huge ones exceed every policy cap.
FUZZ_MAX_WAIT_S = 2.0
#: Seconds of shrinking per provider before no further candidate is run.
SHRINK_BUDGET_S = 60.0


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a well-behaved client does with one generated answer.

    Attributes:
        mode: The run that shows it: ``recovery`` (the answer once, then normal answers) or
            ``persistent`` (the answer for every request).
        checks: The catalogue check ids that grade it.
        says: One sentence for the report.
    """

    mode: Mode
    checks: tuple[str, ...]
    says: str


def named_wait(response: ErrorResponse) -> float | None:
    """The wait the answer names, read as the journal reads it (``traffic.named_wait``)."""
    body = None if response.body is None else orjson.dumps(response.body)
    return traffic.named_wait(response.headers, body, time.time())


def expect(response: ErrorResponse, provider: Provider) -> Expectation:
    """The checks a generated answer calls for, from the catalogue, the policy and the parser."""
    operation = provider.operations[response.operation]
    if not response.retryable:
        return Expectation(
            "persistent",
            ("parses_envelope", "stops_on_non_retryable"),
            f"report {response.status} in the normal form and stop: it is not retryable",
        )
    if response.status >= 500 and not operation.idempotent:
        return Expectation(
            "persistent",
            ("parses_envelope", "safe_retries"),
            f"report {response.status}: {operation.method} {operation.name} may have been done",
        )
    wait = named_wait(response)
    ceiling = provider.policy.max_wait_s
    if wait is not None and wait > ceiling:
        return Expectation(
            "persistent",
            ("parses_envelope", "caps_retry_after"),
            f"the asked wait exceeds the {ceiling:g} s cap: cap it or surface the error",
        )
    if wait is not None:
        return Expectation(
            "recovery",
            ("retries_retryable", "honours_retry_after", "recovers"),
            f"wait the asked {wait:g} s, retry, and return the real answer",
        )
    return Expectation(
        "recovery",
        ("retries_retryable", "backs_off", "recovers"),
        "no usable wait is named: back off by the policy, retry, return the real answer",
    )


def time_limit(response: ErrorResponse, provider: Provider, expectation: Expectation) -> float:
    """What a well-behaved client needs for the run, plus the runner's slack."""
    policy = provider.policy
    if "caps_retry_after" in expectation.checks:
        return policy.max_wait_s + SLACK_S
    if expectation.mode == "persistent":
        return SLACK_S
    backoff = policy.backoff.nominal(1) * (1 + policy.backoff.jitter_ratio)
    return max(named_wait(response) or 0.0, backoff, policy.min_wait_s) + SLACK_S


@dataclass(frozen=True, slots=True)
class FuzzSpec(RunSpec):
    """A run whose plan serves a literal answer instead of a catalogue scenario."""

    def plan(self) -> dict[str, Any]:
        assert isinstance(self.scenario, LiteralScenario)
        after = "ok" if self.mode == "recovery" else "repeat_last"
        return {"steps": [self.scenario.plan_step()] * self.failures, "after": after}


@dataclass(frozen=True, slots=True)
class FuzzResult(ScenarioResult):
    """A scenario result for a generated answer, with the answer itself as evidence.

    Attributes:
        response: The answer served (status, headers, body).
        fuzz: How it was found: ``role`` (``example`` or ``smallest``), the template scenario,
            the expectation, and for the smallest failure what it was shrunk from.
    """

    response: Mapping[str, Any] = field(default_factory=dict)
    fuzz: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = ScenarioResult.to_json(self)
        out["response"] = dict(self.response)
        out["fuzz"] = dict(self.fuzz)
        return out


def run_variant(
    response: ErrorResponse,
    scenario_id: str,
    provider: Provider,
    client: Client,
    control: MockControl,
) -> FuzzResult:
    """Serve one generated answer to the client in a fresh session and grade it."""
    expectation = expect(response, provider)
    scenario = literal_scenario(
        response.to_json(),
        scenario_id,
        normal_form=provider.normal_form,
        retryable=response.retryable,
        checks=expectation.checks,
        expectation=expectation.says,
    )
    scenario = dataclasses.replace(scenario, operation=response.operation)
    spec = FuzzSpec(
        scenario, provider, expectation.mode, 1, {}, time_limit(response, provider, expectation)
    )
    graded = _execute(spec, client, control)
    # One run answers every check, whichever run the catalogue registers the check for.
    other: Mode = "recovery" if spec.mode == "persistent" else "persistent"
    twin = dataclasses.replace(graded, spec=dataclasses.replace(spec, mode=other))
    result = grade(scenario, provider, [graded, twin])
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(ScenarioResult)}
    info = {"role": "example", "template": response.template, "expect": expectation.says}
    return FuzzResult(**fields, response=response.to_json(), fuzz=info)


class _OutOfBudget(BaseException):
    """Ends hypothesis's shrinking at once: the engine re-raises what is not an ``Exception``
    (as it does ``KeyboardInterrupt``), where a passing answer would only let it try more."""


class _Failed(Exception):
    def __init__(self, result: FuzzResult) -> None:
        super().__init__(result.scenario)
        self.result = result


@dataclass
class ProviderSearch:
    """One provider's search: the examples run, then the shrinking."""

    provider: Provider
    run: Callable[[ErrorResponse, str], FuzzResult]
    budget_s: float
    cache: dict[str, FuzzResult] = field(default_factory=dict)
    examples: list[FuzzResult] = field(default_factory=list)
    first_failure: FuzzResult | None = None
    smallest: FuzzResult | None = None
    failed_at: float = 0.0
    cut_short: bool = False

    def __call__(self, response: ErrorResponse) -> None:
        key = json.dumps([response.operation, response.to_json()], sort_keys=True, default=str)
        result = self.cache.get(key)
        if result is None:
            if self.first_failure and time.monotonic() - self.failed_at > self.budget_s:
                self.cut_short = True
                raise _OutOfBudget  # no new run: the smallest failure so far stands
            result = self.run(response, f"fuzz.{self.provider.id}.{len(self.cache) + 1}")
            self.cache[key] = result
            if self.first_failure is None:
                self.examples.append(result)
        if result.verdict == "fail":
            if self.first_failure is None:
                self.first_failure, self.failed_at = result, time.monotonic()
            self.smallest = result
            raise _Failed(result)

    def results(self) -> list[FuzzResult]:
        """The examples run before the first failure (and it), then the smallest failure."""
        out = list(self.examples)
        if self.smallest is None or self.first_failure is None:
            return out
        info = {
            **self.smallest.fuzz,
            "role": "smallest",
            "shrunk_from": (
                self.first_failure.scenario
                if self.first_failure.scenario != self.smallest.scenario
                else None
            ),
            "runs": len(self.cache),
            "cut_short": self.cut_short,
        }
        smallest = dataclasses.replace(self.smallest, fuzz=info)
        return [r for r in out if r.scenario != smallest.scenario] + [smallest]


def search(
    provider: Provider,
    examples: int,
    run: Callable[[ErrorResponse, str], FuzzResult],
    *,
    seed_value: int = 0,
    budget_s: float = SHRINK_BUDGET_S,
) -> ProviderSearch:
    """Up to ``examples`` generated answers for ``provider``; the first failure shrunk."""
    state = ProviderSearch(provider, run, budget_s)

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @seed(seed_value)
    @given(error_responses(provider, max_wait_s=FUZZ_MAX_WAIT_S))
    def prop(response: ErrorResponse) -> None:
        state(response)

    try:
        prop()
    except (_Failed, _OutOfBudget):
        pass
    except Flaky:
        # A timing-dependent replay of a client's failure may pass: the failure recorded
        # stands. Without one, the search itself broke: never report its few runs as a pass.
        if state.first_failure is None:
            raise
    return state


def fuzz(
    providers: Sequence[Provider],
    examples: int,
    client: Client,
    control: MockControl,
    *,
    seed_value: int = 0,
    budget_s: float = SHRINK_BUDGET_S,
    on_result: Callable[[FuzzResult], None] | None = None,
) -> tuple[list[FuzzResult], dict[str, Any]]:
    """Search every provider at once; the results and a summary for the report's ``meta``."""

    def one(provider: Provider) -> ProviderSearch:
        def run(response: ErrorResponse, scenario_id: str) -> FuzzResult:
            result = run_variant(response, scenario_id, provider, client, control)
            if on_result:
                on_result(result)
            return result

        return search(provider, examples, run, seed_value=seed_value, budget_s=budget_s)

    with ThreadPoolExecutor(max_workers=max(1, len(providers))) as pool:
        searches = list(pool.map(one, providers))
    results = [r for s in searches for r in s.results()]
    summary = {
        "examples": examples,
        "seed": seed_value,
        "max_wait_s": FUZZ_MAX_WAIT_S,
        "providers": {
            s.provider.id: {
                "runs": len(s.cache),
                "examples_run": len(s.examples),
                "smallest_failure": s.smallest.scenario if s.smallest else None,
                "cut_short": s.cut_short,
            }
            for s in searches
        },
    }
    return results, summary


__all__ = [
    "FUZZ_MAX_WAIT_S",
    "Expectation",
    "FuzzResult",
    "expect",
    "fuzz",
    "run_variant",
    "search",
]
