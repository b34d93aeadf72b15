"""``faultproof serve``: the mock on gunicorn's threaded worker.

Why gunicorn ``gthread`` (``../shared/notes/serving.md``): it is the one server measured here
that makes every transport fault (an orderly drop, a TCP reset, a truncated body, a slow drip)
with clean logs, and isolates hangs as long as threads outnumber concurrent hangs. granian is
faster on canned answers but cannot drop or reset a connection, and a fault that silently
does not happen would grade clients wrongly.
"""

from __future__ import annotations

import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from ..app import create_app
from ..config import MockConfig


class MockServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application that builds the mock in each worker."""

    def __init__(self, config: MockConfig, options: dict[str, Any]) -> None:
        self.config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25.1 opens one control socket per user: parallel mocks would clash.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        return create_app(self.config)


def serve(
    config: MockConfig,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    threads: int = 256,
    access_log: bool = False,
) -> None:
    """Run until SIGINT or SIGTERM; in-flight hangs are cut after a short grace period."""
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "graceful_timeout": 2,
        "timeout": 0,
        "keepalive": 5,
        # gunicorn's own 414/431 pages (request line over 4 KiB, a header over 8 KiB) would answer
        # before the mock, in HTML no provider documents: the mock sees every request line, and
        # headers up to 64 KiB (0 means gunicorn's 8 KiB default for this one).
        "limit_request_line": 0,
        "limit_request_field_size": 65536,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "faultproof",
    }
    MockServer(config, options).run()
    sys.exit(0)
