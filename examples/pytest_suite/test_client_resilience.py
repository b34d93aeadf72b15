"""An example suite: your client against the providers' documented failures, from pytest.

Copy this file into your repository, replace ``client`` with a call into your own client, and
run ``pytest`` (add ``-n auto`` with pytest-xdist: every worker gets its own mock). The
``faultproof`` plugin is installed with faultproof; nothing else to configure.
"""

from __future__ import annotations

import pytest

from examples.reference_client import client  # your client here
from faultproof.contracts import default_catalogue
from faultproof.contracts.assertions import (
    assert_honours_retry_after,
    assert_stops_on_non_retryable,
    assert_survives,
)


def play(session):
    """Your client, doing what the scenario is about, within the time the scenario allows."""
    return client(session.base_url, session.operation, timeout_s=session.time_limit_s)


@pytest.mark.faultproof(provider="alana", scenario="RATE_*")
def test_survives_alana_rate_limits(faultproof_session):
    """One test id per matching scenario: test_survives_alana_rate_limits[alana.RATE_001]."""
    outcome = play(faultproof_session)
    assert_survives(faultproof_session.journal(), outcome)


@pytest.mark.faultproof(
    provider="ainative", scenario=["insufficient_permissions_*", "validation_error_*"]
)
def test_gives_up_on_client_errors(faultproof_session):
    """A non-retryable answer is reported, never retried."""
    outcome = play(faultproof_session)
    assert not outcome.ok
    assert_stops_on_non_retryable(faultproof_session.journal())


@pytest.mark.faultproof(provider="aironclaw", scenario=["fault.drop", "fault.malformed_json"])
def test_survives_transport_faults(faultproof_session):
    """Generic transport faults, on any provider: the client ends with an outcome, in time."""
    outcome = play(faultproof_session)
    assert_survives(faultproof_session.journal(), outcome)


def test_waits_what_the_server_asks_then_recovers(faultproof_session):
    """A scripted sequence: two 429s asking for one second each, then the real answer."""
    faultproof_session.plan(
        {"scenario": "alana.RATE_001", "params": {"retry_after": 1}},
        {"scenario": "alana.RATE_001", "params": {"retry_after": 1}},
        match={"method": "GET", "path": "/api/v1/products/*"},
    )
    operation = default_catalogue().provider("alana").operations["get_product"]
    outcome = client(faultproof_session.base_urls["alana"], operation)

    assert outcome.ok
    journal = faultproof_session.journal()
    assert journal.statuses == [429, 429, 200]
    assert_honours_retry_after(journal)
