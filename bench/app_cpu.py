"""CPU per canned triggered answer of the mock app alone (no server): the app's share of issue 8.

``python bench/app_cpu.py [--sans-io] [-n N]`` answers ``GET /alana/api/v1/products/42`` with
``Prefer: code=429`` N times (journal on) and prints µs per answer (process CPU time, so other
load on the machine counts less). By default through the WSGI app, as every WSGI server and
``app.test_client()`` call it; with ``--sans-io`` through ``Canned.respond`` alone, what an
asyncio server pays that builds the ``Ask`` from its own parser.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from werkzeug.test import EnvironBuilder

from faultproof.mocks import journal
from faultproof.mocks.app import create_app
from faultproof.mocks.canned import Answer, Ask, Canned
from faultproof.mocks.config import MockConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="requests (default 20000)")
    parser.add_argument("--sans-io", action="store_true", help="Canned.respond, no WSGI")
    args = parser.parse_args()
    app = create_app(MockConfig())
    base = EnvironBuilder(
        path="/alana/api/v1/products/42",
        headers={"Prefer": "code=429", "X-API-Key": "alana_test_key", "User-Agent": "wrk"},
    ).get_environ()
    if args.sans_io:
        _sans_io(app.wsgi_app.canned, journal.request_headers(base), args.n)
        return
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


def _sans_io(canned: Canned, headers: dict[str, str], n: int) -> None:
    path = "/alana/api/v1/products/42"
    for _ in range(1_000):
        canned.respond(Ask("GET", path, None, headers, {}, bytes))
    started = time.process_time()
    for _ in range(n):
        answer = canned.respond(Ask("GET", path, None, headers, {}, bytes))
    spent = time.process_time() - started
    assert isinstance(answer, Answer) and answer.status == 429, answer
    print(f"{spent / n * 1e6:.1f} µs CPU per answer over {n} requests (sans-IO)")


if __name__ == "__main__":
    main()
