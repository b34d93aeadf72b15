"""The real servers and clients of ``bench/store_faults.py``: a redis-server to kill and stop,
``faultproof serve`` on a free loopback port, and load that sorts every answer it gets."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import redis

KEY = {"X-API-Key": "alana_test_key"}
SERVE = [sys.executable, "-m", "faultproof.mocks.cli", "serve", "--providers", "alana"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], limit_s: float = 20.0) -> float:
    """Seconds until ``check()`` holds (polled every 10 ms); ``limit_s`` means it never did."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        try:
            if check():
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.01)
    return limit_s


class Redis:
    """A redis-server of the bench's own, persisted to an append-only file (survives SIGKILL)."""

    def __init__(self, folder: str) -> None:
        self.binary = shutil.which("redis-server") or sys.exit("redis-server is not installed")
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir"]
        more = ["--appendonly", "yes", "--appendfsync", "always"]
        self.proc = subprocess.Popen(
            [self.binary, *args, self.folder, *more], stdout=subprocess.DEVNULL
        )
        if wait_for(self._answers, 10) >= 10:
            sys.exit("redis-server did not start within 10 s")

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def signal(self, number: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(number)
        if number == signal.SIGKILL:
            self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=10)


@contextmanager
def serve(*options: str) -> Iterator[str]:
    """``faultproof serve`` on a free loopback port until the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        [*SERVE, "--port", str(port), *options], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if wait_for(lambda: httpx.get(url + "/__faultproof/health").status_code == 200) >= 20:
            sys.exit(f"faultproof serve {' '.join(options)} did not start")
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, errors = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, errors = proc.communicate()
        serve.log = errors.decode(errors="replace")  # type: ignore[attr-defined]


def sort(response: httpx.Response | None) -> str:
    """One answer's kind, as the table counts them."""
    if response is None:
        return "no answer"
    mark = response.headers.get("X-Faultproof-Error")
    if response.status_code == 503 and mark == "store":
        return "503 marked"
    if response.status_code >= 500 and "X-Faultproof-Scenario" in response.headers:
        return "provider envelope"
    if response.status_code >= 500:
        return "marked other 5xx" if mark else "unmarked 5xx"
    return "ok" if response.status_code < 400 else "4xx"


class Load:
    """Clients that keep asking one session's provider API, and what they got."""

    def __init__(self, url: str, threads: int) -> None:
        self.url, self.stop, self.seen = url, threading.Event(), Counter[str]()
        self.worst_s, self.lock = 0.0, threading.Lock()
        self.workers = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        with httpx.Client(timeout=15) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    response: httpx.Response | None = client.get(self.url, headers=KEY)
                except httpx.HTTPError:
                    response = None
                with self.lock:
                    self.seen[sort(response)] += 1
                    self.worst_s = max(self.worst_s, time.monotonic() - started)
                time.sleep(0.002)

    def __enter__(self) -> Load:
        for worker in self.workers:
            worker.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for worker in self.workers:
            worker.join()
