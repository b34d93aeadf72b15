"""``faultproof serve``'s server (its only one): uvicorn with httptools and uvloop, one event
loop per worker (``asgi.py`` for what runs on the loop and what in threads).

Why uvicorn: measured on this machine (``../shared/notes/serving.md``,
``bench/results/serving_trials.md``), its httptools protocol answers a canned error 3.4x
faster than gunicorn's threaded worker (the previous server), and its protocol class is a
documented extension point, so the app gets the transport and makes every fault on the wire:
FIN, RST, a truncated body, a hang or a slow drip that hold a connection but no thread.
gunicorn (a thread per request in flight) and granian (about as fast, but no access to the
connection, so no hang, drop or truncated body) were not better at anything measured, and
went: there is no server to choose.

Several workers are separate processes (uvicorn's supervisor, spawn): each rebuilds the mock
from the options the command line validated, passed in ``FAULTPROOF_SERVE_OPTIONS``.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Generator
from typing import Any

import uvicorn

from ..app import create_app
from ..config import MockConfig
from .asgi import MockASGI
from .options import mock_config
from .protocol import FaultproofProtocol

OPTIONS_ENV = "FAULTPROOF_SERVE_OPTIONS"
THREADS_ENV = "FAULTPROOF_SERVE_THREADS"
ACCESS_LOG_ENV = "FAULTPROOF_SERVE_ACCESS_LOG"
SUPERVISOR_ENV = "FAULTPROOF_SERVE_SUPERVISOR"


class _Server(uvicorn.Server):
    """uvicorn's server, ending with exit status 0 after SIGINT or SIGTERM.

    uvicorn re-raises the signal it caught once it has shut down, so the process dies of it
    (status -15, or click's "Aborted." and 130): a clean, asked-for stop is a success here.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


def settings(access_log: bool) -> dict[str, Any]:
    """uvicorn settings shared by one worker and several."""
    return {
        "http": FaultproofProtocol,
        "loop": "uvloop",
        "lifespan": "off",
        "interface": "asgi3",
        "access_log": access_log,
        "server_header": False,
        # No proxy in front: X-Forwarded-For must not rewrite the peer the control plane checks.
        "proxy_headers": False,
        "log_level": "info",
        # A hang in flight at shutdown is cut after this grace period (``async_wire.perform``).
        "timeout_graceful_shutdown": 2,
        "timeout_keep_alive": 5,
        "backlog": 4096,
    }


def serve(
    config: MockConfig,
    options: dict[str, Any],
    sock: socket.socket,
    workers: int,
    threads: int,
    access_log: bool,
) -> None:
    """Run on ``sock`` (``listen.listen``) until SIGINT or SIGTERM; ``threads`` per worker run
    the Flask part of the mock."""
    if workers == 1:
        app = MockASGI(create_app(config), threads, access_log)
        # A proxy's answers carry the upstream's Date: uvicorn must not add a second one.
        dated = config.upstream is None
        server = _Server(uvicorn.Config(app, **settings(access_log), date_header=dated))
        server.run(sockets=[sock])
        sys.exit(0 if server.started else 1)
    os.environ[OPTIONS_ENV] = json.dumps(options)
    os.environ[THREADS_ENV] = str(threads)
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    os.environ[ACCESS_LOG_ENV] = "1" if access_log else ""
    # uvicorn's supervisor binds its own socket (its public API takes an address, not one):
    # the address checked and the port chosen are handed over, and the checking socket closed.
    host, port = sock.getsockname()[:2]
    sock.close()
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **settings(access_log),
    )
    sys.exit(0)


#: Linux's prctl option that signals a process when its parent dies.
PR_SET_PDEATHSIG = 1


#: How often a worker checks that its supervisor is still its parent.
PARENT_POLL_S = 0.5
#: How long a worker whose supervisor died may take to shut down gracefully.
ORPHAN_GRACE_S = 5.0


def _end_with_supervisor() -> None:
    """A worker ends when its supervisor dies, even of SIGKILL (a CI job's timeout), instead of
    holding the port and the journal of a mock nobody can stop any more.

    Two ways, because one was seen failing: Linux's parent-death signal, and a thread that
    watches for the worker being re-parented (the signal did not arrive in every environment:
    under pytest-xdist, workers outlived a SIGKILLed supervisor).
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    # The supervisor's pid comes from the supervisor: a worker still starting when it died
    # is already re-parented here, and must not take its new parent for its supervisor.
    supervisor = int(os.environ.get(SUPERVISOR_ENV) or os.getppid())
    if os.getppid() != supervisor:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown
        time.sleep(ORPHAN_GRACE_S)
        os._exit(1)

    threading.Thread(target=watch, name="faultproof-supervisor-watch", daemon=True).start()


def worker_app() -> MockASGI:
    """The mock of one worker process (uvicorn calls this factory in each)."""
    _end_with_supervisor()
    config = mock_config(**json.loads(os.environ[OPTIONS_ENV]))
    threads = int(os.environ[THREADS_ENV])
    return MockASGI(create_app(config), threads, bool(os.environ.get(ACCESS_LOG_ENV)))
