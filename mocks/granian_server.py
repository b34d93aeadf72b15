"""``faultproof serve --server granian``: canned answers at several times gunicorn's rate.

Why a second server: granian (an HTTP server written in Rust) serves the mock's answers about
three times faster than gunicorn's threaded worker on this machine (``bench/results/compare.md``),
which matters when a load test or a large parallel CI job hammers the mock. What it cannot do is
hand the application its connection (``../shared/notes/serving.md``): the faults that act on the
connection (``fault.hang``, ``fault.drop``, ``fault.reset``, ``fault.truncated_body``) are
refused with a marked 501 (``faults.refusal``), never faked. gunicorn stays the default.

granian starts its workers as new processes, so each rebuilds the mock from the options the
command line already validated, passed in ``FAULTPROOF_SERVE_OPTIONS``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .app import create_app

OPTIONS_ENV = "FAULTPROOF_SERVE_OPTIONS"


def serve(options: dict[str, Any], host: str, port: int, workers: int, access_log: bool) -> None:
    """Run until SIGINT or SIGTERM."""
    from granian import Granian
    from granian.constants import Interfaces

    os.environ[OPTIONS_ENV] = json.dumps(options)
    Granian(
        f"{__name__}:app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        factory=True,
        # Threads that run the app (granian notes this is many for few cores): a delay or a slow
        # drip holds one for its whole length.
        blocking_threads=64,
        log_access=access_log,
    ).serve()


def app() -> Any:
    """The mock of one granian worker (granian calls this factory in each worker)."""
    from .cli import mock_config

    return create_app(mock_config(**json.loads(os.environ[OPTIONS_ENV])))
