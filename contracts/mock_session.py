"""A handle on one isolated session of a running mock, for tests that drive their own client.

``MockSession`` wraps the control plane (DESIGN.md): create a session, script its answers with
``plan(...)`` (or ``play(spec)``, the plan ``faultproof run`` would use for one scenario), read
its ``journal()`` as a gradable ``Journal``, delete it. Plain HTTP, no Flask: it works against a
mock in this process, in another, or on another host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .assertions import Journal
from .control_client import MockControl
from .errors import FaultproofError
from .runner import RunSpec
from .scenario import Operation


class MockSession:
    """One session: its base URLs, its plan, its journal.

    Attributes:
        id: The session id (also accepted as ``X-Faultproof-Session``).
        base_urls: Session-scoped base URL per provider, no trailing slash.
        spec: The scenario run it plays, when it plays one (``play``).
    """

    def __init__(self, control: MockControl) -> None:
        self.control = control
        created = control.create()
        self.id: str = created["id"]
        self.base_urls: dict[str, str] = created["base_urls"]
        self.spec: RunSpec | None = None
        self._planned_steps = 0

    @property
    def base_url(self) -> str:
        """The base URL of the provider of the scenario this session plays."""
        return self.base_urls[self._played().provider.id]

    @property
    def operation(self) -> Operation:
        """The request the played scenario is about, with valid credentials for the mock."""
        spec = self._played()
        return spec.provider.operation_for(spec.scenario)

    @property
    def time_limit_s(self) -> float:
        """How long a well-behaved client needs for the played scenario, with slack."""
        return self._played().time_limit_s

    def _played(self) -> RunSpec:
        if self.spec is None:
            raise FaultproofError(
                "this session plays no scenario: mark the test with "
                "@pytest.mark.faultproof(provider=..., scenario=...) or call play(spec); "
                f"use base_urls[provider] instead (providers: {', '.join(self.base_urls)})"
            )
        return self.spec

    def plan(
        self,
        *steps: str | Mapping[str, Any],
        match: Mapping[str, str] | None = None,
        after: str = "ok",
    ) -> None:
        """Script the next answers: scenario ids (``"alana.RATE_001"``) or step objects
        (``{"scenario": ..., "params": {"retry_after": 1}}``), then ``after``: ``"ok"`` or
        ``"repeat_last"``. The mock validates it and says what is wrong."""
        plan: dict[str, Any] = {
            "steps": [{"scenario": s} if isinstance(s, str) else dict(s) for s in steps],
            "after": after,
        }
        if match:
            plan["match"] = dict(match)
        self._install(plan)
        self._planned_steps = len(steps)

    def play(self, spec: RunSpec) -> None:
        """Serve one scenario run exactly as ``faultproof run`` would."""
        self._install(spec.plan())
        self.spec = spec
        self._planned_steps = spec.failures

    def _install(self, plan: dict[str, Any]) -> None:
        answer = self.control.http.put(
            f"/sessions/{self.id}/plan", json=plan, headers=self.control.key_headers(self.id)
        )
        if answer.status_code != 200:
            raise FaultproofError(f"the mock refused the plan {plan}: {answer.text}")

    def journal(self) -> Journal:
        """What the mock recorded in this session so far, ready for the assertions."""
        journal = self.control.http.get(
            f"/sessions/{self.id}/journal", headers=self.control.key_headers(self.id)
        )
        data = journal.raise_for_status().json()
        if self.spec is None:
            return Journal.from_export(data, failures=max(1, self._planned_steps))
        return Journal.from_export(
            data,
            scenario=self.spec.scenario,
            provider=self.spec.provider,
            failures=self.spec.failures,
            params=self.spec.params,
            time_limit_s=self.spec.time_limit_s,
            mode=self.spec.mode,
        )

    def delete(self) -> None:
        self.control.end(self.id)


__all__ = ["MockSession"]
