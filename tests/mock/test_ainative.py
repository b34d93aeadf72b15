"""The AINative surface: happy paths, every documented error by its own rule, real limits.

No trigger headers here: each error in ``RULES`` comes from the request itself (a bad token,
a revoked key, a weak password, the 61st request of a minute, ...), on a fake clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faultproof.contracts import default_catalogue
from faultproof.contracts.schemas import first_error
from faultproof.mocks.app import create_app, load_surface
from faultproof.mocks.config import MockConfig
from faultproof.mocks.providers import ainative_auth

CATALOGUE = default_catalogue().provider("ainative")
OPS = CATALOGUE.operations
USER_JWT = dict(OPS["get_me"].headers)
DEV_JWT = dict(OPS["list_webhooks"].headers)
KEY = dict(OPS["list_projects"].headers)
ADMIN = {"username": "admin@example.com", "password": "SecurePass123!"}
USER = {"username": "user@example.com", "password": "SecurePass123!"}
REGISTER = dict(OPS["register"].json)
BASE = "/ainative"


@pytest.fixture
def app(make_app):
    return make_app("ainative")


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client, account: dict[str, str] = USER) -> str:
    response = client.post(f"{BASE}/v1/auth/login-json", json=account)
    assert response.status_code == 200, response.data
    token: str = response.get_json()["access_token"]
    return token


def me(client, headers: dict[str, str]):
    return client.get(f"{BASE}/v1/auth/me", headers=headers)


def register(client, **changes: Any):
    body = {k: v for k, v in {**REGISTER, **changes}.items() if v is not None}
    return client.post(f"{BASE}/v1/auth/register", json=body)


def new_key(client, days: int | None = 1) -> dict[str, Any]:
    response = client.post(
        f"{BASE}/v1/api-keys", headers=USER_JWT, json={"name": "ci", "expires_in_days": days}
    )
    assert response.status_code == 201, response.data
    body: dict[str, Any] = response.get_json()
    return body


def query(client, sql: str, project: str = "proj_123"):
    return client.post(
        f"{BASE}/v1/database/query", headers=KEY, json={"project_id": project, "query": sql}
    )


# --- happy paths ---------------------------------------------------------------------------------
def _route_for(app, method: str, path: str):
    endpoint, _ = app.url_map.bind("localhost").match(BASE + path, method=method)
    name = endpoint.split(".", 1)[1].rsplit("_", 1)[0]
    return next(r for r in load_surface("ainative").routes if r.name == name and r.method == method)


@pytest.mark.parametrize("name", list(OPS))
def test_every_operation_answers_its_happy_path(app, client, name):
    op = OPS[name]
    response = client.open(
        BASE + op.path,
        method=op.method,
        headers=dict(op.headers),
        json=op.json,
        query_string=dict(op.query),
    )
    route = _route_for(app, op.method, op.path)
    assert response.status_code == route.ok_status, response.data
    assert "X-Faultproof-Scenario" not in response.headers
    assert first_error(route.ok, response.get_json()) is None


@pytest.mark.parametrize("name", list(OPS))
def test_every_operation_also_answers_with_a_trailing_slash(client, name):
    op = OPS[name]
    response = client.open(
        f"{BASE}{op.path}/", method=op.method, headers=dict(op.headers), json=op.json
    )
    assert response.status_code < 300, response.data


def test_register_then_login_with_the_new_account(client):
    created = register(client, email="New.Person@Example.com").get_json()
    assert created["email"] == "new.person@example.com" and created["role"] == "USER"
    token = login(client, {"username": "new.person@example.com", "password": REGISTER["password"]})
    assert me(client, bearer(token)).get_json()["id"] == created["id"]
    assert register(client, email="NEW.person@example.com").status_code == 409


def test_projects_crud_from_state(client):
    created = client.post(
        f"{BASE}/v1/database/projects", headers=KEY, json={"name": "Analytics"}
    ).get_json()
    listed = client.get(f"{BASE}/v1/database/projects", headers=KEY).get_json()
    assert created in listed and created["description"] is None
    one = client.get(f"{BASE}/v1/database/projects/{created['id']}", headers=KEY)
    assert one.get_json() == created


def test_admin_reads_any_user_and_project_but_unknown_ids_are_404(client):
    admin = bearer(login(client, ADMIN))
    assert client.get(f"{BASE}/v1/users/user_456", headers=admin).get_json()["role"] == "DEVELOPER"
    assert client.get(f"{BASE}/v1/database/projects/proj_456", headers=admin).status_code == 200
    missing = client.get(f"{BASE}/v1/users/user_000", headers=admin)
    assert (
        missing.status_code == 404
        and missing.headers["X-Faultproof-Scenario"] == "ainative.not_found"
    )
    assert client.get(f"{BASE}/v1/webhooks", headers=admin).get_json() == []


def test_api_key_lifecycle(client):
    key = new_key(client, days=None)
    assert key["api_key"].startswith("sk_") and key["expires_at"] is None
    assert (
        client.get(f"{BASE}/v1/database/projects", headers=bearer(key["api_key"])).status_code
        == 200
    )
    listed = {k["id"]: k for k in client.get(f"{BASE}/v1/api-keys", headers=USER_JWT).get_json()}
    assert listed[key["id"]]["is_active"] and "api_key" not in listed[key["id"]]
    assert (
        client.delete(f"{BASE}/v1/api-keys/{key['id']}", headers=USER_JWT).get_json()["is_active"]
        is False
    )
    refused = client.get(f"{BASE}/v1/database/projects", headers={"X-API-Key": key["api_key"]})
    assert refused.headers["X-Faultproof-Scenario"] == "ainative.invalid_api_key_revoked"
    assert client.delete(f"{BASE}/v1/api-keys/key_2", headers=DEV_JWT).status_code == 404


def test_refresh_accepts_an_expired_token_and_blacklists_it(client, clock):
    old = login(client)
    clock.advance(28_800)
    assert me(client, bearer(old)).headers["X-Faultproof-Scenario"] == "ainative.token_expired"
    fresh = client.post(f"{BASE}/v1/auth/refresh", headers=bearer(old)).get_json()
    assert fresh["token_type"] == "bearer" and fresh["expires_in"] == 28_800
    assert me(client, bearer(fresh["access_token"])).status_code == 200
    again = client.post(f"{BASE}/v1/auth/refresh", headers=bearer(old))
    assert again.headers["X-Faultproof-Scenario"] == "ainative.token_revoked"


def test_tokens_last_exactly_the_token_lifetime(make_app, clock):
    client = make_app(
        "ainative", rules={"ainative.token_lifetime": {"access_token_s": 10}}
    ).test_client()
    token = login(client)
    clock.advance(9.5)
    assert me(client, bearer(token)).status_code == 200
    clock.advance(0.5)
    assert me(client, bearer(token)).status_code == 401


def test_catalogue_test_tokens_never_expire_and_survive_a_refresh(client, clock):
    clock.advance(30 * 86_400)
    assert client.post(f"{BASE}/v1/auth/refresh", headers=USER_JWT).status_code == 200
    assert me(client, USER_JWT).status_code == 200


def test_sql_pagination_and_indexes(client):
    page = query(client, "SELECT * FROM large_table OFFSET 4990 LIMIT 100").get_json()
    assert page["row_count"] == 10 and page["rows"][0] == {
        "id": 4991,
        "name": "Item 4991",
        "created_at": page["rows"][0]["created_at"],
    }
    assert query(client, "select id, name from large_table where name = 'x'").status_code == 504
    assert query(client, "CREATE INDEX idx_name ON large_table(name)").status_code == 200
    indexed = query(client, "select id, name from large_table where name = 'x'").get_json()
    assert indexed["row_count"] == 1000 and set(indexed["rows"][0]) == {"id", "name"}
    assert query(client, "DELETE FROM nowhere").get_json() == {"rows": [], "row_count": 0}
    assert query(client, "select 1", project="proj_999").status_code == 404


def test_the_pool_is_released_after_every_request(make_app):
    client = make_app(
        "ainative", rules={"ainative.connection_pool": {"pool_size": 1, "max_overflow": 0}}
    ).test_client()
    for path in (
        "/v1/database/projects",
        "/v1/database/projects/proj_999",
        "/v1/database/projects/proj_456",
    ):
        client.get(BASE + path, headers=KEY)
    assert query(client, "SELECT * FROM large_table").status_code == 504
    assert client.get(f"{BASE}/v1/database/projects", headers=KEY).status_code == 200


def test_422_lists_every_field_error_like_fastapi(client):
    response = client.post(f"{BASE}/v1/auth/register", json={"email": "x", "password": None})
    assert response.headers["X-Faultproof-Scenario"] == "ainative.validation_error_email"
    assert response.get_json()["detail"] == [
        {
            "loc": ["body", "email"],
            "msg": "value is not a valid email address",
            "type": "value_error.email",
        },
        {
            "loc": ["body", "password"],
            "msg": "none is not an allowed value",
            "type": "type_error.none.not_allowed",
        },
        {"loc": ["body", "full_name"], "msg": "field required", "type": "value_error.missing"},
    ]


def test_webhook_scenarios_are_not_served_on_the_surface(client):
    response = me(client, {**USER_JWT, "Prefer": "scenario=webhook_signed"})
    assert response.status_code == 400


# --- every documented error by its rule ----------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """How to reach a scenario: ``send(client, clock)`` after building the app with ``rules``."""

    send: Callable[[Any, Any], Any]
    rules: dict[str, Any] = field(default_factory=dict)


def _expired_token(client, clock):
    token = login(client)
    clock.advance(8 * 3600)
    return me(client, bearer(token))


def _replaced_token(client, clock):
    token = login(client)
    assert client.post(f"{BASE}/v1/auth/refresh", headers=bearer(token)).status_code == 200
    return me(client, bearer(token))


def _too_old_to_refresh(client, clock):
    token = login(client)
    clock.advance(7 * 86_400 + 1)
    return client.post(f"{BASE}/v1/auth/refresh", headers=bearer(token))


def _expired_key(client, clock):
    key = new_key(client, days=1)
    clock.advance(86_400)
    return client.get(f"{BASE}/v1/database/projects", headers={"X-API-Key": key["api_key"]})


def _sixty_first_request(client, clock):
    for _ in range(60):
        assert me(client, USER_JWT).status_code == 200
    return me(client, USER_JWT)


def _get(path: str, headers: dict[str, str] | None = None) -> Callable[[Any, Any], Any]:
    return lambda client, clock: client.get(BASE + path, headers=headers or {})


def _post(
    path: str, body: Any, headers: dict[str, str] | None = None, **kw: Any
) -> Callable[[Any, Any], Any]:
    if "data" in kw:
        return lambda client, clock: client.post(BASE + path, headers=headers or {}, **kw)
    return lambda client, clock: client.post(BASE + path, headers=headers or {}, json=body)


def _register(**changes: Any) -> Callable[[Any, Any], Any]:
    return lambda client, clock: register(client, **changes)


TYPO_KEY = KEY["X-API-Key"][:-1] + "9"
NO_POOL = {"ainative.connection_pool": {"pool_size": 0, "max_overflow": 0}}
RULES: dict[str, Case] = {
    "token_expired": Case(_expired_token),
    "invalid_token_format": Case(_get("/v1/auth/me", {"Authorization": "Bearer not-a-jwt"})),
    "token_revoked": Case(_replaced_token),
    "missing_authorization": Case(_get("/v1/auth/me")),
    "missing_bearer_prefix": Case(
        _get("/v1/auth/me", {"Authorization": USER_JWT["Authorization"][7:]})
    ),
    "refresh_token_too_old": Case(_too_old_to_refresh),
    "incorrect_credentials": Case(
        _post("/v1/auth/login-json", {**USER, "password": "WrongPass123!"})
    ),
    "invalid_api_key_revoked": Case(
        _get("/v1/database/projects", {"X-API-Key": "sk_test_ainative_revoked_9d1e0a44"})
    ),
    "invalid_api_key_expired": Case(_expired_key),
    "invalid_api_key_wrong_header": Case(
        _get("/v1/database/projects", {"Api-Key": KEY["X-API-Key"]})
    ),
    "invalid_api_key_typo": Case(_get("/v1/database/projects", {"X-API-Key": TYPO_KEY})),
    "insufficient_permissions_role": Case(_get("/v1/webhooks", USER_JWT)),
    "insufficient_permissions_admin_only": Case(_get("/v1/users/user_456", USER_JWT)),
    "insufficient_permissions_other_user": Case(_get("/v1/database/projects/proj_456", KEY)),
    "not_found": Case(_get("/v1/database/projects/proj_999", KEY)),
    "not_found_endpoint": Case(_get("/v1/database/tables", KEY)),
    "email_already_registered": Case(_register(email="user@example.com")),
    "validation_error_email": Case(_register(email="not-an-email")),
    "validation_error_missing_field": Case(_register(full_name=None)),
    "validation_error_type": Case(
        _post("/v1/api-keys", {"name": "k", "expires_in_days": "ninety"}, USER_JWT)
    ),
    "password_too_short": Case(_register(password="Ab1")),
    "password_missing_uppercase": Case(_register(password="securepass123")),
    "password_missing_lowercase": Case(_register(password="SECUREPASS123")),
    "password_missing_number": Case(_register(password="SecurePassword")),
    "rate_limited": Case(_sixty_first_request),
    "bad_request": Case(
        _post("/v1/database/projects", None, KEY, data="{not json", content_type="application/json")
    ),
    "connection_pool_exhausted": Case(_get("/v1/database/projects", KEY), NO_POOL),
    "connection_pool_exhausted_on_query": Case(
        _post("/v1/database/query", {"project_id": "proj_123", "query": "select 1"}, KEY), NO_POOL
    ),
    "query_timeout": Case(
        _post(
            "/v1/database/query",
            {"project_id": "proj_123", "query": "SELECT * FROM large_table"},
            KEY,
        )
    ),
}
TRIGGER_ONLY = {
    "rate_limited_long_wait": "the huge-wait twin of rate_limited, served on demand to grade "
    "caps_retry_after; the limiter's own 429 stays rate_limited",
    "rate_limited_body_only": "the mock's limiter always sends Retry-After; the body-only 429 is served on demand",
    "internal_server_error": "an outage: nothing a request does makes the service fail",
    "internal_server_error_plain": "an unhandled exception in the provider, not a rule",
    "internal_server_error_on_create": "an outage during a create: served on demand to grade safe retries",
    "bad_gateway": "a proxy failure in front of the API",
    "service_unavailable": "maintenance or overload of the whole service",
    "query_timeout_on_list": "a slow database on a plain list: infrastructure, not the request",
}


def test_every_error_scenario_is_reached_by_a_rule_or_named_trigger_only():
    errors = {s.name for s in CATALOGUE.scenarios.values() if s.kind == "error"}
    assert not set(RULES) & set(TRIGGER_ONLY)
    assert set(RULES) | set(TRIGGER_ONLY) == errors


@pytest.mark.parametrize("name", list(RULES))
def test_rule_produces_the_documented_error(make_app, clock, name):
    case = RULES[name]
    scenario = CATALOGUE.scenarios[f"ainative.{name}"]
    response = case.send(make_app("ainative", rules=case.rules).test_client(), clock)
    assert response.status_code == scenario.status, response.data
    assert response.headers["X-Faultproof-Scenario"] == scenario.id
    body = response.get_json()
    assert first_error(CATALOGUE.schema, body, scenario.body_schema) is None
    expected = scenario.render(now=clock())
    for header, value in expected.headers.items():
        if header != "Retry-After":
            assert response.headers[header] == value
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    if not isinstance(body["detail"], list):
        assert body["detail"] == expected.body["detail"] or name == "rate_limited"


# --- rate limits on a fake clock -----------------------------------------------------------------
def test_rate_limit_counts_for_real_and_reopens_with_the_window(make_app, clock):
    client = make_app("ainative", rules={"ainative.rate_limit": {"limit": 3}}).test_client()
    clock.advance(10)  # 10 s into a 60 s window
    assert [me(client, USER_JWT).status_code for _ in range(3)] == [200, 200, 200]
    refused = me(client, USER_JWT)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "50"
    assert refused.get_json() == {
        "detail": "Rate limit exceeded. Try again in 50 seconds.",
        "retry_after": 50,
    }
    clock.advance(49.5)
    assert me(client, USER_JWT).get_json()["retry_after"] == 1
    clock.advance(0.5)
    assert me(client, USER_JWT).status_code == 200


def test_rate_limit_is_per_credential_and_per_tier(make_app, clock):
    client = make_app(
        "ainative", rules={"ainative.rate_limit": {"per_tier": {"free": 2, "pro": 4}}}
    ).test_client()
    assert [me(client, USER_JWT).status_code for _ in range(3)] == [200, 200, 429]
    assert [me(client, KEY).status_code for _ in range(3)] == [200, 200, 429]
    assert [me(client, DEV_JWT).status_code for _ in range(5)] == [200, 200, 200, 200, 429]


def test_anonymous_calls_count_per_client_address(make_app):
    client = make_app("ainative", rules={"ainative.rate_limit": {"limit": 2}}).test_client()
    statuses = [client.post(f"{BASE}/v1/auth/login-json", json=USER).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    other = client.post(
        f"{BASE}/v1/auth/login-json", json=USER, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 200


# --- malformed input: never a 5xx ----------------------------------------------------------------
ROUTES = sorted({(r.method, r.rule) for r in load_surface("ainative").routes})
BAD_HEADERS = [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer a.b.c"},
    {"Authorization": "Bearer ...."},
    {"Authorization": "Bearer " + "x" * 20_000},
    {"Authorization": "Bearer sk_"},
    {"Authorization": "Bearer é.ü.ß"},
    {"X-API-Key": ""},
    {"X-API-Key": "ключ"},
    {"Api-Key": ""},
    {"Content-Type": "application/json; charset=utf-16"},
]
BAD_BODIES: list[dict[str, Any]] = [
    {"data": "not json", "content_type": "application/json"},
    {"data": b"\xff\xfe\x00", "content_type": "application/json"},
    {"data": '{"name": "x"}', "content_type": "text/plain"},
    {"json": []},
    {"json": "text"},
    {"json": None},
    {
        "json": {
            "name": {"nested": 1},
            "email": [1],
            "password": 12345678,
            "full_name": True,
            "project_id": 1,
            "query": {},
            "expires_in_days": 10**40,
            "description": [],
            "username": None,
        }
    },
    {
        "json": {
            "name": "x" * 100_000,
            "expires_in_days": -1,
            "query": "select " * 3000,
            "project_id": "proj_123",
            "email": "a@" + "b." * 200 + "c",
            "password": "Aa1" * 100,
            "full_name": "x",
            "extra": 1,
        }
    },
    {
        "json": {
            "name": "k",
            "expires_in_days": 1e308,
            "project_id": "proj_123",
            "query": "select\t*\nfrom users",
        }
    },
    {"json": {"name": "k", "expires_in_days": float("nan")}},
]


def _concrete(rule: str) -> str:
    return (
        rule.replace("<user_id>", "user_123")
        .replace("<project_id>", "proj_123")
        .replace("<key_id>", "key_1")
    )


@pytest.mark.parametrize(("method", "rule"), ROUTES)
def test_bad_headers_never_give_a_5xx(client, method, rule):
    for headers in BAD_HEADERS:
        response = client.open(BASE + _concrete(rule), method=method, headers=headers, json={})
        assert response.status_code < 500, (headers, response.data)
        assert first_error(CATALOGUE.schema, response.get_json()) is None


@pytest.mark.parametrize(("method", "rule"), ROUTES)
def test_bad_bodies_never_give_a_5xx(client, method, rule):
    for body in BAD_BODIES:
        headers = {} if "register" in rule or "login" in rule else dict(KEY)
        response = client.open(BASE + _concrete(rule), method=method, headers=headers, **body)
        assert response.status_code < 500, (body, response.data)
        if response.status_code >= 400:
            assert first_error(CATALOGUE.schema, response.get_json()) is None


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": 1},
        {"sub": "user@example.com", "exp": "soon"},
        {"sub": "user@example.com", "type": "refresh"},
        {"sub": "nobody@example.com"},
        {"sub": "user@example.com", "iat": True},
        {"sub": "user@example.com", "jti": 7},
    ],
)
def test_correctly_signed_tokens_with_bad_claims_are_invalid(client, claims):
    response = me(client, bearer(ainative_auth.encode(claims)))
    assert response.headers["X-Faultproof-Scenario"] == "ainative.invalid_token_format"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        name: JSON | st.text()
        for name in (
            "email",
            "password",
            "full_name",
            "username",
            "name",
            "expires_in_days",
            "description",
            "project_id",
            "query",
        )
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from([r for r in ROUTES if r[0] == "POST"]), body=FIELDS | JSON)
def test_generated_bodies_never_give_a_5xx(route, body):
    app = create_app(MockConfig(providers=("ainative",)))
    app.testing = True
    method, rule = route
    client = app.test_client()
    response = client.open(BASE + rule, method=method, headers=USER_JWT, json=body)
    assert response.status_code < 500, response.data
    if response.status_code >= 400:
        assert first_error(CATALOGUE.schema, response.get_json()) is None
