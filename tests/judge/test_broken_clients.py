"""The judge catches each deliberately broken client, and only for its flaw.

Each client of ``examples/broken_clients.py`` is the reference client with one behaviour
changed. It runs through the real runner against an in-process mock, on a few scenarios that
exercise its flaw and a few it must still pass; every (scenario, check) of ``EXPECTED`` must
fail, and every other applicable check of its selection must pass or skip. All clients run at
once, so the module costs about its slowest run (the slowest selected scenarios back off for
about 15 s), except ``sleeps_huge_retry_after``, which needs the catalogue's one huge wait:
the module costs about that run (65 s). No client is skipped.
"""

from __future__ import annotations

import fnmatch
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from faultproof.contracts import default_catalogue
from faultproof.contracts.adapters import PythonClient
from faultproof.contracts.control_client import MockControl
from faultproof.contracts.runner import Runner, select
from faultproof.contracts.verdict import RunReport
from faultproof.mocks.serving.inprocess import running_mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from examples import broken_clients

#: Seconds between the starts of two clients (the first client is the slowest).
STAGGER_S = 0.3

#: What each client runs: a scenario id (its provider is the id's prefix) or ``fault.X@provider``.
SELECTION: dict[str, tuple[str, ...]] = {
    "ignores_retry_after": (
        "ainative.rate_limited",
        "ainative.rate_limited_body_only",
        "airbyte.rate_limited_long_wait",
        "aironclaw.redis_unavailable",
        # AIronClaw's first backoff (3 s) is longer than the runner's 1 s Retry-After.
        "aironclaw.proxy_rate_limited",
    ),
    "retries_non_retryable": (
        "ainative.bad_request",
        "ainative.invalid_token_format",
        "ainative.insufficient_permissions_role",
        "ainative.not_found",
        "ainative.email_already_registered",
        "ainative.validation_error_email",
        "aironclaw.redis_unavailable",
        "ainative.rate_limited",
        "ainative.token_expired",
    ),
    "never_retries": (
        "aironclaw.redis_unavailable",
        "ainative.rate_limited",
        "fault.drop@ainative",
        "fault.html_502@ainative",
        "ainative.not_found",
        "ainative.token_expired",
        "fault.delay@ainative",
    ),
    # Not fault.drop@ainative: its fifth attempt comes after 4.5 s of backoff in a 7.1 s limit,
    # so four requests slower than 0.55 s each (seen with every client of this module running
    # at once under pytest -n 2) leave no time for it and the flaw goes unseen. The rate limit's
    # fifth attempt needs 4 s of named waits in 8.2 s.
    "retries_forever": (
        "aironclaw.redis_unavailable",
        "ainative.rate_limited",
        "fault.hang@ainative",
        "ainative.not_found",
    ),
    # Only Airbyte's documented 0.9 s floor: on a loaded machine a retry sent at once reaches
    # the mock up to 0.7 s late (contracts/timing.py), so AINative's 0.3 s floor would grade
    # this client fail when quiet and warn (between documented and assumed floors) when busy.
    "no_backoff": (
        "airbyte.internal_server_error",
        "airbyte.rate_limited_no_retry_after",
        "ainative.rate_limited",
        "fault.html_502@ainative",
        "ainative.not_found",
    ),
    "no_timeout": (
        "fault.hang@aironclaw",
        "fault.hang@ainative",
        "fault.slow_drip@ainative",
        "ainative.slow_response_timeout",
        "fault.delay@ainative",
        "aironclaw.redis_unavailable",
        "ainative.rate_limited",
    ),
    "crashes_on_non_json": (
        "fault.html_502@ainative",
        "fault.malformed_json@ainative",
        "ainative.internal_server_error_plain",
        "fault.truncated_body@ainative",
        "aironclaw.redis_unavailable",
        "ainative.not_found",
        "alana.STREAM_ERROR",
    ),
    "misreads_list_detail": (
        "ainative.validation_error_email",
        "ainative.password_too_short",
        "ainative.not_found",
        "ainative.bad_request",
    ),
    "ignores_stream_error": (
        "alana.STREAM_ERROR",
        "alana.DATA_001",
        "ainative.not_found",
    ),
    "http_date_as_seconds": (
        "airbyte.rate_limited_http_date",
        "aironclaw.proxy_rate_limited_http_date",
        "alana.RATE_001_http_date",
        "airbyte.rate_limited",
        "ainative.rate_limited",
    ),
    "repeats_post_after_5xx": (
        "ainative.internal_server_error_on_create",
        "ainative.query_timeout",
        "ainative.bad_request",
        "aironclaw.redis_unavailable",
        "airbyte.rate_limited_on_create",
    ),
    "no_token_refresh": (
        "ainative.token_expired",
        "alloy.token_expired",
        "airbyte.token_expired",
        "ainative.not_found",
        "aironclaw.redis_unavailable",
    ),
    "sleeps_huge_retry_after": (
        "airbyte.rate_limited_long_wait",
        "airbyte.rate_limited",
    ),
}

#: The (scenario glob, check id) pairs each client must fail; the glob matches the scenario id
#: or ``<scenario id>@<provider>``. Every other applicable check must pass or skip.
EXPECTED: dict[str, set[tuple[str, str]]] = {
    "ignores_retry_after": {
        ("ainative.rate_limited", "honours_retry_after"),
        ("ainative.rate_limited_body_only", "honours_retry_after"),
    },
    "retries_non_retryable": {
        ("ainative.bad_request", "stops_on_non_retryable"),
        ("ainative.invalid_token_format", "stops_on_non_retryable"),
        ("ainative.insufficient_permissions_role", "stops_on_non_retryable"),
        ("ainative.not_found", "stops_on_non_retryable"),
        ("ainative.email_already_registered", "stops_on_non_retryable"),
        ("ainative.validation_error_email", "stops_on_non_retryable"),
    },
    "never_retries": {
        ("aironclaw.redis_unavailable", "retries_retryable"),
        ("aironclaw.redis_unavailable", "recovers"),
        ("ainative.rate_limited", "retries_retryable"),
        ("ainative.rate_limited", "honours_retry_after"),
        ("ainative.rate_limited", "recovers"),
        ("fault.drop@ainative", "retries_retryable"),
        ("fault.drop@ainative", "recovers"),
        ("fault.html_502@ainative", "retries_retryable"),
        ("fault.html_502@ainative", "recovers"),
    },
    "retries_forever": {
        ("ainative.rate_limited", "bounded_attempts"),
    },
    "no_backoff": {
        ("airbyte.internal_server_error", "backs_off"),
        ("airbyte.rate_limited_no_retry_after", "backs_off"),
    },
    "no_timeout": {
        ("fault.hang@aironclaw", "times_out"),
    },
    "crashes_on_non_json": {
        ("fault.html_502@ainative", "handles_non_json"),
        ("fault.html_502@ainative", "retries_retryable"),
        ("fault.html_502@ainative", "recovers"),
        ("fault.malformed_json@ainative", "handles_non_json"),
        ("ainative.internal_server_error_plain", "handles_non_json"),
        ("ainative.internal_server_error_plain", "retries_retryable"),
        ("ainative.internal_server_error_plain", "recovers"),
    },
    "misreads_list_detail": {
        ("ainative.validation_error_email", "parses_envelope"),
        ("ainative.password_too_short", "parses_envelope"),
    },
    "ignores_stream_error": {
        ("alana.STREAM_ERROR", "detects_stream_error"),
    },
    "http_date_as_seconds": {
        ("aironclaw.proxy_rate_limited_http_date", "honours_retry_after"),
        ("alana.RATE_001_http_date", "honours_retry_after"),
    },
    "repeats_post_after_5xx": {
        ("ainative.internal_server_error_on_create", "safe_retries"),
        ("ainative.query_timeout", "safe_retries"),
    },
    "no_token_refresh": {
        ("*.token_expired", "refreshes_token"),
        ("*.token_expired", "recovers"),
    },
    "sleeps_huge_retry_after": set(),
}

#: The pairs each client must get ``warn`` on: the flaw is caught, but the threshold it crosses
#: rests on a policy value the seed does not give (DESIGN.md: an assumed threshold warns).
EXPECTED_WARN: dict[str, set[tuple[str, str]]] = {
    # Airbyte's seed never names Retry-After, and caps computed backoff, not a server-named wait.
    "ignores_retry_after": {("airbyte.rate_limited_long_wait", "caps_retry_after")},
    "http_date_as_seconds": {("airbyte.rate_limited_http_date", "honours_retry_after")},
    "sleeps_huge_retry_after": {("airbyte.rate_limited_long_wait", "caps_retry_after")},
    # AINative's 30 s deadline is documented for webhook receivers, applied to API calls by
    # assumption; AIronClaw documents giving up on a hang ("hangs > 5s") and still fails.
    "no_timeout": {
        ("fault.hang@ainative", "times_out"),
        ("fault.slow_drip@ainative", "times_out"),
        ("ainative.slow_response_timeout", "times_out"),
    },
}

RUN = list(broken_clients.BROKEN_CLIENTS)


def _pairs(entries: tuple[str, ...]):
    catalogue = default_catalogue()
    pairs = []
    for entry in entries:
        scenario_id, _, provider = entry.partition("@")
        pairs += select(catalogue, [provider or scenario_id.split(".")[0]], [scenario_id])
    return pairs


def _run(name: str, url: str, delay_s: float = 0.0) -> RunReport:
    time.sleep(delay_s)
    runner = Runner(
        PythonClient(f"examples.broken_clients:{name}"),
        MockControl(url),
        default_catalogue(),
        workers=32,
    )
    return runner.run(_pairs(SELECTION[name]))


@pytest.fixture(scope="module")
def reports() -> dict[str, RunReport]:
    """Every broken client's report, all clients run at once against one mock.

    Starts are staggered: with every run of every client starting at the same instant (about a
    hundred, each building its own HTTP client), first retries were seen arriving up to 0.7 s
    late on a 2-core machine, enough for ``backs_off`` to read a well-spaced backoff as shrinking.
    """
    with running_mock() as url, ThreadPoolExecutor(max_workers=len(RUN)) as pool:
        futures = {
            name: pool.submit(_run, name, url, STAGGER_S * index) for index, name in enumerate(RUN)
        }
        return {name: future.result() for name, future in futures.items()}


def _expected(
    name: str, scenario: str, provider: str, check: str, table: dict | None = None
) -> bool:
    return any(
        check == check_id
        and (
            fnmatch.fnmatchcase(scenario, glob)
            or fnmatch.fnmatchcase(f"{scenario}@{provider}", glob)
        )
        for glob, check_id in (EXPECTED if table is None else table).get(name, set())
    )


def test_every_broken_client_is_graded():
    assert len(broken_clients.BROKEN_CLIENTS) >= 10
    assert set(broken_clients.BROKEN_CLIENTS) == set(SELECTION) == set(EXPECTED)
    for name in broken_clients.BROKEN_CLIENTS:
        function = getattr(broken_clients, name)
        assert callable(function) and function.__doc__, name


@pytest.mark.parametrize(
    "name",
    [name for name in broken_clients.BROKEN_CLIENTS],
)
def test_broken_client_fails_exactly_its_checks(name: str, reports: dict[str, RunReport]):
    report = reports[name]
    assert len(report.results) == len(SELECTION[name])
    errors = [
        (r.scenario, r.provider, r.error) for r in report.results if r.error and "mock:" in r.error
    ]
    assert not errors, errors
    graded = {(r.scenario, r.provider, c.id): c for r in report.results for c in r.checks}

    def want(key: tuple[str, str, str]) -> str:
        if _expected(name, *key):
            return "fail"
        return "warn" if _expected(name, *key, table=EXPECTED_WARN) else "pass"

    unexpected = {
        key: f"{c.verdict}: {c.detail}"
        for key, c in graded.items()
        if want(key) == "pass" and c.verdict not in ("pass", "skip")
    }
    missed = {
        key: f"{c.verdict}: {c.detail}"
        for key, c in graded.items()
        if want(key) != "pass" and c.verdict != want(key)
    }
    assert not unexpected and not missed, {"unexpected": unexpected, "missed": missed}
    for glob, check_id in EXPECTED[name] | EXPECTED_WARN.get(
        name, set()
    ):  # no typo in the table: each entry grades something
        assert any(
            check_id == c
            and (fnmatch.fnmatchcase(s, glob) or fnmatch.fnmatchcase(f"{s}@{p}", glob))
            for s, p, c in graded
        ), (glob, check_id)
