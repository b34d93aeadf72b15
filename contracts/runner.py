"""Driving a client through the catalogue against a running mock, and grading it.

Each scenario needs one or two runs, by the checks it lists: a ``recovery`` run (the scenario's
answer a few times, then normal answers) and a ``persistent`` run (its answer for every
request). Each run gets a fresh session whose plan matches every request, so an SDK that
calls its own paths is graded all the same; the runner passes small parameters (a one-second
Retry-After, short drips) so a full catalogue costs about as long as its slowest run. Runs go
in parallel. The mock is reached over HTTP only: no Flask here.

No verdict may depend on how busy the machine is. A run's time counts from its first request
(``supervise.py``), at most as many clients start at once as the machine has cores, a run is
graded only once the mock has finished every request of its session, and a scenario that fails
a ``timed`` check is run once more: if the rerun does not fail, it is reported ``flaky`` with both
attempts, never ``pass``.
"""

from __future__ import annotations

import fnmatch
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from .adapters import Client, ClientRun
from .catalogue import Catalogue, Provider
from .checks import REGISTRY, CheckContext, Mode, run_check
from .control_client import MockControl
from .errors import FaultproofError, UnknownIdError
from .scenario import Scenario
from .supervise import Watch, machine_starts
from .verdict import RunReport, ScenarioResult, TimelineEntry

#: Seconds given to a client facing a hang or a drip before it must have given up.
FAULT_LIMIT_S = 4.0
#: Slack over the waits a well-behaved client needs, for scheduling on a busy machine.
SLACK_S = 5.0
#: How long a finished run waits for the mock to finish its requests (a hang notices a client
#: that left within 50 ms; this bound only matters for a client that could not be stopped).
SETTLE_S = FAULT_LIMIT_S + 10


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One client run for one scenario on one provider."""

    scenario: Scenario
    provider: Provider
    mode: Mode
    failures: int
    params: dict[str, Any]
    time_limit_s: float

    def plan(self) -> dict[str, Any]:
        """The session plan of this run: the failures, then normal answers or more of the same."""
        step = {"scenario": self.scenario.id, "params": self.params}
        after = "ok" if self.mode == "recovery" else "repeat_last"
        return {"steps": [step] * self.failures, "after": after}


@dataclass(frozen=True, slots=True)
class Graded:
    """A finished run: what the client did, what the mock saw."""

    spec: RunSpec
    run: ClientRun
    entries: list[dict[str, Any]]
    error: str | None = None


def _modes(scenario: Scenario) -> list[Mode]:
    wanted = {REGISTRY[c].mode for c in scenario.checks}
    return [m for m in ("persistent", "recovery") if m in wanted]


def small_params(scenario: Scenario, provider: Provider, mode: Mode) -> dict[str, Any]:
    """Parameters that keep a run short without changing what it tests."""
    params: dict[str, Any] = {}
    ceiling = provider.policy.max_wait_s
    if "retry_after" in scenario.params:
        default = scenario.params["retry_after"]
        huge = "caps_retry_after" in scenario.checks
        params["retry_after"] = max(default, math.floor(ceiling) * 2) if huge else 1
    if scenario.fault == "hang":
        params["max_s"] = FAULT_LIMIT_S + 10
    if scenario.fault == "slow_drip":
        params.update(interval_s=0.5, chunk_bytes=1)
    if scenario.fault == "delay":
        params["delay_s"] = 0.5
    return {k: v for k, v in params.items() if k in scenario.params}


def time_limit(scenario: Scenario, provider: Provider, mode: Mode, params: dict[str, Any]) -> float:
    """The time a well-behaved client needs for this run, plus slack."""
    if scenario.fault in ("hang", "slow_drip"):
        return FAULT_LIMIT_S
    policy = provider.policy
    if "caps_retry_after" in scenario.checks:
        return policy.max_wait_s + SLACK_S
    retries = policy.max_attempts - 1 if mode == "persistent" else min(2, policy.max_attempts - 1)
    named = float(params.get("retry_after", 0))
    waits = sum(
        max(named, policy.backoff.nominal(n) * (1 + policy.backoff.jitter_ratio), policy.min_wait_s)
        for n in range(1, retries + 1)
    )
    return min(waits, 120.0) + SLACK_S


def plan_runs(scenario: Scenario, provider: Provider) -> list[RunSpec]:
    """The runs a scenario needs on a provider."""
    specs = []
    for mode in _modes(scenario):
        params = small_params(scenario, provider, mode)
        failures = (
            1 if "refreshes_token" in scenario.checks else min(2, provider.policy.max_attempts - 1)
        )
        specs.append(
            RunSpec(
                scenario,
                provider,
                mode,
                max(1, failures),
                params,
                time_limit(scenario, provider, mode, params),
            )
        )
    return specs


def select(
    catalogue: Catalogue, providers: Sequence[str] = (), patterns: Sequence[str] = ()
) -> list[tuple[Scenario, Provider]]:
    """(scenario, provider) pairs: provider scenarios, and each generic fault per provider."""
    chosen = (
        [catalogue.provider(p) for p in providers]
        if providers
        else list(catalogue.providers.values())
    )
    pairs = [(s, p) for p in chosen for s in p.scenarios.values()]
    pairs += [(f, p) for p in chosen for f in catalogue.faults.values()]
    pairs = [(s, p) for s, p in pairs if s.checks and s.kind != "webhook"]
    if patterns:
        matched = [(s, p) for s, p in pairs if any(fnmatch.fnmatchcase(s.id, g) for g in patterns)]
        if not matched:
            raise UnknownIdError(
                "scenario pattern", ", ".join(patterns), sorted({s.id for s, _ in pairs})
            )
        pairs = matched
    return pairs


def _execute(
    spec: RunSpec,
    client: Client,
    control: MockControl,
    starting: threading.Semaphore | None = None,
) -> Graded:
    try:
        session_id, base_urls = control.session(spec.plan())
    except (httpx.HTTPError, FaultproofError) as exc:
        return Graded(spec, ClientRun(None, 0.0, error=str(exc)), [], error=f"mock: {exc}")
    try:
        operation = spec.provider.operation_for(spec.scenario)
        watch = Watch(lambda: control.first_request_at(session_id), starting)
        run = client(
            base_urls[spec.provider.id], spec.provider.id, operation, spec.time_limit_s, watch
        )
        # A client thread that could not be stopped may still hold a hang open: no long wait.
        entries = control.settled_journal(session_id, 1.0 if run.alive else SETTLE_S)
    except (httpx.HTTPError, FaultproofError) as exc:
        return Graded(spec, ClientRun(None, 0.0, error=str(exc)), [], error=f"mock: {exc}")
    finally:
        with suppress(httpx.HTTPError):
            control.end(session_id)
    return Graded(spec, run, sorted(entries, key=lambda e: e["seq"]))


def _timeline(entries: list[dict[str, Any]]) -> tuple[TimelineEntry, ...]:
    if not entries:
        return ()
    start = float(entries[0]["received_at"])
    return tuple(
        TimelineEntry(
            float(e["received_at"]) - start,
            e["method"],
            e["path"],
            e["status"],
            e.get("scenario"),
            0.0
            if e.get("responded_at") is None
            else float(e["responded_at"]) - float(e["received_at"]),
        )
        for e in entries
    )


def grade(scenario: Scenario, provider: Provider, runs: list[Graded]) -> ScenarioResult:
    """Every check of the scenario, each on the run of its mode."""
    by_mode = {g.spec.mode: g for g in runs}
    results = []
    for check_id in scenario.checks:
        graded = by_mode[REGISTRY[check_id].mode]
        ctx = CheckContext(
            scenario,
            provider,
            provider.operation_for(scenario),
            graded.entries,
            graded.run.outcome,
            graded.run.elapsed_s,
            graded.spec.time_limit_s,
            graded.run.killed,
            graded.spec.failures,
            graded.spec.params,
        )
        results.append(run_check(check_id, ctx))
    # The report tells one story per scenario: the recovery when the scenario is about recovering.
    story: Mode = "recovery" if "recovers" in scenario.checks else "persistent"
    main = by_mode.get(story) or next(iter(by_mode.values()))
    errors = [g.error for g in runs if g.error]
    crash = next((g.run.error for g in runs if g.run.error and not g.run.killed), None)
    return ScenarioResult(
        scenario=scenario.id,
        provider=provider.id,
        checks=tuple(results),
        timeline=_timeline(main.entries),
        outcome=main.run.outcome,
        duration_s=max(g.run.elapsed_s for g in runs),
        error=errors[0] if errors else (f"client: {crash}" if crash else None),
        stdout_tail=main.run.output_tail,
    )


def rests_on_timing(result: ScenarioResult, runs: Sequence[Graded]) -> bool:
    """A failure that a faster or quieter machine might not repeat: a timed check, or a stop."""
    if result.verdict != "fail":
        return False
    timed = any(c.verdict == "fail" and REGISTRY[c.id].timed for c in result.checks)
    return timed or any(g.run.killed for g in runs)


@dataclass
class Runner:
    """A client, a mock, how many runs go at once, and how many clients may start at once."""

    client: Client
    control: MockControl
    catalogue: Catalogue
    workers: int = 32
    on_result: Callable[[ScenarioResult], None] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    starting: int = field(default_factory=machine_starts)

    def run(self, pairs: Iterable[tuple[Scenario, Provider]]) -> RunReport:
        """Run and grade every pair, rerunning timing failures once; catalogue order."""
        self.control.check()
        pairs = list(pairs)
        started, wall = time.time(), time.monotonic()
        gate = threading.Semaphore(max(1, self.starting))
        results: dict[int, ScenarioResult] = {}
        first_attempts: dict[int, ScenarioResult] = {}
        graded: dict[tuple[int, int], list[Graded]] = {}
        pending: dict[Future[Graded], tuple[int, int]] = {}
        with ThreadPoolExecutor(
            max_workers=max(1, self.workers), thread_name_prefix="faultproof-run"
        ) as pool:

            def submit(index: int, attempt: int) -> None:
                scenario, provider = pairs[index]
                graded[index, attempt] = []
                for spec in plan_runs(scenario, provider):
                    future = pool.submit(_execute, spec, self.client, self.control, gate)
                    pending[future] = (index, attempt)

            # Longest runs first, so the wall time is about the slowest run, not the sum.
            for index in sorted(
                range(len(pairs)), key=lambda i: -max(s.time_limit_s for s in plan_runs(*pairs[i]))
            ):
                submit(index, 0)
            while pending:
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in finished:
                    index, attempt = pending.pop(future)
                    runs = graded[index, attempt]
                    runs.append(future.result())
                    scenario, provider = pairs[index]
                    if len(runs) < len(plan_runs(scenario, provider)):
                        continue
                    result = grade(scenario, provider, runs)
                    if attempt == 0 and rests_on_timing(result, runs):
                        first_attempts[index] = result
                        submit(index, 1)
                        continue
                    if attempt == 1:
                        result = replace(result, first_attempt=first_attempts[index])
                    results[index] = result
                    if self.on_result:
                        self.on_result(result)
        return RunReport(
            self.client.name,
            time.monotonic() - wall,
            tuple(results[i] for i in sorted(results)),
            started,
            {
                **self.meta,
                "mock": self.control.url,
                "workers": self.workers,
                "starting": self.starting,
                "reruns": len(first_attempts),
            },
        )


__all__ = ["RunSpec", "Runner", "grade", "plan_runs", "rests_on_timing", "select"]
