"""Numbers never make the mock lie: every number a user gives is finite and in its range.

A trigger's or plan step's parameter outside its range (``faults.yaml``'s ``param_ranges``),
a NaN or an infinity gets the mock's own 400 (``X-Faultproof-Error``, never the provider's
envelope) naming the parameter and the range, and the request is journaled with it; a CLI
option gets a usage error (exit 2) naming the range."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from faultproof.contracts import CatalogueError, FaultproofError, default_catalogue
from faultproof.contracts.catalogue import load_catalogue
from faultproof.mocks.app import create_app
from faultproof.mocks.cli import cli
from faultproof.mocks.config import MockConfig
from tests.mock.conftest import served_uvicorn

CATALOGUE = default_catalogue()
#: The ranges as the data file states them, read apart from the code under test.
RANGES = yaml.safe_load(
    (resources.files("faultproof.contracts") / "faults.yaml").read_text(encoding="utf-8")
)["param_ranges"]
NOT_FINITE = ["nan", "NaN", "inf", "-inf", "1e999", "1.e999", "-1.e999", "Infinity"]
PRODUCT = "/alana/api/v1/products/42"


def _marked_400(response: Any, name: str) -> str:
    """The mock's own 400 naming ``name`` and its range; its message."""
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.headers["X-Faultproof-Error"] == "bad-trigger"
    body = response.get_json()
    assert set(body) == {"faultproof_error", "valid"}  # no provider envelope
    message = body["faultproof_error"]
    bounds = RANGES[name]
    assert f"'{name}'" in message
    assert f"from {bounds['min']} to {bounds['max']}" in message
    return message


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def _journal(client: Any, sid: str) -> list[dict[str, Any]]:
    return client.get(f"/__faultproof/sessions/{sid}/journal").get_json()["entries"]


@pytest.mark.parametrize("value", NOT_FINITE)
@pytest.mark.parametrize(
    ("scenario", "name"),
    [
        ("fault.truncated_body", "fraction"),
        ("fault.slow_drip", "chunk_bytes"),
        ("fault.slow_drip", "interval_s"),
        ("fault.delay", "delay_s"),
        ("fault.hang", "max_s"),
        ("RATE_001", "retry_after"),
    ],
)
def test_a_query_trigger_number_that_is_not_finite_is_a_marked_400(client, scenario, name, value):
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    response = client.get(f"/s/{sid}{PRODUCT}?__scenario={scenario}&__{name}={value}")
    _marked_400(response, name)
    (entry,) = _journal(client, sid)
    assert (entry["status"], entry["path"]) == (400, "/api/v1/products/42")


@pytest.mark.parametrize(
    ("name", "value"),
    [("fraction", "-0.1"), ("fraction", "1.5"), ("retry_after", "1e10")],
)
@pytest.mark.parametrize("spelling", ["prefer", "header"])
def test_header_trigger_numbers_out_of_range(client, name, value, spelling):
    scenario = "fault.truncated_body" if name == "fraction" else "alana.RATE_001"
    headers = (
        {"Prefer": f"scenario={scenario}, {name}={value}"}
        if spelling == "prefer"
        else {"X-Faultproof-Scenario": f"{scenario}; {name}={value}"}
    )
    _marked_400(client.get(PRODUCT, headers=headers), name)


@pytest.mark.parametrize(
    "value", ["0", "-1", "1.5", "1048577", "99999999999999999999999999", "1.e999", "nan"]
)
def test_chunk_sizes_are_whole_and_bounded(client, value):
    message = _marked_400(
        client.get(f"{PRODUCT}?__scenario=fault.slow_drip&__chunk_bytes={value}"), "chunk_bytes"
    )
    assert "an integer" in message


@pytest.mark.parametrize("value", ["1.e999", "nan", "-inf", "2", 1e300, -5])
def test_plan_step_params_out_of_range_are_refused_when_planned(client, value):
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    step = {"scenario": "fault.truncated_body", "params": {"fraction": value}}
    plan = {"match": {"method": "GET", "path": "/api/v1/products/*"}, "steps": [step]}
    response = client.put(f"/__faultproof/sessions/{sid}/plan", json=plan)
    assert response.status_code == 400
    assert response.headers["X-Faultproof-Error"] == "bad-plan"
    assert "'fraction'" in response.get_json()["faultproof_error"]
    assert "from 0 to 1" in response.get_json()["faultproof_error"]
    headers = CATALOGUE.provider("alana").operations["get_product"].headers
    assert client.get(f"/s/{sid}{PRODUCT}", headers=headers).status_code == 200  # no plan kept


def test_in_range_values_still_work(client):
    response = client.get(f"{PRODUCT}?__scenario=RATE_001&__retry_after=0.5")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "0.5")
    assert client.get(f"{PRODUCT}?__scenario=RATE_001&__retry_after=1e9").status_code == 429


def test_on_a_real_server_the_fault_is_refused_and_journaled():
    with served_uvicorn(MockConfig(providers=("alana",), hang_max_s=5.0)) as server:
        sid = httpx.post(f"{server.url}/__faultproof/sessions").json()["id"]
        base = f"{server.url}/s/{sid}{PRODUCT}"
        for query in (
            "__scenario=fault.truncated_body&__fraction=1.e999",
            "__scenario=fault.slow_drip&__chunk_bytes=1.e999",
            "__scenario=RATE_001&__retry_after=1.e999",
        ):
            response = httpx.get(f"{base}?{query}", timeout=10)
            assert response.status_code == 400, response.text
            assert response.headers["X-Faultproof-Error"] == "bad-trigger"
        journal = httpx.get(f"{server.url}/__faultproof/sessions/{sid}/journal").json()
        assert [e["status"] for e in journal["entries"]] == [400, 400, 400]


#: Every numeric parameter of the catalogue (each has its range in faults.yaml).
NUMERIC = [
    (s, name)
    for s in CATALOGUE.scenarios()
    if s.kind in ("error", "result", "fault")
    for name, default in s.params.items()
    if isinstance(default, (int, float)) and not isinstance(default, bool)
]
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from([*NOT_FINITE, "1e309", "-0", "0.0", "1_000", "5e-324", "1e+16"]),
)
_APP = create_app(MockConfig())
_APP.testing = True


def _expected_ok(name: str, text: str) -> bool:
    """In range by the data file alone (an oracle apart from ParamRange)."""
    bounds = RANGES.get(name, RANGES["*"])
    try:
        number = float(text)
    except (ValueError, OverflowError):
        return False
    whole = not bounds.get("integer") or number.is_integer()
    return math.isfinite(number) and bounds["min"] <= number <= bounds["max"] and whole


@settings(max_examples=300, deadline=None)
@given(case=st.sampled_from(NUMERIC), value=NUMBERS)
def test_trigger_numbers_never_give_a_5xx(case, value):
    scenario, name = case
    fault = scenario.kind == "fault"
    provider = scenario.provider or "alana"
    if fault and _expected_ok(name, value):
        value = "1.e999"  # a fault in range would wait or need a socket: out of range instead
    op = CATALOGUE.provider(provider).operation_for(scenario)
    path = f"/{provider}{op.path}?__scenario={scenario.id}&__{name}={value}"
    response = _APP.test_client().open(path, method=op.method, headers=op.headers, json=op.json)
    assert response.status_code < 500, response.get_data(as_text=True)
    if _expected_ok(name, value):
        assert "X-Faultproof-Error" not in response.headers
    else:
        _marked_400(response, name)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--session-ttl", "nan"], "1<=x<=31536000"),
        (["--session-ttl", "inf"], "1<=x<=31536000"),
        (["--session-ttl", "-inf"], "1<=x<=31536000"),
        (["--session-ttl", "0"], "1<=x<=31536000"),
        (["--journal-limit", "1.5"], "--journal-limit"),
        (["--journal-limit", "nan"], "--journal-limit"),
        (["--journal-limit", "0"], "1<=x<=100000"),
        (["--port", "1e999"], "--port"),
    ],
)
def test_serve_options_out_of_range_are_usage_errors(args, needle):
    result = CliRunner().invoke(cli, ["serve", "--port", "0", *args])
    assert result.exit_code == 2, result.output
    assert needle in result.output


@pytest.mark.parametrize("value", ["limit=1e999", "window_s=NaN", "limit=-1", "limit=1e300"])
def test_rule_overrides_that_are_not_finite_numbers_in_range_exit_2(value):
    """Through the console script, which turns the tool error into exit 2 before any bind."""
    command = [sys.executable, "-m", "faultproof.mocks.cli", "serve", "--port", "0"]
    done = subprocess.run(
        [*command, "--set", f"alana.rate_limit.{value}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert f"rule alana.rate_limit.{value.partition('=')[0]} takes " in done.stderr
    assert "from 0 to 1_000_000_000" in done.stderr


@pytest.mark.parametrize("ttl", [math.nan, math.inf, -1.0, 0.0])
def test_a_config_with_a_session_ttl_that_is_not_a_positive_number_is_refused(ttl):
    with pytest.raises(FaultproofError, match="session_ttl_s"):
        MockConfig(session_ttl_s=ttl)


def test_a_default_outside_its_range_is_a_catalogue_error(tmp_path: Path):
    root = tmp_path / "data"
    shutil.copytree(str(resources.files("faultproof.contracts")), root)
    faults = root / "faults.yaml"
    faults.write_text(
        faults.read_text().replace("params: {fraction: 0.5}", "params: {fraction: 2}")
    )
    with pytest.raises(CatalogueError, match="fraction=2 is not a finite number from 0 to 1"):
        load_catalogue(root, use_cache=False)
