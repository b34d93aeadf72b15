"""The OpenAPI documents (five providers, the control plane): valid 3.1, complete, served, and
passing schemathesis against the live mock with at least 1,000 generated cases in all."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest
from openapi_spec_validator import validate
from schemathesis_surfaces import SURFACES, run_surface, serve_args

from faultproof.contracts import PROVIDERS, default_catalogue
from faultproof.mocks import control_openapi
from faultproof.mocks.app import load_surface
from faultproof.mocks.openapi import build


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
    # The same document but for success examples, which are live answers (times, tokens).
    assert _without_success_examples(json.loads(cli.stdout)) == _without_success_examples(served)


def _without_success_examples(document):
    for methods in document["paths"].values():
        for operation in methods.values():
            for status, response in operation["responses"].items():
                for content in response.get("content", {}).values():
                    if status.startswith("2"):
                        content.pop("example", None)
    return document["paths"]


#: Cases each surface must try: six surfaces, so the suite tries at least 1,000 in all.
MIN_CASES = -(-1000 // len(SURFACES))


@pytest.mark.parametrize("surface", SURFACES)
def test_schemathesis_default_checks_pass_against_the_live_mock(surface, tmp_path, start):
    """Every default check on a real server: no 5xx, every answer valid against the document."""
    proc, url = start(*serve_args(surface))
    try:
        run = run_surface(surface, url, tmp_path, max_examples=40)
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert run.returncode == 0, run.output[-6000:]
    assert run.report["test_cases"]["with_failures"] == 0
    assert run.cases >= MIN_CASES, f"{surface}: only {run.cases} cases generated"


def test_control_plane_document_is_valid_openapi_3_1(make_app):
    served = make_app().test_client().get("/__faultproof/openapi.json").get_json()
    validate(served)
    assert served["openapi"] == "3.1.0"
    assert served["servers"][0]["url"].endswith("/__faultproof")
    assert served == control_openapi.build(default_catalogue(), PROVIDERS, "http://localhost")


def test_control_plane_document_lists_every_route(make_app):
    """Each control-plane route and method is in the document, so schemathesis tries them all."""
    app = make_app()
    routes = {
        (rule.rule.removeprefix("/__faultproof").replace("<", "{").replace(">", "}"), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/__faultproof/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    document = control_openapi.build(default_catalogue(), PROVIDERS)
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    } - {(path, "PARAMETERS") for path in document["paths"]}
    assert routes == documented


def test_control_plane_errors_match_their_documented_shape(make_app):
    client = make_app().test_client()
    missing = client.get("/__faultproof/sessions/nope/journal")
    created = client.post("/__faultproof/sessions").get_json()["id"]
    bad_plan = client.put(f"/__faultproof/sessions/{created}/plan", json={"steps": []})
    schema = control_openapi.MOCK_ERROR
    for response, status, kind in ((missing, 404, "unknown-session"), (bad_plan, 400, "bad-plan")):
        assert response.status_code == status
        assert response.headers["X-Faultproof-Error"] == kind
        jsonschema.validate(response.get_json(), schema)


def test_schemathesis_findings_stay_fixed(make_app):
    """What schemathesis found on the control plane: 405 without ``Allow``; falsy non-objects
    (``false``, ``0``, ``""``) taken for an absent ``match`` or ``params``."""
    client = make_app().test_client()
    wrong_method = client.put("/__faultproof/health")
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["Allow"]
    session = client.post("/__faultproof/sessions").get_json()["id"]
    step = {"scenario": "fault.drop"}
    for plan in ({"match": False, "steps": [step]}, {"steps": [{**step, "params": 0}]}):
        answer = client.put(f"/__faultproof/sessions/{session}/plan", json=plan)
        assert answer.status_code == 400, plan
        assert answer.headers["X-Faultproof-Error"] == "bad-plan"
