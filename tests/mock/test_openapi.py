"""The OpenAPI documents: valid 3.1, complete, served, and passing schemathesis against the mock."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from openapi_spec_validator import validate

from faultproof.contracts import PROVIDERS, default_catalogue
from faultproof.mocks.app import load_surface
from faultproof.mocks.openapi import build

#: Each provider's credentials for schemathesis, taken from its catalogue's default operation.
AUTH = {
    p: default_catalogue()
    .provider(p)
    .operations[default_catalogue().provider(p).default_operation]
    .headers
    for p in PROVIDERS
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_document_is_valid_openapi_3_1(provider):
    document = build(
        default_catalogue().provider(provider), load_surface(provider), "http://127.0.0.1:8080"
    )
    validate(document)
    assert document["openapi"] == "3.1.0"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_documented_status_is_in_every_operation(provider):
    p = default_catalogue().provider(provider)
    document = build(p, load_surface(provider))
    statuses = {str(s.status) for s in p.scenarios.values() if s.kind == "error"}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert statuses <= set(operation["responses"]), f"{method} {path}"
    examples = {
        name
        for methods in document["paths"].values()
        for op in methods.values()
        for r in op["responses"].values()
        for c in r.get("content", {}).values()
        for name in c.get("examples", {})
    }
    assert {
        s.name for s in p.scenarios.values() if s.kind == "error" and not isinstance(s.body, str)
    } <= examples


@pytest.mark.parametrize("provider", PROVIDERS)
def test_served_at_provider_path_and_cli(make_app, provider):
    client = make_app(provider).test_client()
    served = client.get(f"/{provider}/openapi.json").get_json()
    assert served["servers"][0]["url"].endswith(f"/{provider}")
    cli = subprocess.run(
        [sys.executable, "-m", "faultproof.mocks.cli", "openapi", provider],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(cli.stdout)["paths"] == served["paths"]


#: Operations whose documented answer to a state conflict is a 400, not the 409 schemathesis
#: expects: AIronClaw's seed says "`URI already in use on this MCP server` | Resource URI
#: collision" under 400 Bad Request. Only these operations accept a 400 for valid data.
STATE_CONFLICT_400 = {
    "aironclaw": [
        "POST /api/mcp/{mcp_id}/resources",
        "PATCH /api/mcp/{mcp_id}/resources/{resource_id}",
    ]
}


def _config(provider: str) -> str:
    lines = []
    for name in STATE_CONFLICT_400.get(provider, []):
        lines += [
            "[[operations]]",
            f'include-name = "{name}"',
            'checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]',
            "",
        ]
    return "\n".join(lines)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_schemathesis_default_checks_pass_against_the_live_mock(provider, tmp_path, start):
    """schemathesis (coverage, fuzzing, stateful phases, every default check) on a real server."""
    # Fuzzing wants to reach the logic behind the limits: every counted limit is raised.
    limits = [
        arg
        for name, rule in default_catalogue().provider(provider).rules.items()
        if isinstance(rule.value, dict) and "limit" in rule.value
        for arg in ("--set", f"{provider}.{name}.limit=1000000")
    ]
    (tmp_path / "schemathesis.toml").write_text(_config(provider))
    proc, url = start("--providers", provider, *limits)
    try:
        headers = [
            arg for name, value in AUTH[provider].items() for arg in ("-H", f"{name}: {value}")
        ]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{url}/{provider}/openapi.json",
                *headers,
                "--max-examples",
                "40",
                "--seed",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
            timeout=600,
        )
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert result.returncode == 0, result.stdout[-6000:]
    assert " passed" in result.stdout
