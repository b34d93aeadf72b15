"""Concurrent traffic into sessions of a real `faultproof serve`: the journals account for every
request exactly, kept or counted as dropped at the bound, in every store (SQLite with two workers).

CI sends 6,000 requests at 32-way concurrency per case; `bench/hardening_load.py` sends 100,000
(recorded in `bench/results/hardening_load.md`).
"""

from __future__ import annotations

import pytest
from session_load import discrepancies, raised_limits, send

REQUESTS, CONCURRENCY, SESSIONS = 6_000, 32, 4


@pytest.mark.parametrize(
    ("state", "journal_limit"),
    [("memory", 10_000), ("memory", 1_000), ("redis", 1_000), ("sqlite", 1_000)],
    ids=[
        "memory-unbounded-by-traffic",
        "memory-past-the-bound",
        "redis-past-the-bound",
        "sqlite-two-workers-past-the-bound",
    ],
)
def test_journals_count_every_request_exactly(request, start, tmp_path, state, journal_limit):
    store = ["--state", "memory"]
    if state == "redis":
        store = ["--state", request.getfixturevalue("redis_url")]
    if state == "sqlite":
        store = ["--state", f"sqlite://{tmp_path / 'state.db'}", "--workers", "2"]
    proc, url = start(*store, "--journal-limit", str(journal_limit), *raised_limits())
    result = send(url, REQUESTS, CONCURRENCY, SESSIONS)
    assert result.total == REQUESTS
    assert discrepancies(result) == []
    per_session = REQUESTS // SESSIONS
    kept = min(per_session, journal_limit)
    assert {(j["kept"], j["dropped"]) for j in result.journals.values()} == {
        (kept, per_session - kept)
    }
    assert proc.poll() is None
