"""The checks on hand-built journals: each passes the behaviour it names and fails its opposite."""

from __future__ import annotations

import pytest

from faultproof.contracts import default_catalogue
from faultproof.contracts.checks import CHECK_IDS, REGISTRY, CheckContext, check, run_check
from faultproof.contracts.policy import Backoff, ClientPolicy
from faultproof.contracts.schemas import load_schema
from faultproof.contracts.timing import CLOCK_TOLERANCE_S, UPPER_MARGIN_S, expected_wait
from faultproof.contracts.verdict import Outcome


def journal(*answers, start: float = 1000.0, gaps=None):
    """Entries for answers [(status, scenario, retry_after_s, headers?)], spaced by ``gaps``."""
    entries, t = [], start
    for index, answer in enumerate(answers):
        status, scenario, retry_after = answer[:3]
        headers = answer[3] if len(answer) > 3 else {"X-Api-Key": "[redacted:aaaa]"}
        entries.append(
            {
                "seq": index + 1,
                "received_at": t,
                "responded_at": t + 0.01,
                "method": "GET",
                "path": "/api/v1/products/42",
                "status": status,
                "scenario": scenario,
                "retry_after_s": retry_after,
                "headers": headers,
            }
        )
        t += 0.01 + (gaps[index] if gaps and index < len(gaps) else 0.0)
    return entries


def ctx(scenario_id, entries, outcome=None, **kwargs):
    c = default_catalogue()
    scenario = c.scenario(scenario_id)
    provider = c.provider(kwargs.pop("provider", scenario.provider or "alana"))
    operation = kwargs.pop("operation", provider.operation_for(scenario))
    return CheckContext(scenario, provider, operation, entries, outcome, **kwargs)


RATE = Outcome(
    ok=False, status=429, code="RATE_001", message="Rate limit exceeded", request_id="req_abc123"
)
OK = Outcome(ok=True, status=200, data={"id": "42"})


def verdict(check_id, context):
    return run_check(check_id, context).verdict


def test_registry_is_exactly_design_and_the_catalogue_schema():
    schema_ids = set(
        load_schema("_catalogue")["$defs"]["scenario"]["properties"]["checks"]["items"]["enum"]
    )
    assert set(REGISTRY) == set(CHECK_IDS) == schema_ids


def test_registration_refuses_unknown_duplicate_and_bad_shape():
    with pytest.raises(TypeError, match=r"not a DESIGN\.md check id"):
        check("honors_retry_after", "recovery")(lambda ctx: ("pass", ""))
    with pytest.raises(TypeError, match="twice"):
        check("recovers", "recovery")(lambda ctx: ("pass", ""))
    with pytest.raises(TypeError, match="named ctx"):
        check("recovers", "recovery")(lambda context, extra: ("pass", ""))


def test_a_check_that_raises_is_a_loud_failure():
    broken = CheckContext(None, None, None, [None], Outcome(ok=True))  # type: ignore[arg-type, list-item]
    result = run_check("recovers", broken)
    assert result.verdict == "fail"
    assert result.detail.startswith("the check itself failed: AttributeError")


def test_parses_envelope():
    served = journal((429, "alana.RATE_001", 1.0))
    assert verdict("parses_envelope", ctx("alana.RATE_001", served, RATE)) == "pass"
    wrong = Outcome(ok=False, status=429, code=None, message="HTTP 429")
    detail = run_check("parses_envelope", ctx("alana.RATE_001", served, wrong)).detail
    assert "reported code None" in detail and "'RATE_001'" in detail
    lost_id = Outcome(ok=False, status=429, code="RATE_001", message="Rate limit exceeded")
    assert (
        "request id" in run_check("parses_envelope", ctx("alana.RATE_001", served, lost_id)).detail
    )
    assert verdict("parses_envelope", ctx("alana.RATE_001", served, OK)) == "fail"
    assert (
        verdict("parses_envelope", ctx("ainative.internal_server_error_plain", served, OK))
        == "skip"
    )


def test_parses_ainative_list_detail_and_alloy_string_code():
    c = default_catalogue()
    v = c.scenario("ainative.validation_error_email")
    outcome = Outcome(ok=False, status=422, message="value is not a valid email address")
    assert verdict("parses_envelope", ctx(v.id, journal((422, v.id, None)), outcome)) == "pass"
    misread = Outcome(ok=False, status=422, message="[{'loc': ['body', 'email'], ...}]")
    assert verdict("parses_envelope", ctx(v.id, journal((422, v.id, None)), misread)) == "fail"
    a = c.scenario("alloy.CREDENTIAL_NOT_FOUND")
    good = Outcome(ok=False, status=404, code="CREDENTIAL_NOT_FOUND", message=a.message)
    assert verdict("parses_envelope", ctx(a.id, journal((404, a.id, None)), good)) == "pass"


def test_stops_on_non_retryable():
    once = journal((404, "alana.DATA_001", None))
    thrice = journal(*[(404, "alana.DATA_001", None)] * 3)
    assert verdict("stops_on_non_retryable", ctx("alana.DATA_001", once)) == "pass"
    result = run_check("stops_on_non_retryable", ctx("alana.DATA_001", thrice))
    assert result.verdict == "fail" and "sent 3 requests" in result.detail


def test_retries_retryable():
    assert (
        verdict(
            "retries_retryable",
            ctx("alana.SERVER_002", journal((503, "alana.SERVER_002", None), (200, None, None))),
        )
        == "pass"
    )
    assert (
        verdict(
            "retries_retryable", ctx("alana.SERVER_002", journal((503, "alana.SERVER_002", None)))
        )
        == "fail"
    )


@pytest.mark.parametrize(
    ("gap", "expected"),
    [(1.0, "pass"), (1.0 - CLOCK_TOLERANCE_S / 2, "pass"), (0.12, "fail"), (5.0, "pass")],
)
def test_honours_retry_after(gap, expected):
    entries = journal((429, "alana.RATE_001", 1.0), (200, None, None), gaps=[gap])
    result = run_check("honours_retry_after", ctx("alana.RATE_001", entries, OK))
    assert result.verdict == expected
    if expected == "fail":
        assert result.detail == "retried 0.12 s after a 429 that asked for 1 s"


def test_honours_retry_after_skips_without_header_and_fails_without_retry():
    assert (
        verdict(
            "honours_retry_after",
            ctx("alana.SERVER_002", journal((503, None, None), (200, None, None))),
        )
        == "skip"
    )
    assert (
        verdict(
            "honours_retry_after",
            ctx("alana.RATE_001", journal((429, "alana.RATE_001", 1.0)), RATE),
        )
        == "fail"
    )


def test_caps_retry_after():
    huge = journal((429, "airbyte.rate_limited_long_wait", 120.0))
    # Surfacing the error at once is one of the two ways to cap.
    assert verdict("caps_retry_after", ctx("airbyte.rate_limited_long_wait", huge, RATE)) == "pass"
    capped = journal((429, "x", 120.0), (429, "x", 120.0), gaps=[60.0])
    assert (
        verdict("caps_retry_after", ctx("airbyte.rate_limited_long_wait", capped, RATE)) == "pass"
    )
    slept = journal((429, "x", 120.0), (429, "x", 120.0), gaps=[119.0])
    result = run_check("caps_retry_after", ctx("airbyte.rate_limited_long_wait", slept, RATE))
    # Airbyte documents a 60 s backoff ceiling, but not that it caps a server-named wait.
    assert result.verdict == "warn"
    assert "caps waits at 60 s" in result.detail
    assert "not a server-named wait" in result.detail
    stopped = ctx("airbyte.rate_limited_long_wait", huge, None, killed=True, elapsed_s=70.0)
    assert verdict("caps_retry_after", stopped) == "warn"


def test_bounded_attempts():
    policy_max = default_catalogue().provider("alana").policy.max_attempts
    within = journal(*[(503, "alana.SERVER_002", None)] * policy_max)
    beyond = journal(*[(503, "alana.SERVER_002", None)] * (policy_max + 3))
    assert verdict("bounded_attempts", ctx("alana.SERVER_002", within)) == "pass"
    result = run_check("bounded_attempts", ctx("alana.SERVER_002", beyond))
    # Alana's seed never bounds the attempts: the bound is assumed, so crossing it warns.
    assert result.verdict == "warn"
    assert f"at most {policy_max}" in result.detail
    assert "max_attempts 5 is assumed" in result.detail
    stopped = ctx("alana.SERVER_002", within[:2], killed=True)
    assert verdict("bounded_attempts", stopped) == "warn"
    documented = journal(*[(503, "airbyte.service_unavailable", None)] * 6)
    assert verdict("bounded_attempts", ctx("airbyte.service_unavailable", documented)) == "fail"


def test_backs_off():
    good = journal(*[(503, "alana.SERVER_002", None)] * 4, gaps=[1.0, 2.0, 4.0])
    assert verdict("backs_off", ctx("alana.SERVER_002", good)) == "pass"
    storm = journal(*[(503, "alana.SERVER_002", None)] * 4, gaps=[0.01, 0.01, 0.01])
    result = run_check("backs_off", ctx("alana.SERVER_002", storm))
    assert result.verdict == "warn"  # every wait of Alana's policy is assumed
    assert "the policy asks at least" in result.detail
    assert "backoff.initial_s 1 s is assumed" in result.detail
    shrinking = journal(*[(503, "airbyte.service_unavailable", None)] * 3, gaps=[4.0, 1.0])
    result = run_check("backs_off", ctx("airbyte.service_unavailable", shrinking))
    assert result.verdict == "fail"  # Airbyte documents its backoff: 1 s doubling, 10 % jitter
    assert "asks at least 1.8 s" in result.detail
    assert verdict("backs_off", ctx("alana.SERVER_002", journal((503, None, None)))) == "skip"


def test_times_out():
    hung = journal((None, "fault.hang", None))
    timed_out = Outcome(ok=False, status=None, transport="timeout")
    assert (
        verdict(
            "times_out",
            ctx("fault.hang", hung, timed_out, provider="alana", elapsed_s=3.0, time_limit_s=5),
        )
        == "pass"
    )
    # AIronClaw documents giving up on a hang ("hangs > 5s"); Alana's timeout is assumed.
    never = ctx("fault.hang", hung, None, provider="aironclaw", killed=True, time_limit_s=4)
    assert (
        run_check("times_out", never).detail == "never gave up: still waiting when stopped at 4 s"
    )
    assert verdict("times_out", never) == "fail"
    assert verdict("times_out", ctx("fault.hang", hung, None, provider="alana", killed=True)) == (
        "warn"
    )
    late = ctx("fault.hang", hung, timed_out, provider="aironclaw", elapsed_s=9.0, time_limit_s=5)
    assert verdict("times_out", late) == "fail"


def test_detects_stream_error():
    stream = journal((200, "alana.STREAM_ERROR", None))
    good = Outcome(
        ok=False, status=200, code="STREAM_ERROR", message="Upstream catalog service unavailable"
    )
    assert verdict("detects_stream_error", ctx("alana.STREAM_ERROR", stream, good)) == "pass"
    assert (
        "partial stream"
        in run_check("detects_stream_error", ctx("alana.STREAM_ERROR", stream, OK)).detail
    )


def test_refreshes_token():
    old = {"Authorization": "Bearer [redacted:0000aaaa]"}
    new = {"Authorization": "Bearer [redacted:1111bbbb]"}
    refreshed = journal(
        (401, "ainative.token_expired", None, old), (200, None, None, old), (200, None, None, new)
    )
    assert verdict("refreshes_token", ctx("ainative.token_expired", refreshed, OK)) == "pass"
    same = journal((401, "ainative.token_expired", None, old), (401, None, None, old))
    assert (
        "same credential"
        in run_check("refreshes_token", ctx("ainative.token_expired", same, OK)).detail
    )
    gave_up = journal((401, "ainative.token_expired", None, old))
    assert verdict("refreshes_token", ctx("ainative.token_expired", gave_up, None)) == "fail"


def test_handles_non_json():
    bad = journal((502, "fault.html_502", None))
    assert (
        verdict(
            "handles_non_json",
            ctx("fault.html_502", bad, Outcome(ok=False, status=502), provider="alana"),
        )
        == "pass"
    )
    assert verdict("handles_non_json", ctx("fault.html_502", bad, None, provider="alana")) == "fail"
    assert (
        verdict("handles_non_json", ctx("fault.malformed_json", bad, OK, provider="alana"))
        == "fail"
    )


def test_recovers():
    fine = journal((503, "alana.SERVER_002", None), (200, None, None))
    assert verdict("recovers", ctx("alana.SERVER_002", fine, OK)) == "pass"
    assert verdict("recovers", ctx("alana.SERVER_002", fine[:1], RATE)) == "fail"


def test_safe_retries():
    c = default_catalogue()
    create = c.provider("alana").operations["create_product"]
    repeated = journal((500, "alana.SERVER_001_on_create", None), (201, None, None))
    for entry in repeated:
        entry["method"], entry["path"] = "POST", "/api/v1/products"
    assert (
        "may have been processed"
        in run_check(
            "safe_retries", ctx("alana.SERVER_001_on_create", repeated, operation=create)
        ).detail
    )
    assert (
        verdict("safe_retries", ctx("alana.SERVER_001_on_create", repeated[:1], operation=create))
        == "pass"
    )
    after_429 = journal((429, "alana.RATE_001", 1.0), (201, None, None), gaps=[1.0])
    for entry in after_429:
        entry["method"], entry["path"] = "POST", "/api/v1/products"
    assert verdict("safe_retries", ctx("alana.RATE_001", after_429, operation=create)) == "pass"
    assert verdict("safe_retries", ctx("alana.SERVER_002", repeated)) == "skip"


def test_expected_wait_is_pure_and_bounded():
    policy = ClientPolicy(
        frozenset({503}), 5, 0.5, 60.0, Backoff(1.0, 2.0, 30.0, 0.1), (), 30.0, {}
    )
    high = 60.0 + UPPER_MARGIN_S
    assert expected_wait(1, policy) == pytest.approx((0.9 - CLOCK_TOLERANCE_S, high))
    assert expected_wait(3, policy) == pytest.approx((3.6 - CLOCK_TOLERANCE_S, high))
    assert expected_wait(3, policy, retry_after_s=2.0) == pytest.approx((1.95, high))
    assert expected_wait(1, policy, retry_after_s=120.0)[1] == pytest.approx(120 + UPPER_MARGIN_S)


def test_caps_retry_after_does_not_mean_ignoring_the_wait():
    rushed = journal((429, "x", 120.0), (429, "x", 120.0), gaps=[0.01])
    detail = run_check(
        "caps_retry_after", ctx("airbyte.rate_limited_long_wait", rushed, RATE)
    ).detail
    assert "not ignoring the wait" in detail


def test_refresh_that_returns_the_same_credential_still_counts():
    auth = {"Authorization": "Bearer [redacted:0000aaaa]"}
    entries = journal(
        (401, "alloy.token_expired", None, auth), (200, None, None, auth), (200, None, None, auth)
    )
    entries[1]["path"] = "/api/servers/srv_demo"
    assert verdict("refreshes_token", ctx("alloy.token_expired", entries, OK)) == "pass"


def test_constant_quick_retries_do_not_count_as_backing_off():
    constant = journal(*[(503, "airbyte.service_unavailable", None)] * 4, gaps=[1.0, 1.0, 1.0])
    assert verdict("backs_off", ctx("airbyte.service_unavailable", constant)) == "fail"


def test_a_late_retry_does_not_make_the_next_one_look_shrinking():
    late = journal(*[(503, "alana.SERVER_002", None)] * 4, gaps=[1.6, 1.9, 3.7])
    assert verdict("backs_off", ctx("alana.SERVER_002", late)) == "pass"


def test_sleeping_past_the_cap_without_retrying_fails_caps():
    once = journal((429, "airbyte.rate_limited_long_wait", 120.0))
    slept = ctx("airbyte.rate_limited_long_wait", once, RATE, elapsed_s=64.0)
    assert "slept about 63.99 s" in run_check("caps_retry_after", slept).detail
    quick = ctx("airbyte.rate_limited_long_wait", once, RATE, elapsed_s=60.0 + UPPER_MARGIN_S)
    assert verdict("caps_retry_after", quick) == "pass"  # within the load margin of the cap


def test_a_hang_stopped_before_any_answer_is_not_a_retry_loop():
    assert (
        verdict("bounded_attempts", ctx("fault.hang", [], None, provider="alana", killed=True))
        == "skip"
    )


def _post(*answers, keys=(), bodies=()):
    """A POST journal; ``keys``/``bodies`` give each request's Idempotency-Key and body."""
    entries = journal(*answers, gaps=[1.0] * len(answers))
    for i, entry in enumerate(entries):
        entry["method"], entry["path"] = "POST", "/api/v1/products"
        if i < len(keys) and keys[i]:
            entry["headers"] = {**entry["headers"], "Idempotency-Key": keys[i]}
        entry["body"] = bodies[i] if i < len(bodies) else '{"id": "sku-1"}'
    return entries


def test_safe_retries_credits_the_key_the_client_sent_not_the_operation():
    sent = _post((500, "alana.SERVER_001_on_create", None), (201, None, None), keys=("k1", "k1"))
    result = run_check("safe_retries", ctx("alana.SERVER_001_on_create", sent, OK))
    assert (result.verdict, result.detail) == (
        "pass",
        "repeated the POST 1 time(s) under its own Idempotency-Key",
    )
    fresh = _post((500, "alana.SERVER_001_on_create", None), (201, None, None), keys=("k1", "k2"))
    assert (
        "under a new Idempotency-Key"
        in run_check("safe_retries", ctx("alana.SERVER_001_on_create", fresh, OK)).detail
    )


def test_safe_retries_fails_a_key_reused_for_a_different_body():
    reused = _post(
        (500, "alana.SERVER_001_on_create", None),
        (201, None, None),
        keys=("k1", "k1"),
        bodies=('{"id": "sku-1"}', '{"id": "sku-2"}'),
    )
    result = run_check("safe_retries", ctx("alana.SERVER_001_on_create", reused, OK))
    assert result.verdict == "fail"
    assert "reused Idempotency-Key 'k1' for a different body" in result.detail


def test_checks_that_cannot_decide_skip_with_why():
    nothing = []
    for check_id, scenario in [
        ("caps_retry_after", "airbyte.rate_limited_long_wait"),
        ("bounded_attempts", "alana.SERVER_002"),
        ("honours_retry_after", "alana.RATE_001"),
        ("backs_off", "alana.SERVER_002"),
        ("retries_retryable", "alana.SERVER_002"),
        ("stops_on_non_retryable", "alana.AUTH_001"),
        ("safe_retries", "alana.SERVER_001_on_create"),
    ]:
        result = run_check(check_id, ctx(scenario, nothing, RATE))
        assert result.verdict == "skip", check_id
        assert "sent no request" in result.detail, check_id
    # The run ended before the cap could be seen: neither a pass nor a fail.
    early = ctx("airbyte.rate_limited_long_wait", journal((429, "x", 120.0)), None, killed=True)
    result = run_check("caps_retry_after", early)
    assert result.verdict == "skip" and "before the 60 s cap" in result.detail
    small = journal((429, "x", 1.0), (200, None, None), gaps=[1.0])
    assert verdict("caps_retry_after", ctx("airbyte.rate_limited_long_wait", small, OK)) == "skip"


def test_a_wait_violation_warns_only_when_the_wait_source_is_assumed():
    rushed = journal((429, "x", 1.0), (200, None, None), gaps=[0.2])
    airbyte = run_check("honours_retry_after", ctx("airbyte.rate_limited", rushed, OK))
    assert airbyte.verdict == "warn"  # the seed never names Retry-After
    assert "the retry_after_header wait source is assumed" in airbyte.detail
    # Alana's RATE_001 carries X-RateLimit-Reset too, which the seed documents: a fail.
    assert verdict("honours_retry_after", ctx("alana.RATE_001", rushed, OK)) == "fail"
    assert verdict("honours_retry_after", ctx("aironclaw.proxy_rate_limited", rushed, OK)) == "fail"


def test_backoff_fails_below_a_documented_floor_and_warns_between():
    # AIronClaw: the 2 s minimum reads 'a few seconds', the 3 s first backoff is assumed too.
    between = journal((503, None, None), (503, None, None), gaps=[2.2])
    result = run_check("backs_off", ctx("aironclaw.redis_unavailable", between))
    assert result.verdict == "warn" and "backoff.initial_s 3 s is assumed" in result.detail
    # AINative documents urllib3's 0.3 s first wait; its jitter (0) is assumed, its floor is not.
    quick = journal((500, None, None), (500, None, None), gaps=[0.05])
    assert verdict("backs_off", ctx("ainative.internal_server_error", quick)) == "fail"


def test_the_official_sdks_first_wait_on_alana_is_a_warn_not_a_fail():
    sdk = journal(*[(503, "alana.SERVER_002", None)] * 3, gaps=[0.45, 0.9])
    result = run_check("backs_off", ctx("alana.SERVER_002", sdk))
    assert result.verdict == "warn"
    assert result.detail.startswith("retried 0.45 s after a 503; the policy asks at least 0.9 s")


def test_in_flight_requests_are_attempts_and_end_no_gap():
    entries = journal(
        *[(503, "airbyte.service_unavailable", None)] * 6, gaps=[1.0, 2.0, 4.0, 8.0, 16.0]
    )
    entries[-1] |= {"responded_at": None, "status": None, "in_flight": True}
    assert verdict("bounded_attempts", ctx("airbyte.service_unavailable", entries)) == "fail"
    hanging = journal((None, "fault.hang", None))
    hanging[0] |= {"responded_at": None, "in_flight": True}
    for check_id in ("backs_off", "honours_retry_after", "caps_retry_after", "safe_retries"):
        assert run_check(
            check_id, ctx("fault.hang", hanging, None, provider="airbyte")
        ).verdict in (
            "skip",
            "pass",
        ), check_id
    stopped = ctx("fault.hang", hanging, None, provider="airbyte", killed=True)
    assert verdict("bounded_attempts", stopped) == "skip"


def test_evidence_quotes_the_wait_served_with_two_decimals():
    served = journal((429, "ainative.rate_limited", 1.0), (200, None, None), gaps=[0.38979])
    result = run_check("honours_retry_after", ctx("ainative.rate_limited", served, OK))
    assert result.detail == "retried 0.39 s after a 429 that asked for 1 s"
    gave_up = journal((429, "ainative.rate_limited", 1.0))
    detail = run_check("retries_retryable", ctx("ainative.rate_limited", gave_up, RATE)).detail
    assert "Try again in 1 seconds" in detail and "30 seconds" not in detail
