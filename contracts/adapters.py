"""Running a client under test: a subprocess in any language, or a Python callable.

Both get the session-scoped base URL, the operation and the time the run allows, and yield a
``ClientRun``: the outcome the client reported (or why there is none), how long it took, and
whether the runner had to stop it. The time counts from the client's first request when the
runner can watch the mock (``supervise.py``); a client is stopped ``KILL_GRACE_S`` after it.
"""

from __future__ import annotations

import importlib
import inspect
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import IO, Any, Protocol

import orjson

from .errors import FaultproofError
from .scenario import Operation
from .supervise import Watch, supervise
from .verdict import Outcome

TAIL_CHARS = 2000


@dataclass(frozen=True, slots=True)
class ClientRun:
    """What one client invocation produced.

    Attributes:
        outcome: The outcome it reported, or ``None``.
        elapsed_s: Wall time from its first request (from its start when it sent none) to its
            end or the kill.
        killed: Whether it was stopped at its time limit plus grace.
        error: Why there is no outcome (crash, no JSON on the last line), if that is the case.
        output_tail: The end of what it printed, for diagnosis.
        startup_s: From its start to its first request, when the runner saw one.
        alive: Still running after the stop (a thread cannot be stopped).
    """

    outcome: Outcome | None
    elapsed_s: float
    killed: bool = False
    error: str | None = None
    output_tail: str = ""
    startup_s: float | None = None
    alive: bool = False


class Client(Protocol):
    """A client under test, however it is run."""

    @property
    def name(self) -> str: ...

    def __call__(
        self,
        base_url: str,
        provider: str,
        operation: Operation,
        timeout_s: float,
        watch: Watch | None = None,
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
        self,
        base_url: str,
        provider: str,
        operation: Operation,
        timeout_s: float,
        watch: Watch | None = None,
    ) -> ClientRun:
        env = {
            **os.environ,
            "FAULTPROOF_BASE_URL": base_url,
            "FAULTPROOF_PROVIDER": provider,
            "FAULTPROOF_OPERATION": orjson.dumps(operation.to_json()).decode(),
            "FAULTPROOF_TIMEOUT_S": f"{timeout_s:g}",
        }
        # Files, not pipes: a client that prints a lot never blocks while the runner waits.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = _Process(self.command, env, out, err)
            ended = supervise(process.start, timeout_s, watch)
            stdout, stderr = _read(out), _read(err)
        tail = (stdout + ("\n[stderr]\n" + stderr if stderr.strip() else ""))[-TAIL_CHARS:]
        if ended.killed:
            return ClientRun(
                None,
                ended.elapsed_s,
                True,
                f"stopped after {ended.elapsed_s:.1f} s (limit {timeout_s:g} s)",
                tail,
                ended.startup_s,
            )
        try:
            outcome = parse_outcome(stdout)
        except ValueError as exc:
            error = f"exit status {process.returncode}: {exc}"
            return ClientRun(None, ended.elapsed_s, False, error, tail, ended.startup_s)
        return ClientRun(outcome, ended.elapsed_s, False, None, tail, ended.startup_s)


def _read(file: IO[bytes]) -> str:
    file.seek(0)
    return file.read().decode(errors="replace")


class _Process:
    """A client command in a process group of its own, so a stop takes its children too."""

    def __init__(self, command: str, env: dict[str, str], out: IO[bytes], err: IO[bytes]) -> None:
        self.args = (command, env, out, err)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    def start(self) -> _Process:
        command, env, out, err = self.args
        self.proc = subprocess.Popen(
            command, shell=True, env=env, stdout=out, stderr=err, start_new_session=True
        )
        return self

    def wait(self, timeout: float) -> bool:
        assert self.proc is not None
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self) -> None:
        assert self.proc is not None
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


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
        raise FaultproofError(
            f"cannot import {module_name!r}: {exc}. MODULE is a dotted module name importable "
            f"from the working directory ({os.getcwd()}) or the installed packages, not a file "
            "path: for examples/reference_client.py, examples.reference_client:client"
        ) from None
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
        self,
        base_url: str,
        provider: str,
        operation: Operation,
        timeout_s: float,
        watch: Watch | None = None,
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

        thread = _Thread(target=target, daemon=True, name=f"client-{operation.name}")
        ended = supervise(thread.begin, timeout_s, watch)
        if ended.killed:
            return ClientRun(
                None,
                ended.elapsed_s,
                True,
                f"still running after {ended.elapsed_s:.1f} s (limit {timeout_s:g} s)",
                startup_s=ended.startup_s,
                alive=True,
            )
        if "error" in box:
            return ClientRun(
                None, ended.elapsed_s, False, f"raised {box['error']}", startup_s=ended.startup_s
            )
        outcome = box.get("outcome")
        if isinstance(outcome, dict):
            outcome = Outcome.from_json(outcome)
        if not isinstance(outcome, Outcome):
            return ClientRun(
                None,
                ended.elapsed_s,
                False,
                f"returned {type(outcome).__name__}, not an Outcome",
                startup_s=ended.startup_s,
            )
        return ClientRun(outcome, ended.elapsed_s, startup_s=ended.startup_s)


class _Thread(threading.Thread):
    """A client function in a thread; a thread cannot be stopped, so a stop leaves it behind."""

    def begin(self) -> _Thread:
        self.start()
        return self

    def wait(self, timeout: float) -> bool:
        self.join(timeout)
        return not self.is_alive()

    def stop(self) -> None:
        return None
