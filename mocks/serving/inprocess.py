"""The mock in this process, on a free loopback port: for `faultproof run` and the plugin.

werkzeug's threaded server makes every transport fault (``notes/serving.md``) and gives each
request its own thread, so hangs never block the other runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

from ..app import create_app
from ..config import MockConfig

#: What werkzeug logs when a client leaves a faulted connection: expected, not an error.
EXPECTED_DISCONNECTS = (
    "Connection reset by peer",
    "Broken pipe",
    "Transport endpoint is not connected",
)


class _QuietDisconnects(logging.Filter):
    """Drops werkzeug's tracebacks for connections the mock or the client cut on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not any(marker in text for marker in EXPECTED_DISCONNECTS)


@contextmanager
def running_mock(config: MockConfig | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """A mock serving on ``host`` and a free port until the block ends; yields its URL."""
    logger = logging.getLogger("werkzeug")
    logger.setLevel(logging.ERROR)
    if not any(isinstance(f, _QuietDisconnects) for f in logger.filters):
        logger.addFilter(_QuietDisconnects())
    server = make_server(host, 0, create_app(config or MockConfig()), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="faultproof-mock", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
