"""Every catalogue scenario on demand, through each trigger spelling, on every provider."""

from __future__ import annotations

import orjson
import pytest

from faultproof.contracts import PROVIDERS, default_catalogue
from faultproof.contracts.schemas import first_error
from faultproof.mocks.app import load_surface

ON_DEMAND = [
    s
    for p in default_catalogue().providers.values()
    for s in p.scenarios.values()
    if s.kind in ("error", "result")
]


def _request(client, scenario, headers=None, query=""):
    provider = default_catalogue().provider(scenario.provider)
    op = provider.operation_for(scenario)
    merged = {**op.headers, **(headers or {})}
    qs = "&".join([f"{k}={v}" for k, v in op.query.items()] + ([query] if query else []))
    path = f"/{scenario.provider}{op.path}" + (f"?{qs}" if qs else "")
    return client.open(path, method=op.method, headers=merged, json=op.json)


def _check(response, scenario, clock):
    assert response.status_code == scenario.status, response.data[:300]
    assert response.headers["X-Faultproof-Scenario"] == scenario.id
    op = default_catalogue().provider(scenario.provider).operation_for(scenario)
    sent = None if op.json is None else orjson.dumps(op.json)
    expected = scenario.render(now=clock(), request_body=sent)  # a JSON-RPC answer echoes the id
    if isinstance(expected.body, str):
        assert response.get_data(as_text=True) == expected.body
    else:
        assert response.get_json() == expected.body
    for name, value in expected.headers.items():
        assert response.headers[name] == value


@pytest.fixture
def client_for(make_app):
    apps = {}

    def get(provider):
        if provider not in apps:
            apps[provider] = make_app(provider).test_client()
        return apps[provider]

    return get


@pytest.mark.parametrize("scenario", ON_DEMAND, ids=[s.id for s in ON_DEMAND])
def test_prefer_scenario(client_for, scenario, clock):
    response = _request(
        client_for(scenario.provider), scenario, {"Prefer": f"scenario={scenario.name}"}
    )
    _check(response, scenario, clock)


@pytest.mark.parametrize("scenario", ON_DEMAND[::3], ids=[s.id for s in ON_DEMAND[::3]])
def test_header_and_query_spellings(client_for, scenario, clock):
    client = client_for(scenario.provider)
    _check(_request(client, scenario, {"X-Faultproof-Scenario": scenario.id}), scenario, clock)
    _check(_request(client, scenario, query=f"__scenario={scenario.name}"), scenario, clock)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_prefer_code_gives_the_canonical_error(client_for, provider, clock):
    p = default_catalogue().provider(provider)
    statuses = sorted({s.status for s in p.scenarios.values() if s.kind == "error"})
    for status in statuses:
        scenario = p.canonical(status)
        _check(
            _request(client_for(provider), scenario, {"Prefer": f"code={status}"}), scenario, clock
        )
        _check(_request(client_for(provider), scenario, query=f"__code={status}"), scenario, clock)


def test_parameters_travel_with_the_trigger(client_for):
    scenario = default_catalogue().scenario("alana.RATE_001")
    response = _request(client_for("alana"), scenario, {"Prefer": "code=429, retry_after=1"})
    assert response.headers["Retry-After"] == "1"
    response = _request(client_for("alana"), scenario, query="__scenario=RATE_001&__retry_after=3")
    assert response.headers["Retry-After"] == "3"


@pytest.mark.parametrize(
    ("prefer", "expected", "retry_after"),
    [
        # RFC 7240: a preference the mock does not know is ignored, a known one still applies
        ("return=minimal, code=404", default_catalogue().provider("alana").canonical(404).id, None),
        ("respond-async, wait=10, code=429; retry_after=4", "alana.RATE_001", "4"),
        ('code=429, retry_aftr=1, handling="lenient"', "alana.RATE_001", None),
        # the first instance of a preference wins
        ("code=429, code=503", "alana.RATE_001", None),
        ('scenario="RATE_001", retry_after=2, retry_after=9', "alana.RATE_001", "2"),
        # Prism's example=, named as our OpenAPI documents name their examples
        ("code=429, example=RATE_002", "alana.RATE_002", None),
        ("example=RATE_002", "alana.RATE_002", None),
        ("CODE=429, Example=RATE_002", "alana.RATE_002", None),
    ],
)
def test_prefer_is_read_as_rfc_7240_says(client_for, prefer, expected, retry_after, clock):
    scenario = default_catalogue().scenario(expected)
    response = _request(client_for("alana"), scenario, {"Prefer": prefer})
    assert response.headers["X-Faultproof-Scenario"] == expected
    assert response.status_code == scenario.status
    if retry_after is not None:
        assert response.headers["Retry-After"] == retry_after


@pytest.mark.parametrize(
    ("headers", "query", "needle"),
    [
        ({"Prefer": "scenario=RATE_01"}, "", "Did you mean 'alana.RATE_001'"),
        ({"Prefer": "code=418"}, "", "Valid codes"),
        ({"Prefer": "code=abc"}, "", "Valid codes"),
        ({"X-Faultproof-Scenario": "ainative.rate_limited"}, "", "another provider"),
        ({"Prefer": "code=429, retry_aftr=1, handling=strict"}, "", "retry_after"),
        ({"X-Faultproof-Scenario": "alana.RATE_001; retry_aftr=1"}, "", "retry_after"),
        ({}, "__code=429&__retry_aftr=1", "retry_after"),
        ({"Prefer": "code=500, example=RATE_002"}, "", "the 500 examples: SERVER_001"),
        ({"Prefer": "code=429, example=RATE_02"}, "", "Did you mean 'alana.RATE_002'"),
        ({"Prefer": "scenario=RATE_001, example=RATE_002"}, "", "is not alana.RATE_001"),
        ({"Prefer": "code=429, retry_after=soon"}, "", "takes a finite number from"),
        ({}, "__scenario=nope", "Valid:"),
    ],
)
def test_bad_triggers_get_400_listing_valid_values(client_for, headers, query, needle):
    scenario = default_catalogue().scenario("alana.RATE_001")
    response = _request(client_for("alana"), scenario, headers, query)
    assert response.status_code == 400
    assert response.headers["X-Faultproof-Error"] == "bad-trigger"
    body = response.get_json()
    assert needle in body["faultproof_error"]
    assert body["valid"]


def test_stream_error_arrives_mid_stream(client_for):
    scenario = default_catalogue().scenario("alana.STREAM_ERROR")
    response = _request(client_for("alana"), scenario, {"Prefer": "scenario=STREAM_ERROR"})
    assert response.status_code == 200
    lines = response.get_data(as_text=True).strip().splitlines()
    assert len(lines) > 1
    assert lines[-1] == '{"error":"Upstream catalog service unavailable","code":"STREAM_ERROR"}'


@pytest.mark.parametrize("provider", PROVIDERS)
def test_http_errors_use_the_provider_envelope(client_for, provider):
    client = client_for(provider)
    schema = default_catalogue().provider(provider).schema
    for response in (
        client.get(f"/{provider}/no/such/path/here"),
        client.open(f"/{provider}{_first_get(provider)}", method="TRACE"),
    ):
        assert 400 <= response.status_code < 500
        assert first_error(schema, response.get_json()) is None, response.data
    assert client.open(f"/{provider}{_first_get(provider)}", method="TRACE").headers.get("Allow")


def _first_get(provider: str) -> str:
    surface = load_surface(provider)
    route = next(r for r in surface.routes if r.method == "GET" and "<" not in r.rule)
    return route.rule


def test_unknown_top_level_path_is_the_mocks_own_404(client_for):
    response = client_for("alana").get("/nowhere")
    assert response.status_code == 404
    assert response.headers["X-Faultproof-Error"] == "http"


def test_get_root_lists_the_providers_served_with_base_urls(make_app):
    client = make_app("alana", "ainative").test_client()
    index = client.get("/", base_url="http://127.0.0.1:9999").get_json()
    assert [p["id"] for p in index["providers"]] == ["alana", "ainative"]
    alana = index["providers"][0]
    assert alana["base_url"] == "http://127.0.0.1:9999/alana"
    assert client.get(alana["openapi"]).get_json()["openapi"].startswith("3.1")
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    inside = client.get(f"/s/{sid}/", base_url="http://127.0.0.1:9999").get_json()
    assert inside["providers"][0]["base_url"] == f"http://127.0.0.1:9999/s/{sid}/alana"


def test_a_misspelt_provider_gets_the_nearest_id_and_the_list(make_app):
    response = make_app("alana", "ainative").test_client().get("/alanna/api/v1/products/42")
    assert response.status_code == 404
    assert response.headers["X-Faultproof-Error"] == "http"
    body = response.get_json()
    assert "Did you mean 'alana'?" in body["faultproof_error"]
    assert body["valid"] == ["alana", "ainative"]
    assert [p["id"] for p in body["providers"]] == ["alana", "ainative"]
