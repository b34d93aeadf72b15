"""Fixtures for the mock: an app per test with a controllable clock, and a real server."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from werkzeug.serving import make_server

from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig
from tests.needs import missing


@dataclass
class FakeClock:
    """Epoch seconds that only move when a test says so."""

    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_app(clock):
    def build(*providers: str, **kwargs):
        config = MockConfig(providers=providers or MockConfig().providers, clock=clock, **kwargs)
        app = create_app(config)
        app.testing = True
        return app

    return build


@dataclass
class LiveServer:
    url: str
    port: int


@contextmanager
def served_werkzeug(config: MockConfig) -> Iterator[LiveServer]:
    """A mock on a real loopback socket (werkzeug's threaded server, the in-process runner's)."""
    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.port}", server.port)
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def served_uvicorn(config: MockConfig) -> Iterator[LiveServer]:
    """A mock on `faultproof serve`'s default server (uvicorn, its own loop in a thread)."""
    import uvicorn

    from faultproof.mocks.serving.asgi import MockASGI
    from faultproof.mocks.serving.uvicorn_server import settings

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    app = MockASGI(create_app(config), threads=8)
    server = uvicorn.Server(uvicorn.Config(app, **{**settings(False), "log_level": "warning"}))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


SERVERS = {"werkzeug": served_werkzeug, "uvicorn": served_uvicorn}
served = served_werkzeug


@pytest.fixture(params=sorted(SERVERS))
def live_server(request) -> Iterator[LiveServer]:
    """The Alana mock on a real socket, on each server that makes faults."""
    with SERVERS[request.param](MockConfig(providers=("alana",), hang_max_s=5.0)) as server:
        yield server


@pytest.fixture(scope="module", params=sorted(SERVERS))
def live_all(request) -> Iterator[LiveServer]:
    """Every provider on one real socket, shared by a module's tests, on each server."""
    with SERVERS[request.param](MockConfig(hang_max_s=5.0)) as server:
        yield server


CLI = [sys.executable, "-m", "faultproof.mocks.cli"]
SERVE = [*CLI, "serve"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(*extra: str, verb: str = "serve") -> tuple[subprocess.Popen[bytes], str]:
    """``faultproof VERB`` (``serve`` or ``proxy``) on a free port, once it answers health."""
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, verb, "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"serve exited early: {proc.stdout.read().decode() if proc.stdout else ''}"
            )
        try:
            if httpx.get(url + "/__faultproof/health", timeout=0.5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("serve did not answer its health check within 15 s")


@pytest.fixture
def start():
    """Start `faultproof serve` on a free loopback port; stopped at teardown if still running."""
    procs: list[subprocess.Popen[bytes]] = []

    def run(*extra: str) -> tuple[subprocess.Popen[bytes], str]:
        proc, url = _start(*extra)
        procs.append(proc)
        return proc, url

    yield run
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=15)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server on a free loopback port for this test run; stopped at the end."""
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        missing(message)
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start within 10 s")
            time.sleep(0.02)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(params=["memory", "redis", "sqlite"])
def store(request, tmp_path):
    """Each store implementation in turn: all pass the same suite."""
    from faultproof.mocks.memory_store import MemoryStore
    from faultproof.mocks.sqlite_store import SqliteStore

    if request.param == "memory":
        return MemoryStore()
    if request.param == "sqlite":
        return SqliteStore(str(tmp_path / "state.db"))
    from faultproof.mocks.redis_store import RedisStore

    url = request.getfixturevalue("redis_url")
    found = RedisStore.from_url(url)
    found.redis.flushdb()
    return found
