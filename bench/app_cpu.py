"""CPU per canned triggered answer of the mock app alone (no server): the app's share of issue 8.

``python bench/app_cpu.py [--sans-io] [--plan] [-n N]`` answers
``GET /alana/api/v1/products/42`` with ``Prefer: code=429`` N times (journal on) and prints µs
per answer (process CPU time, so other load on the machine counts less). By default through
the WSGI app, as every WSGI server and ``app.test_client()`` call it; with ``--sans-io``
through ``Canned.respond`` alone, what an asyncio server pays that builds the ``Ask`` from its
own parser; with ``--plan`` from a session plan's step (``repeat_last``) instead of the
``Prefer`` trigger. Without ``--sans-io`` it also runs against an older snapshot of the code on
``PYTHONPATH``, for before/after figures.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from werkzeug.test import EnvironBuilder

from faultproof.contracts import default_catalogue
from faultproof.mocks import journal, plans
from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig

#: With ``--plan`` the answer comes from a plan step instead of a trigger.
PLAN = {"steps": [{"scenario": "alana.RATE_001"}], "after": "repeat_last"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="requests (default 20000)")
    parser.add_argument("--sans-io", action="store_true", help="Canned.respond, no WSGI")
    parser.add_argument("--plan", action="store_true", help="a plan step, not a trigger")
    args = parser.parse_args()
    config = MockConfig()
    app = create_app(config)
    headers = {"X-API-Key": "alana_test_key", "User-Agent": "wrk"}
    if args.plan:
        plan = plans.validate(PLAN, default_catalogue(), config.providers)
        config.store.set_plan("default", plan)
    else:
        headers["Prefer"] = "code=429"
    base = EnvironBuilder(path="/alana/api/v1/products/42", headers=headers).get_environ()
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


def _sans_io(canned: Any, headers: dict[str, str], n: int) -> None:
    from faultproof.mocks.canned import Answer, Ask  # not in snapshots from before issue 13

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
