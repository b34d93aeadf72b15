"""Error-envelope schemas and client policies: valid, consistent, and with provenance."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from faultproof.contracts import PROVIDERS, default_catalogue
from faultproof.contracts.schemas import first_error, load_schema

POLICY_FIELDS = {
    "retryable_statuses",
    "max_attempts",
    "min_wait_s",
    "max_wait_s",
    "backoff",
    "wait_sources",
    "timeout_s",
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_schema_is_draft_2020_12(provider):
    schema = load_schema(provider)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{provider}.json")
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_scenario_body_validates(provider):
    p = default_catalogue().provider(provider)
    for s in p.scenarios.values():
        if s.kind == "fault":
            continue
        body = s.render(now=1_700_000_000).body
        assert first_error(p.schema, body, s.body_schema) is None, s.id


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        ("alana", {"error": {"code": "RATE_001", "message": "Rate limit exceeded"}}),
        ("alana", {"error": "x"}),
        ("aironclaw", {"message": "no error key"}),
        ("aironclaw", {"error": 42}),
        ("ainative", {"detail": [{"msg": "no loc"}]}),
        ("ainative", {"error": "wrong key"}),
        ("alloy", {"jsonrpc": "2.0", "error": {"code": "RATE_LIMITED", "message": "x"}, "id": 1}),
        ("airbyte", {"title": "Unauthorized"}),
    ],
)
def test_schemas_reject_foreign_envelopes(provider, body):
    assert first_error(load_schema(provider), body) is not None


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        (
            "alloy",
            {
                "jsonrpc": "2.0",
                "error": {
                    "code": -32600,
                    "message": "Malformed request",
                    "data": {"code": "INVALID_REQUEST"},
                },
                "id": 1,
            },
        ),
        (
            "ainative",
            {"detail": "Rate limit exceeded. Try again in 30 seconds.", "retry_after": 30},
        ),
        (
            "ainative",
            {
                "detail": [
                    {
                        "loc": ["body", "email"],
                        "msg": "value is not a valid email address",
                        "type": "value_error.email",
                    }
                ]
            },
        ),
        ("alana", {"error": "Upstream catalog service unavailable", "code": "STREAM_ERROR"}),
        ("aironclaw", {"error": "Redis unavailable"}),
    ],
)
def test_schemas_accept_the_documented_envelopes(provider, body):
    assert first_error(load_schema(provider), body) is None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_policy_is_sane_and_sourced(provider):
    policy = default_catalogue().provider(provider).policy
    assert set(policy.sources) == POLICY_FIELDS
    assert 1 <= policy.max_attempts <= 20
    assert 0 <= policy.min_wait_s <= policy.max_wait_s
    assert policy.backoff.initial_s <= policy.backoff.max_s
    assert policy.timeout_s > 0
    assert all(400 <= s <= 599 for s in policy.retryable_statuses)
    assert 429 in policy.retryable_statuses
    for status in (400, 401, 403, 404, 422):
        assert status not in policy.retryable_statuses


def test_airbyte_policy_is_its_documented_retry_configuration():
    policy = default_catalogue().provider("airbyte").policy
    assert policy.max_attempts == 5
    assert policy.retryable_statuses == {408, 429, 500, 502, 503, 504}
    assert (
        policy.backoff.initial_s,
        policy.backoff.max_s,
        policy.backoff.multiplier,
        policy.backoff.jitter_ratio,
    ) == (1.0, 60.0, 2.0, 0.1)
    assert [policy.backoff.nominal(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert policy.sources["max_attempts"].kind == "documented"


def test_ainative_waits_come_from_header_and_body():
    policy = default_catalogue().provider("ainative").policy
    assert {"retry_after_header", "body_retry_after"} <= set(policy.wait_sources)
    assert policy.sources["wait_sources"].kind == "documented"


def test_aironclaw_does_not_retry_rapidly():
    policy = default_catalogue().provider("aironclaw").policy
    assert policy.max_attempts == 2
    assert policy.min_wait_s >= 1
    assert policy.sources["max_attempts"].kind == "documented"


def test_backoff_is_bounded_for_any_retry_number():
    backoff = default_catalogue().provider("airbyte").policy.backoff
    assert backoff.nominal(10_000) == backoff.max_s
    with pytest.raises(ValueError, match="start at 1"):
        backoff.nominal(0)


def test_assumed_params_are_named_from_the_fields_own_parameters():
    """``assumed_params`` is machine-readable: a typo or a misplaced one breaks the catalogue."""
    import copy
    from importlib.resources import files

    import jsonschema
    import yaml

    from faultproof.contracts.schemas import load_schema

    meta = load_schema("_catalogue")
    data = yaml.safe_load((files("faultproof.contracts") / "providers" / "alana.yaml").read_text())
    jsonschema.validate(data, meta)
    typo = copy.deepcopy(data)
    typo["policy"]["sources"]["backoff"]["assumed_params"] = {"initial": "not a parameter name"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, meta)
    whole = copy.deepcopy(data)
    whole["policy"]["sources"]["max_attempts"]["assumed_params"] = {"value": "assumed twice over"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(whole, meta)
