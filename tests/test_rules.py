"""`--set` is checked against each rule's schema at start, and `faultproof rules` lists them."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest
from click.testing import CliRunner

from faultproof.contracts import FaultproofError, default_catalogue
from faultproof.contracts.rule_schema import check_override
from faultproof.mocks.cli import cli
from faultproof.mocks.config import MockConfig

RULES = [(p.id, rule) for p in default_catalogue().providers.values() for rule in p.rules.values()]


@pytest.mark.parametrize(("provider", "rule"), RULES, ids=[f"{p}.{r.name}" for p, r in RULES])
def test_every_rule_admits_its_own_default(provider, rule):
    check_override(f"{provider}.{rule.name}", rule.schema(), rule.value)
    for field in rule.types:  # a declared type names a real field
        assert field in rule.value, (provider, rule.name, field)


@pytest.mark.parametrize(
    ("rules", "needle"),
    [
        ({"ainative.rate_limit": {"limt": 5}}, "has no field 'limt'; its fields: window_s ("),
        ({"ainative.rate_limit": {"limit": "five"}}, "limit takes integer from 0"),
        ({"ainative.rate_limit": {"limit": -1}}, "or null, got -1"),
        ({"alana.rate_limit": {"limit": 1.5}}, "alana.rate_limit.limit takes integer"),
        ({"alana.query_max_chars": [1]}, "alana.query_max_chars takes integer"),
        ({"alana.rate_limit": 5}, "takes fields limit (integer"),
        ({"alana.api_key_headers": [1]}, "takes list of string"),
        ({"airbyte.refresh_token_required": "yes"}, "takes boolean"),
        ({"ainative.rate_limit": {"per_tier": {"gold": 5}}}, "per_tier has no field 'gold'"),
        ({"alana.nope": 1}, "unknown rule 'alana.nope'; alana rules: rate_limit"),
    ],
)
def test_overrides_the_schema_does_not_admit_are_refused(rules, needle):
    with pytest.raises(FaultproofError) as raised:
        MockConfig(providers=("alana", "ainative", "airbyte"), rules=rules)
    assert needle in str(raised.value)


@pytest.mark.parametrize(
    "rules",
    [
        {"ainative.rate_limit": {"limit": 5}},
        {"ainative.rate_limit": {"limit": None}},
        {"alana.rate_limit": {"window_s": 0.5}},
        {"airbyte.request_spacing_s": 1},
        {"ainative.rate_limit": {"per_tier": {"free": 5, "pro": 6, "enterprise": 7}}},
        {"ainative.rate_limit": {"per_tier": {"free": 5}}},
        {"alana.api_key_headers": ["X-Key"]},
    ],
)
def test_overrides_the_schema_admits_are_applied(rules):
    config = MockConfig(providers=("alana", "ainative", "airbyte"), rules=rules)
    ((key, override),) = rules.items()
    provider, _, name = key.partition(".")
    value = config.rule(provider, name)
    default = default_catalogue().provider(provider).rules[name].value
    if isinstance(override, dict):
        for field, given in override.items():
            if isinstance(given, dict):  # merged into the default mapping, key by key
                assert value[field] == {**default[field], **given}
            else:
                assert value[field] == given
        assert set(value) == set(default)
    else:
        assert value == override


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("ainative.rate_limit.limt=5", "has no field 'limt'"),
        ("ainative.rate_limit.limit=five", "takes integer from 0 to 1_000_000_000 or null"),
    ],
)
def test_serve_refuses_a_bad_set_with_exit_2_before_binding(setting, needle):
    command = [sys.executable, "-m", "faultproof.mocks.cli", "serve", "--port", "0"]
    done = subprocess.run(
        [*command, "--set", setting], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert needle in done.stderr and "Traceback" not in done.stderr


def test_rules_lists_every_rule_with_fields_and_defaults():
    result = CliRunner().invoke(cli, ["rules", "--json"])
    assert result.exit_code == 0, result.output
    listed = {item["id"]: item for item in orjson.loads(result.output)}
    assert set(listed) == {f"{p}.{rule.name}" for p, rule in RULES}
    limit = listed["ainative.rate_limit"]
    assert limit["default"]["limit"] is None
    assert limit["fields"]["limit"] == "integer from 0 to 1_000_000_000 or null"
    assert listed["alana.query_max_chars"]["fields"] == {}


def test_rules_table_for_one_provider():
    result = CliRunner().invoke(cli, ["rules", "--provider", "alana"])
    assert result.exit_code == 0, result.output
    assert "alana.rate_limit.limit" in result.output and "ainative" not in result.output
    bad = CliRunner().invoke(cli, ["rules", "--provider", "nope"])
    assert bad.exit_code == 2 and "Valid: ainative, airbyte" in bad.output
