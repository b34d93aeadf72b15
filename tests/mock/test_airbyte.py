"""The Airbyte surface: happy paths, every documented error reached by its rule, real limits."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from faultproof.contracts import default_catalogue
from faultproof.contracts.schemas import load_schema
from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig
from faultproof.mocks.providers import airbyte, airbyte_data

P = "/airbyte"
TOKEN = {"Authorization": "Bearer ab_test_access_token"}
INSTANCE = "/api/v1/connectors/instances/c0ffee00-0000-4000-8000-000000000001/execute"
OTHER_INSTANCE = "/api/v1/connectors/instances/c0ffee00-0000-4000-8000-0000000000aa/execute"
REFRESH = {
    "grant_type": "refresh_token",
    "refresh_token": "ab_test_refresh_token",
    "client_id": "ab_test_client_id",
    "client_secret": "ab_test_client_secret",
}
CONNECTOR = {
    "workspace_name": "test-workspace",
    "connector_definition_id": airbyte_data.DEFINITION_ID,
    "name": "my-connector",
    "credentials": {"access_key": "ak", "access_key_secret": "aks"},
}
ERRORS = Draft202012Validator(load_schema("airbyte"))


class Clock:
    def __init__(self, t: float = 1_750_000_040.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Mock:
    def __init__(self, rules: dict[str, Any] | None = None) -> None:
        self.clock = Clock()
        self.app = create_app(
            MockConfig(providers=("airbyte",), clock=self.clock, rules=rules or {})
        )
        self.app.testing = True
        self.client = self.app.test_client()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.open(P + path, method=method, **kwargs)

    def refresh(self, **overrides: Any) -> Any:
        return self.call("POST", "/api/v1/oauth/token", json={**REFRESH, **overrides})

    def workspaces(
        self,
        token: str = "ab_test_access_token",
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        return self.call("GET", "/api/v1/workspaces", headers=headers, **kwargs)


@pytest.fixture
def mock() -> Mock:
    return Mock()


def assert_scenario(response: Any, scenario_id: str) -> None:
    scenario = default_catalogue().scenario(scenario_id)
    assert response.status_code == scenario.status, response.get_data(as_text=True)
    assert response.headers["X-Faultproof-Scenario"] == scenario_id
    assert response.mimetype == scenario.content_type
    assert not list(ERRORS.iter_errors(response.get_json(force=True)))


# ---------------------------------------------------------------- happy paths

HAPPY = {  # operation -> status; the other operations exist to reach an error
    "list_workspaces": 200,
    "create_workspace": 201,
    "list_connectors": 200,
    "create_connector": 201,
    "refresh_token": 200,
    "execute_list": 200,
}
ERROR_OPERATIONS = {
    "create_connector_wrong_path": "airbyte.create_hosted_wrong_path",
    "create_connector_with_auth_type": "airbyte.credentials_with_auth_type",
    "create_connector_unknown_workspace": "airbyte.workspace_not_found",
    "execute_unknown_entity": "airbyte.entity_not_found",
    "execute_unsupported_action": "airbyte.action_not_supported",
    "execute_unknown_connector": "airbyte.connector_not_found",
}
OPERATIONS = default_catalogue().provider("airbyte").operations


def drive(mock: Mock, name: str) -> Any:
    op = OPERATIONS[name]
    return mock.call(
        op.method, op.path, query_string=dict(op.query), headers=dict(op.headers), json=op.json
    )


def test_every_operation_is_covered():
    assert set(HAPPY) | set(ERROR_OPERATIONS) == set(OPERATIONS)


@pytest.mark.parametrize("name", sorted(HAPPY))
def test_operation_happy_path(mock, name):
    response = drive(mock, name)
    assert response.status_code == HAPPY[name], response.get_data(as_text=True)
    route = next(
        r for r in airbyte.surface.routes if r.name == name.replace("execute_list", "execute")
    )
    assert not list(Draft202012Validator(route.ok).iter_errors(response.get_json()))


@pytest.mark.parametrize("name", sorted(ERROR_OPERATIONS))
def test_error_operation_gives_its_scenario(mock, name):
    assert_scenario(drive(mock, name), ERROR_OPERATIONS[name])


def test_created_objects_are_listed_and_executable(mock):
    created = mock.call(
        "POST", "/api/v1/integrations/connectors", headers=TOKEN, json=CONNECTOR
    ).get_json()
    listed = mock.call("GET", "/api/v1/integrations/connectors", headers=TOKEN).get_json()["data"]
    assert created["id"] in [c["id"] for c in listed]
    assert "other-org-workspace" not in [c["workspace_name"] for c in listed]
    result = mock.call(
        "POST",
        f"/api/v1/connectors/instances/{created['id']}/execute",
        headers=TOKEN,
        json={"entity": "balance", "action": "get"},
    ).get_json()
    assert result["success"] and result["data"]["object"] == "balance"
    mock.call("POST", "/api/v1/workspaces", headers=TOKEN, json={"name": "acme"})
    assert "acme" in [w["name"] for w in mock.workspaces().get_json()["data"]]
    answer = mock.call(
        "POST",
        "/api/v1/integrations/connectors",
        headers=TOKEN,
        json={**CONNECTOR, "workspace_name": "acme"},
    )
    assert answer.status_code == 201


def test_execute_list_filters_pages_and_get_reports_upstream_errors_in_band(mock):
    def run(**call: Any) -> Any:
        return mock.call("POST", INSTANCE, headers=TOKEN, json=call).get_json()

    assert [
        c["email"]
        for c in run(entity="customers", action="list", params={"email": "pattern@example.com"})[
            "data"
        ]
    ] == ["pattern@example.com"]
    page = run(entity="customers", action="list", params={"limit": 1, "starting_after": "cus_001"})
    assert [c["id"] for c in page["data"]] == ["cus_002"] and page["meta"]["has_more"]
    assert (
        run(entity="customers", action="get", params={"id": "cus_003"})["data"]["name"]
        == "Grace Hopper"
    )
    missing = run(entity="customers", action="get", params={"id": "cus_404"})
    assert missing["success"] is False and missing["error"].startswith("404")


def test_token_endpoint_accepts_form_and_basic_client_auth(mock):
    form = mock.call("POST", "/api/v1/oauth/token", data=REFRESH)
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    basic = base64.b64encode(b"ab_test_client_id:ab_test_client_secret").decode()
    answer = mock.call(
        "POST",
        "/api/v1/oauth/token",
        headers={"Authorization": f"Basic {basic}"},
        data={"grant_type": "refresh_token", "refresh_token": "ab_test_refresh_token"},
    )
    assert answer.status_code == 200
    assert mock.workspaces(answer.get_json()["access_token"]).status_code == 200


def test_access_token_expires_on_the_mock_clock_then_refresh_recovers():
    mock = Mock(rules={"airbyte.access_token_lifetime_s": 600})
    issued = mock.refresh().get_json()
    assert issued["expires_in"] == 600
    mock.clock.t += 599
    assert mock.workspaces(issued["access_token"]).status_code == 200
    mock.clock.t += 1
    assert_scenario(mock.workspaces(issued["access_token"]), "airbyte.token_expired")
    renewed = mock.refresh().get_json()["access_token"]
    assert renewed != issued["access_token"]
    assert mock.workspaces(renewed).status_code == 200


# ---------------------------------------------------------------- documented errors, by rule

Request = dict[str, Any] | Callable[[Mock], Any]


def _refreshed(mock: Mock, **overrides: Any) -> str:
    token: str = mock.refresh(**overrides).get_json()["access_token"]
    return token


def _twice(
    mock: Mock, method: str = "GET", path: str = "/api/v1/workspaces", json: Any = None
) -> Any:
    mock.call(method, path, headers=TOKEN, json=json)
    return mock.call(method, path, headers=TOKEN, json=json)


def _expired(mock: Mock) -> Any:
    token = _refreshed(mock)
    mock.clock.t += 3600
    return mock.workspaces(token)


RULES: dict[str, Request] = {
    "airbyte.unauthorized": {"method": "GET", "path": "/api/v1/workspaces"},
    "airbyte.invalid_credentials": {
        "method": "GET",
        "path": "/api/v1/workspaces",
        "headers": {"Authorization": "Bearer ab_test_revoked"},
    },
    "airbyte.wrong_environment_credentials": {
        "method": "GET",
        "path": "/api/v1/workspaces",
        "headers": {"Authorization": "Bearer ab_live_123"},
    },
    "airbyte.token_expired": _expired,
    "airbyte.forbidden": {
        "method": "POST",
        "path": "/api/v1/integrations/connectors",
        "headers": TOKEN,
        "json": {**CONNECTOR, "workspace_name": "other-org-workspace"},
    },
    "airbyte.insufficient_permissions": {
        "method": "GET",
        "path": "/api/v1/workspaces",
        "headers": {"Authorization": "Bearer ab_test_noscope_token"},
    },
    "airbyte.ip_restricted": {
        "method": "GET",
        "path": "/api/v1/workspaces",
        "headers": {**TOKEN, "X-Forwarded-For": "203.0.113.9, 10.0.0.1"},
    },
    "airbyte.resource_access_denied": {
        "method": "POST",
        "path": OTHER_INSTANCE,
        "headers": TOKEN,
        "json": {"entity": "customers", "action": "list"},
    },
    "airbyte.admin_access_required": {
        "method": "POST",
        "path": "/api/v1/workspaces",
        "json": {"name": "x"},
        "headers": {"Authorization": "Bearer ab_test_member_token"},
    },
    "airbyte.oauth_app_not_approved": lambda m: m.workspaces(
        _refreshed(m, client_id="ab_test_unapproved_client_id")
    ),
    "airbyte.rate_limited": _twice,
    "airbyte.rate_limited_http_date": _twice,
    "airbyte.rate_limited_no_retry_after": _twice,
    "airbyte.rate_limited_long_wait": _twice,
    "airbyte.rate_limited_on_create": lambda m: _twice(
        m, "POST", "/api/v1/integrations/connectors", CONNECTOR
    ),
    "airbyte.burst_rate_limited": _twice,
    "airbyte.concurrent_requests": {
        "method": "GET",
        "path": "/api/v1/workspaces",
        "headers": TOKEN,
    },
    "airbyte.invalid_grant": lambda m: m.refresh(refresh_token="ab_test_revoked"),
    "airbyte.refresh_token_expired": lambda m: m.refresh(
        refresh_token="ab_test_expired_refresh_token"
    ),
    "airbyte.refresh_request_invalid": lambda m: m.refresh(refresh_token=None),
    "airbyte.invalid_client": lambda m: m.refresh(client_secret="wrong"),
    "airbyte.unsupported_grant_type": lambda m: m.refresh(grant_type="client_credentials"),
    "airbyte.validation_error": {
        "method": "POST",
        "path": "/api/v1/integrations/connectors",
        "headers": TOKEN,
        "json": {**CONNECTOR, "name": 42},
    },
    "airbyte.workspace_already_exists": {
        "method": "POST",
        "path": "/api/v1/workspaces",
        "headers": TOKEN,
        "json": {"name": "test-workspace"},
    },
    "airbyte.credentials_with_auth_type": {
        "method": "POST",
        "path": "/api/v1/integrations/connectors",
        "headers": TOKEN,
        "json": {**CONNECTOR, "credentials": {"auth_type": "APIKey", "api_key": "k"}},
    },
    "airbyte.create_hosted_wrong_path": {
        "method": "POST",
        "path": "/v1/integrations/connectors",
        "json": CONNECTOR,
    },
    "airbyte.workspace_not_found": {
        "method": "POST",
        "path": "/api/v1/integrations/connectors",
        "headers": TOKEN,
        "json": {**CONNECTOR, "workspace_name": "my-custom-user-id-42"},
    },
    "airbyte.connector_not_found": {
        "method": "POST",
        "path": "/api/v1/connectors/instances/nope/execute",
        "headers": TOKEN,
        "json": {"entity": "customers", "action": "list"},
    },
    "airbyte.entity_not_found": {
        "method": "POST",
        "path": INSTANCE,
        "headers": TOKEN,
        "json": {"entity": "customer", "action": "list"},
    },
    "airbyte.action_not_supported": {
        "method": "POST",
        "path": INSTANCE,
        "headers": TOKEN,
        "json": {"entity": "customers", "action": "delete"},
    },
}
RULE_OVERRIDES: dict[str, dict[str, Any]] = {
    "airbyte.rate_limited": {"airbyte.rate_limit": {"limit": 1}},
    "airbyte.rate_limited_http_date": {
        "airbyte.rate_limit": {"limit": 1, "retry_after_format": "http_date"}
    },
    "airbyte.rate_limited_no_retry_after": {
        "airbyte.rate_limit": {"limit": 1, "retry_after_format": "none"}
    },
    "airbyte.rate_limited_long_wait": {"airbyte.rate_limit": {"limit": 1, "window_s": 600}},
    "airbyte.rate_limited_on_create": {"airbyte.rate_limit": {"limit": 1}},
    "airbyte.burst_rate_limited": {"airbyte.burst_limit": {"limit": 1}},
    "airbyte.concurrent_requests": {"airbyte.concurrent_limit": 0},
}
TRIGGER_ONLY = {
    "airbyte.refresh_token_missing": (
        "the same 401 as token_expired; what differs is that the client has no refresh token, "
        "which the server cannot see"
    ),
    "airbyte.request_timeout": (
        "a client that stalls while sending its body is a transport condition; "
        "the mock reads whole requests"
    ),
    "airbyte.internal_server_error": "a temporary server issue has no natural rule",
    "airbyte.internal_server_error_on_create": "a temporary server issue has no natural rule",
    "airbyte.bad_gateway": "a third-party outage has no natural rule",
    "airbyte.service_unavailable": "an outage has no natural rule",
    "airbyte.gateway_timeout": "a timeout on a long operation has no natural rule",
}


def test_every_error_scenario_is_reached_by_rule_or_trigger_only():
    errors = {
        s.id for s in default_catalogue().scenarios("airbyte") if s.provider and s.kind == "error"
    }
    assert set(RULES) | set(TRIGGER_ONLY) == errors
    assert not set(RULES) & set(TRIGGER_ONLY)


@pytest.mark.parametrize("scenario_id", sorted(RULES))
def test_rule_produces_scenario(scenario_id):
    mock = Mock(rules=RULE_OVERRIDES.get(scenario_id))
    request = RULES[scenario_id]
    if callable(request):
        response = request(mock)
    else:
        response = mock.call(
            request["method"],
            request["path"],
            headers=request.get("headers"),
            json=request.get("json"),
        )
    assert_scenario(response, scenario_id)


@pytest.mark.parametrize("scenario_id", sorted(TRIGGER_ONLY))
def test_trigger_only_scenarios_answer_their_trigger(mock, scenario_id):
    response = mock.workspaces(headers={"X-Faultproof-Scenario": scenario_id})
    assert_scenario(response, scenario_id)


def test_ip_restriction_uses_the_peer_address_without_forwarding(mock):
    blocked = mock.workspaces(environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert_scenario(blocked, "airbyte.ip_restricted")
    fine = mock.workspaces(
        headers={"X-Forwarded-For": "not-an-ip"}, environ_base={"REMOTE_ADDR": "198.51.100.1"}
    )
    assert fine.status_code == 200


def test_empty_or_none_tokens_are_unauthorized(mock):
    for header in ("Bearer ", "Bearer None", "Bearer null", "Basic abc", "ab_test_access_token"):
        assert_scenario(
            mock.call("GET", "/api/v1/workspaces", headers={"Authorization": header}),
            "airbyte.unauthorized",
        )


# ---------------------------------------------------------------- limits counted for real


def test_rate_limit_allows_n_refuses_n_plus_one_then_resets():
    mock = Mock(rules={"airbyte.rate_limit": {"limit": 3}})
    mock.clock.t = 1_750_000_040.0  # 20 s into a 60 s window
    assert [mock.workspaces().status_code for _ in range(3)] == [200, 200, 200]
    refused = mock.workspaces()
    assert_scenario(refused, "airbyte.rate_limited")
    assert refused.headers["Retry-After"] == "40"
    assert mock.workspaces("ab_test_member_token").status_code == 200  # counted per token
    mock.clock.t += 40
    assert mock.workspaces().status_code == 200


def test_burst_limit_counts_within_one_second():
    mock = Mock(rules={"airbyte.burst_limit": {"limit": 2}})
    mock.clock.t = 1_750_000_040.5
    assert [mock.workspaces().status_code for _ in range(2)] == [200, 200]
    refused = mock.workspaces()
    assert_scenario(refused, "airbyte.burst_rate_limited")
    assert refused.headers["Retry-After"] == "1"
    mock.clock.t += 0.5
    assert mock.workspaces().status_code == 200


def test_http_date_and_long_wait_variants_carry_the_real_wait():
    mock = Mock(rules={"airbyte.rate_limit": {"limit": 1, "retry_after_format": "http_date"}})
    mock.workspaces()
    refused = mock.workspaces()
    assert refused.headers["Retry-After"] == formatdate(1_750_000_040 + 40, usegmt=True)
    mock = Mock(rules={"airbyte.rate_limit": {"limit": 1, "window_s": 600}})
    mock.workspaces()
    assert mock.workspaces().headers["Retry-After"] == str(600 - 1_750_000_040 % 600)


def test_concurrent_limit_counts_requests_in_flight(monkeypatch):
    mock = Mock(rules={"airbyte.concurrent_limit": 2})
    entered, release = threading.Semaphore(0), threading.Event()
    real = airbyte_data.run_action

    def slow(*args: Any) -> Any:
        entered.release()
        assert release.wait(10)
        return real(*args)

    monkeypatch.setattr(airbyte_data, "run_action", slow)
    results: list[int] = []
    workers = [
        threading.Thread(
            target=lambda: results.append(
                mock.call(
                    "POST", INSTANCE, headers=TOKEN, json={"entity": "balance", "action": "get"}
                ).status_code
            )
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        assert entered.acquire(timeout=10)
    refused = mock.workspaces()
    release.set()
    for worker in workers:
        worker.join(10)
    assert_scenario(refused, "airbyte.concurrent_requests")
    assert refused.headers["Retry-After"] == "1"
    assert results == [200, 200]
    assert mock.workspaces().status_code == 200  # slots released at teardown


# ---------------------------------------------------------------- malformed input never gives a 5xx

ROUTES = [
    ("GET", "/api/v1/workspaces"),
    ("POST", "/api/v1/workspaces"),
    ("GET", "/api/v1/integrations/connectors"),
    ("POST", "/api/v1/integrations/connectors"),
    ("POST", INSTANCE),
    ("POST", "/api/v1/oauth/token"),
    ("POST", "/v1/integrations/connectors"),
]
BODIES: list[dict[str, Any]] = [
    {"data": b"{not json", "content_type": "application/json"},
    {"data": b'{"name": "x"}', "content_type": "text/plain"},
    {"data": b"\xff\xfe\x00", "content_type": "application/json"},
    {"json": [1, 2, 3]},
    {"json": None},
    {
        "json": {
            "name": 1,
            "entity": ["x"],
            "action": {},
            "params": "x",
            "grant_type": 7,
            "refresh_token": [],
        }
    },
    {"json": {"name": "n" * 10_000, "entity": "e" * 10_000, "action": "list", "extra": True}},
    {"json": {**CONNECTOR, "credentials": {"api_key": ""}}},
    {"json": {**CONNECTOR, "credentials": {"unknown": "x"}}},
    {"json": {**CONNECTOR, "connector_definition_id": "nope"}},
    {"json": {"entity": "customers", "action": "list", "params": {"limit": 10**6, "extra": 1}}},
    {"json": {"entity": "customers", "action": "get", "params": {}}},
    {"json": {"entity": "balance", "action": "get", "params": {"x": 1}}},
    {"data": b"[" * 5000 + b"]" * 5000, "content_type": "application/json"},
    {"data": b"{" + b'"a": 1,' * 20000 + b'"b": 2}', "content_type": "application/json"},
    {
        "data": b"grant_type=refresh_token&refresh_token=%ff",
        "content_type": "application/x-www-form-urlencoded",
    },
    {"data": b"", "content_type": "application/x-www-form-urlencoded"},
]
HEADERS: list[dict[str, str]] = [
    {"Authorization": "Bearer ab_test_access_token"},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer " + "x" * 20_000},
    {"Authorization": "Basic !!!"},
    {"Authorization": "Basic " + base64.b64encode(b"\xff:\xfe").decode()},
    {"Authorization": "Bearer ab_test_access_token", "X-Forwarded-For": ",,,"},
    {"Authorization": "Bearer ab_test_access_token", "Content-Length": "abc"},
]


def assert_sane(response: Any) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.mimetype in ("application/problem+json", "application/json")
        assert not list(ERRORS.iter_errors(orjson.loads(response.get_data())))


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_malformed_bodies_and_headers_never_give_a_5xx(mock, method, path):
    for body in BODIES:
        for headers in HEADERS:
            assert_sane(mock.call(method, path, headers=headers, **body))


def test_unknown_paths_methods_and_huge_bodies_get_problem_details(mock):
    for response, status in [
        (mock.call("GET", "/api/v2/nothing"), 404),
        (mock.call("DELETE", "/api/v1/workspaces", headers=TOKEN), 405),
        (mock.call("POST", "/api/v1/workspaces", headers=TOKEN, json={"name": "x" * 100_000}), 413),
    ]:
        assert response.status_code == status
        assert response.mimetype == "application/problem+json"
        assert_sane(response)


def test_openapi_lists_the_api_but_not_the_wrong_path(mock):
    document = mock.client.get("/airbyte/openapi.json").get_json()
    assert "/api/v1/integrations/connectors" in document["paths"]
    assert "/api/v1/oauth/token" in document["paths"]
    assert "/v1/integrations/connectors" not in document["paths"]
