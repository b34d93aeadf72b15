"""Fixtures for the mock: an app per test with a controllable clock, and a real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig


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


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    """The Alana mock on a real loopback socket (werkzeug's threaded server), for faults."""
    app = create_app(MockConfig(providers=("alana",), hang_max_s=5.0))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.port}", server.port)
    finally:
        server.shutdown()
        thread.join(timeout=5)
