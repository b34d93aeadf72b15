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

from ..app import create_app
from .options import mock_config

OPTIONS_ENV = "FAULTPROOF_SERVE_OPTIONS"


def serve(
    options: dict[str, Any], host: str, port: int, workers: int, threads: int, access_log: bool
) -> None:
    """Run until SIGINT or SIGTERM; ``threads`` run the mock, granian's own hold connections."""
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
        # Few threads contend least for the GIL (4 threads: 11,300 answers/s here, 64: 9,100);
        # granian's own threads hold the connections meanwhile.
        blocking_threads=threads,
        log_access=access_log,
    ).serve()


def app() -> Any:
    """The mock of one granian worker (granian calls this factory in each worker)."""
    return create_app(mock_config(**json.loads(os.environ[OPTIONS_ENV])))
