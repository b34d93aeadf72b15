"""Running a client under test: a subprocess in any language, or a Python callable.

Both get the session-scoped base URL, the operation and the time the run allows, and yield a
``ClientRun``: the outcome the client reported (or why there is none), how long it took, and
whether the runner had to stop it. A client is stopped ``KILL_GRACE_S`` after its time limit.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from .errors import FaultproofError
from .scenario import Operation
from .verdict import Outcome

KILL_GRACE_S = 3.0
TAIL_CHARS = 2000


@dataclass(frozen=True, slots=True)
class ClientRun:
    """What one client invocation produced.

    Attributes:
        outcome: The outcome it reported, or ``None``.
        elapsed_s: Wall time from start to finish (or to the kill).
        killed: Whether it was stopped at its time limit plus grace.
        error: Why there is no outcome (crash, no JSON on the last line), if that is the case.
        output_tail: The end of what it printed, for diagnosis.
    """

    outcome: Outcome | None
    elapsed_s: float
    killed: bool = False
    error: str | None = None
    output_tail: str = ""


class Client(Protocol):
    """A client under test, however it is run."""

    @property
    def name(self) -> str: ...

    def __call__(
        self, base_url: str, provider: str, operation: Operation, timeout_s: float
    ) -> ClientRun: ...


def parse_outcome(stdout: str) -> Outcome:
    """The outcome JSON on the last non-empty line of a client's output."""
    lines = [line for line in stdout.strip().splitlines() if line.strip()]
    if not lines:
        raise ValueError("printed nothing; the outcome JSON must be the last line of stdout")
    try:
        data = orjson.loads(lines[-1])
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"the last line is not JSON ({exc}): {lines[-1][:200]!r}") from None
    if not isinstance(data, dict) or "ok" not in data:
        raise ValueError(f"the last line is not an outcome object with 'ok': {lines[-1][:200]!r}")
    return Outcome.from_json(data)


@dataclass(frozen=True)
class SubprocessClient:
    """``--client-cmd``: a shell command, run once per scenario with the FAULTPROOF_* variables."""

    command: str

    @property
    def name(self) -> str:
        return self.command

    def __call__(
        self, base_url: str, provider: str, operation: Operation, timeout_s: float
    ) -> ClientRun:
        env = {
            **os.environ,
            "FAULTPROOF_BASE_URL": base_url,
            "FAULTPROOF_PROVIDER": provider,
            "FAULTPROOF_OPERATION": orjson.dumps(operation.to_json()).decode(),
            "FAULTPROOF_TIMEOUT_S": f"{timeout_s:g}",
        }
        started = time.monotonic()
        proc = subprocess.Popen(
            self.command,
            shell=True,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout_s + KILL_GRACE_S)
            killed = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            out, err = proc.communicate()
            killed = True
        elapsed = time.monotonic() - started
        stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
        tail = (stdout + ("\n[stderr]\n" + stderr if stderr.strip() else ""))[-TAIL_CHARS:]
        if killed:
            return ClientRun(
                None, elapsed, True, f"stopped after {elapsed:.1f} s (limit {timeout_s:g} s)", tail
            )
        try:
            return ClientRun(parse_outcome(stdout), elapsed, False, None, tail)
        except ValueError as exc:
            return ClientRun(None, elapsed, False, f"exit status {proc.returncode}: {exc}", tail)


def load_callable(spec: str) -> Callable[..., Any]:
    """``module:function`` to the function, with a clear error when it is not there."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise FaultproofError(
            f"{spec!r}: expected module:function (for example examples.reference_client:client)"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FaultproofError(f"cannot import {module_name!r}: {exc}") from None
    function: Callable[..., Any] | None = getattr(module, attribute, None)
    if function is None or not callable(function):
        raise FaultproofError(f"{module_name!r} has no callable {attribute!r}")
    return function


@dataclass(frozen=True)
class PythonClient:
    """``--client-py module:function``: ``client(base_url, operation) -> Outcome`` in a thread.

    A function that accepts ``timeout_s`` gets the run's time limit as that keyword.
    """

    spec: str

    @property
    def name(self) -> str:
        return self.spec

    def __call__(
        self, base_url: str, provider: str, operation: Operation, timeout_s: float
    ) -> ClientRun:
        function = load_callable(self.spec)
        kwargs = (
            {"timeout_s": timeout_s}
            if "timeout_s" in inspect.signature(function).parameters
            else {}
        )
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["outcome"] = function(base_url, operation, **kwargs)
            except BaseException as exc:  # the client's crash is a finding, reported below
                box["error"] = f"{type(exc).__name__}: {exc}"

        started = time.monotonic()
        thread = threading.Thread(target=target, daemon=True, name=f"client-{operation.name}")
        thread.start()
        thread.join(timeout_s + KILL_GRACE_S)
        elapsed = time.monotonic() - started
        if thread.is_alive():
            return ClientRun(
                None, elapsed, True, f"still running after {elapsed:.1f} s (limit {timeout_s:g} s)"
            )
        if "error" in box:
            return ClientRun(None, elapsed, False, f"raised {box['error']}")
        outcome = box.get("outcome")
        if isinstance(outcome, dict):
            outcome = Outcome.from_json(outcome)
        if not isinstance(outcome, Outcome):
            return ClientRun(
                None, elapsed, False, f"returned {type(outcome).__name__}, not an Outcome"
            )
        return ClientRun(outcome, elapsed)
