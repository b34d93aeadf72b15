"""Checks as assertions (``faultproof.contracts.assertions``) on hand-built journals."""

from __future__ import annotations

import pytest

from faultproof.contracts import FaultproofError, default_catalogue
from faultproof.contracts.assertions import (
    FaultproofWarning,
    Journal,
    assert_check,
    assert_honours_retry_after,
    assert_parses_envelope,
    assert_survives,
    evaluate,
)
from faultproof.contracts.checks import REGISTRY
from faultproof.contracts.verdict import CheckResult, Outcome
from tests.test_checks import OK, RATE, journal


def rate_journal(gap: float, **context) -> Journal:
    entries = journal((429, "alana.RATE_001", 1.0), (200, None, None), gaps=[gap])
    return Journal(tuple(entries), failures=1, params={"retry_after": 1}, **context)


def test_a_retry_after_the_named_wait_passes_and_returns_the_result() -> None:
    result = assert_honours_retry_after(rate_journal(1.05))
    assert result.id == "honours_retry_after" and result.verdict == "pass"


def test_a_retry_too_soon_fails_with_evidence_and_the_timeline() -> None:
    with pytest.raises(AssertionError) as error:
        assert_honours_retry_after(rate_journal(0.2))
    text = str(error.value)
    assert text.startswith("honours_retry_after: retried 0.2")
    assert "timeline of alana.RATE_001 on alana:" in text
    assert "GET /api/v1/products/42 -> 429 alana.RATE_001" in text
    assert "-> 200" in text


def test_the_scenario_and_provider_are_read_from_the_entries() -> None:
    scenario, provider = rate_journal(1.0).resolve()
    assert (scenario.id, provider.id) == ("alana.RATE_001", "alana")


def test_a_journal_with_no_planned_answer_says_so() -> None:
    plain = Journal(tuple(journal((200, None, None))))
    with pytest.raises(FaultproofError, match="no planned answer to grade"):
        assert_honours_retry_after(plain)


def test_outcome_checks_demand_the_outcome() -> None:
    with pytest.raises(FaultproofError, match="parses_envelope grades what the client reported"):
        assert_parses_envelope(rate_journal(1.0))
    assert assert_parses_envelope(rate_journal(1.0), RATE).verdict == "pass"
    with pytest.raises(AssertionError, match="parses_envelope: reported success"):
        assert_parses_envelope(rate_journal(1.0), OK)


def test_unknown_check_ids_list_the_valid_ones() -> None:
    with pytest.raises(FaultproofError, match=r"unknown check 'honors'.*honours_retry_after"):
        evaluate(rate_journal(1.0), "honors")


def test_assert_survives_grades_the_runs_mode_and_skips_outcome_checks_without_one() -> None:
    recovery = rate_journal(1.05, mode="recovery")
    ids = [r.id for r in assert_survives(recovery)]
    scenario = default_catalogue().scenario("alana.RATE_001")
    want = [c for c in scenario.checks if REGISTRY[c].mode == "recovery"]
    assert ids == [c for c in want if not REGISTRY[c].reads_outcome]
    assert [r.id for r in assert_survives(recovery, OK)] == want
    with pytest.raises(AssertionError, match="recovers: ended with"):
        assert_survives(recovery, RATE)


def test_from_export_keeps_inbound_entries_in_seq_order() -> None:
    entries = journal((429, "alana.RATE_001", 1.0), (200, None, None))
    outbound = {"seq": 3, "direction": "outbound", "received_at": 0, "responded_at": 0}
    exported = Journal.from_export({"entries": [entries[1], outbound, entries[0]], "dropped": 4})
    assert [e["seq"] for e in exported] == [1, 2]
    assert exported.dropped == 4 and exported.statuses == [429, 200]


def test_a_generic_fault_needs_its_provider_named() -> None:
    entries = tuple(journal((None, "fault.malformed_json", None)))
    with pytest.raises(FaultproofError, match="served on every provider: say which"):
        Journal(entries).resolve()
    on_alana = Journal(entries, provider=default_catalogue().provider("alana"))
    failure = Outcome(ok=False, transport="protocol")
    assert assert_check(on_alana, "handles_non_json", failure).verdict == "pass"
    with pytest.raises(AssertionError, match="handles_non_json"):
        assert_check(on_alana, "handles_non_json", OK)


# --- a warn is a FaultproofWarning, a failure only when strict ------------------------------

WARN_DETAIL = "first wait 0.45 s, below the assumed 1 s initial backoff (alana.yaml: assumed)"


@pytest.fixture
def warns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check warns (no built-in check is forced to warn on a hand-built journal)."""
    import faultproof.contracts.assertions as assertions

    def warned(check_id, context):
        return CheckResult(check_id, "warn", WARN_DETAIL)

    monkeypatch.setattr(assertions, "run_check", warned)


def test_a_warn_is_a_warning_naming_the_assumption_and_the_test_line(warns) -> None:
    with pytest.warns(FaultproofWarning, match="honours_retry_after: first wait 0.45 s") as seen:
        result = assert_honours_retry_after(rate_journal(1.05))
    assert result.verdict == "warn"
    assert "alana.RATE_001 on alana" in str(seen[0].message)
    assert seen[0].filename == __file__  # points at the test, not at faultproof


def test_assert_check_and_assert_survives_warn_from_the_callers_line(warns) -> None:
    with pytest.warns(FaultproofWarning) as seen:
        assert_check(rate_journal(1.05), "honours_retry_after")
        assert_survives(rate_journal(1.05))
    assert {w.filename for w in seen} == {__file__}
    assert len(seen) >= 2


def test_strict_makes_a_warn_fail_with_its_evidence(warns) -> None:
    with pytest.raises(AssertionError) as error:
        assert_honours_retry_after(rate_journal(1.05), strict=True)
    assert str(error.value).startswith(f"honours_retry_after: {WARN_DETAIL}")
    assert "timeline of alana.RATE_001 on alana:" in str(error.value)
    with pytest.raises(AssertionError, match="assumed 1 s"):
        assert_survives(rate_journal(1.05), strict=True)
