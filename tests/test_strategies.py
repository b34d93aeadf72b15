"""The hypothesis strategies: bodies valid against the schemas, Retry-After over every table row."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, find, given, settings

from faultproof.contracts import PROVIDERS, default_catalogue, parse_retry_after
from faultproof.contracts.literal import header_safe
from faultproof.contracts.schemas import first_error
from faultproof.contracts.strategies import (
    CATEGORIES,
    error_responses,
    retry_after_category,
    retry_after_values,
)

SLOW_STRATEGY = settings(
    max_examples=25, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize("provider_id", PROVIDERS)
def test_error_responses_are_what_the_provider_could_send(provider_id):
    provider = default_catalogue().provider(provider_id)

    @SLOW_STRATEGY
    @given(error_responses(provider_id))
    def check(response):
        template = provider.scenarios[response.template]
        assert first_error(provider.schema, response.body) is None
        assert response.status == template.status
        assert response.retryable == template.retryable
        assert response.operation in provider.operations
        normal = provider.normal_form.apply(response.body)
        assert normal == response.normal
        assert normal.code or normal.message
        assert normal.code == template.code  # the provider's own code for that answer
        assert response.headers["Content-Type"] == (template.content_type or provider.content_type)
        if "Retry-After" in response.headers:
            assert response.retryable
            assert header_safe(response.headers["Retry-After"])

    check()


@pytest.mark.parametrize("category", CATEGORIES)
def test_retry_after_values_reach_every_row_of_the_parser_table(category):
    found = find(
        retry_after_values(max_seconds=3),
        lambda value: retry_after_category(value) == category,
        settings=settings(database=None, max_examples=2000),
    )
    assert retry_after_category(found) == category


@settings(max_examples=200, database=None)
@given(retry_after_values(max_seconds=3))
def test_honoured_retry_after_values_stay_within_max_seconds(value):
    parsed = parse_retry_after(value)
    assert header_safe(value)
    if parsed.valid and not parsed.huge:
        assert parsed.seconds <= 3
    if retry_after_category(value) == "huge":
        assert parsed.seconds > 60  # beyond every provider policy's cap


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("120", "seconds"),
        (" 7 ", "seconds"),
        ("1.5", "fraction"),
        ("-3", "negative"),
        ("-0.5", "negative"),
        ("Sun, 06 Nov 1994 08:49:37 GMT", "date_past"),
        ("Sun Nov  4 08:49:37 2040", "date_future"),
        ("Sun, 06 Nov 2094 08:49:37", "garbage"),
        ("soon", "garbage"),
        ("", "garbage"),
        ("9" * 400, "huge"),
    ],
)
def test_categories_are_the_parser_table_rows(value, category):
    assert retry_after_category(value) == category
