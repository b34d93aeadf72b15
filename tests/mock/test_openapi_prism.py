"""The OpenAPI documents say enough for a mock serving them: headers of documented errors,
success examples answered by the mock itself, and a real Prism reproducing our errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import jsonschema
import pytest

from faultproof.contracts import PROVIDERS, default_catalogue
from tests.mock.conftest import free_port
from tests.needs import missing

ROOT = Path(__file__).resolve().parents[2]


def _document(make_app, provider):
    return make_app(provider).test_client().get(f"/{provider}/openapi.json").get_json()


def test_a_rate_limit_answer_describes_its_headers_with_the_canonical_values(make_app):
    responses = _document(make_app, "alana")["paths"]["/api/v1/products/{product_id}"]["get"]
    headers = responses["responses"]["429"]["headers"]
    assert headers["Retry-After"]["required"] is True
    assert headers["Retry-After"]["example"] == "2"  # RATE_001, the canonical 429
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(headers)
    assert "Content-Type" not in headers
    assert "headers" not in responses["responses"]["404"]  # none of alana's 404s sends one


@pytest.mark.parametrize("provider", PROVIDERS)
def test_success_examples_are_the_mocks_own_valid_answers(make_app, provider):
    document = _document(make_app, provider)
    examples = {
        (method, path): content["example"]
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for content in response.get("content", {}).values()
        if "example" in content
    }
    operations = default_catalogue().provider(provider).operations
    assert len(examples) >= min(2, len(operations)), sorted(examples)
    for (method, path), example in examples.items():
        response = document["paths"][path][method]["responses"]
        ok = next(r for s, r in response.items() if s.startswith("2"))
        schema = next(iter(ok["content"].values()))["schema"]
        jsonschema.validate(example, schema)
        assert example not in ({}, [])


def _prism() -> str:
    found = os.environ.get("FAULTPROOF_PRISM") or shutil.which("prism")
    bench = ROOT / "bench" / ".peers" / "node_modules" / ".bin" / "prism"
    if not found and bench.exists():
        found = str(bench)
    if not found:
        missing(
            "Prism is not installed (npm install @stoplight/prism-cli, then FAULTPROOF_PRISM="
            "<its bin/prism>; tox installs it)"
        )
    return found


@pytest.fixture(scope="module")
def prism_alana(tmp_path_factory):
    """A real Prism serving the document the mock serves for alana."""
    from faultproof.mocks.app import create_app

    prism = _prism()
    document = create_app().test_client().get("/alana/openapi.json").get_json()
    path = tmp_path_factory.mktemp("prism") / "alana.json"
    path.write_text(json.dumps(document))
    port = free_port()
    proc = subprocess.Popen(
        [prism, "mock", str(path), "-h", "127.0.0.1", "-p", str(port), "-v", "silent"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # a start-up allowance, not a measurement
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(url + "/api/v1/products/42", headers={"X-API-Key": "k"}, timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"Prism did not start: {proc.communicate()[0][-2000:]!r}")
    yield url
    proc.terminate()
    proc.communicate(timeout=15)


@pytest.mark.parametrize(
    "scenario",
    [s for s in default_catalogue().provider("alana").scenarios.values() if s.kind == "error"],
    ids=lambda s: s.name,
)
def test_prism_on_our_document_answers_each_documented_error(prism_alana, scenario):
    """``Prefer: code=N, example=NAME`` (Prism's convention, which the document names its
    examples for) gives the scenario's status and body, with the status's documented headers."""
    answer = httpx.get(
        prism_alana + "/api/v1/products/42",
        headers={"X-API-Key": "k", "Prefer": f"code={scenario.status}, example={scenario.name}"},
    )
    assert answer.status_code == scenario.status
    rendered = scenario.render(now=0)
    assert answer.json() == rendered.body
    provider = default_catalogue().provider("alana")
    if scenario.status == 429:
        canonical = provider.canonical(429).render(now=0).headers
        assert answer.headers["Retry-After"] == canonical["Retry-After"]
        assert answer.headers["X-RateLimit-Reset"] == canonical["X-RateLimit-Reset"]


def test_prism_on_our_document_answers_success_with_the_mocks_example(prism_alana):
    answer = httpx.get(prism_alana + "/api/v1/products/42", headers={"X-API-Key": "k"})
    assert answer.status_code == 200
    assert answer.json()["id"] == "42"
    assert answer.json()["name"] != "string"


def test_security_follows_the_credentials_each_operation_sends(make_app):
    alana = _document(make_app, "alana")
    assert alana["components"]["securitySchemes"] == {
        "header_X-API-Key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    }
    get = alana["paths"]["/api/v1/products/{product_id}"]["get"]
    assert get["security"] == [{"header_X-API-Key": []}]
    ainative = _document(make_app, "ainative")
    assert ainative["paths"]["/v1/auth/register"]["post"]["security"] == []  # anonymous
    assert ainative["paths"]["/v1/auth/me"]["get"]["security"] == [{"bearerAuth": []}]
    aironclaw = _document(make_app, "aironclaw")
    schemes = aironclaw["components"]["securitySchemes"]
    assert schemes["cookie_aironclaw_session"]["in"] == "cookie"
    health = aironclaw["paths"]["/api/health"]["get"]["security"]
    assert health == [{"bearerAuth": []}, {}]  # rules.health_endpoint: auth optional


def test_prism_on_our_document_refuses_a_call_without_the_key_as_the_mock_does(
    prism_alana, make_app
):
    from_prism = httpx.get(prism_alana + "/api/v1/products/42")
    from_mock = make_app("alana").test_client().get("/alana/api/v1/products/42")
    assert from_prism.status_code == from_mock.status_code == 401


#: The one media type without an example: Alana's NDJSON stream (its lines are not one JSON
#: body the capture could keep).
NO_EXAMPLE = {("alana", "get", "/api/v1/products", "application/x-ndjson")}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_response_has_an_example(make_app, provider):
    document = _document(make_app, provider)
    without = {
        (provider, method, path, media)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        for response in operation["responses"].values()
        for media, content in response.get("content", {}).items()
        if "example" not in content and "examples" not in content
    }
    assert without <= NO_EXAMPLE, sorted(without)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_openapi_examples_only_name_requests_that_exist(provider):
    catalogue = default_catalogue().provider(provider)
    requests = {**catalogue.operations, **catalogue.openapi_examples}
    assert not set(catalogue.operations) & set(catalogue.openapi_examples)
    for request in requests.values():
        assert set(request.before) <= set(requests), (request.name, request.before)
