"""CPU per canned triggered answer of the mock app alone (no server): the app's share of issue 8.

``python bench/app_cpu.py [--no-fast-path] [-n N]`` calls the WSGI app N times with
``GET /alana/api/v1/products/42`` and ``Prefer: code=429`` (journal on) and prints µs per answer
(process CPU time, so other load on the machine does not count).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from werkzeug.test import EnvironBuilder

from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="requests (default 20000)")
    parser.add_argument("--no-fast-path", action="store_true", help="every request through Flask")
    args = parser.parse_args()
    kwargs: dict[str, Any] = {"fast_path": False} if args.no_fast_path else {}
    app = create_app(MockConfig(**kwargs))
    base = EnvironBuilder(
        path="/alana/api/v1/products/42",
        headers={"Prefer": "code=429", "X-API-Key": "alana_test_key", "User-Agent": "wrk"},
    ).get_environ()
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    for _ in range(1_000):
        b"".join(app(dict(base), start_response))
    started = time.process_time()
    for _ in range(args.n):
        b"".join(app(dict(base), start_response))
    spent = time.process_time() - started
    assert set(statuses) == {"429 TOO MANY REQUESTS"}, set(statuses)
    print(f"{spent / args.n * 1e6:.1f} µs CPU per answer over {args.n} requests")


if __name__ == "__main__":
    main()
