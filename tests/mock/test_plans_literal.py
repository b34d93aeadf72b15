"""Literal-response plan steps: an answer given as data is served and journaled as given."""

from __future__ import annotations

import pytest

from faultproof.contracts import FaultproofError
from faultproof.contracts.literal import check_response

ALANA_KEY = {"X-API-Key": "alana_test_key"}
PRODUCT = "/alana/api/v1/products/42"


@pytest.fixture
def client(make_app):
    return make_app("alana", "ainative").test_client()


def _session(client, plan):
    session_id = client.post("/__faultproof/sessions").json["id"]
    answer = client.put(f"/__faultproof/sessions/{session_id}/plan", json=plan)
    return session_id, answer


def test_a_literal_step_is_served_verbatim_then_normal_behaviour(client):
    body = {"error": {"code": "SERVER_002", "message": "{{not_a_param}}", "request_id": "req_1"}}
    step = {
        "response": {"status": 503, "headers": {"Retry-After": "2"}, "body": body},
        "id": "fuzz.alana.1",
    }
    session_id, answer = _session(client, {"steps": [step], "after": "ok"})
    assert answer.status_code == 200, answer.json

    first = client.get(f"/s/{session_id}{PRODUCT}", headers=ALANA_KEY)
    assert first.status_code == 503
    assert first.json == body  # no placeholder is filled in
    assert first.headers["Retry-After"] == "2"
    assert first.headers["Content-Type"] == "application/json"
    assert client.get(f"/s/{session_id}{PRODUCT}", headers=ALANA_KEY).status_code == 200

    entries = client.get(f"/__faultproof/sessions/{session_id}/journal").json["entries"]
    assert [(e["status"], e["scenario"]) for e in entries] == [(503, "fuzz.alana.1"), (200, None)]
    assert entries[0]["retry_after_s"] == 2.0


def test_a_literal_step_keeps_its_content_type_and_text_body(client):
    step = {
        "response": {
            "status": 500,
            "headers": {"Content-Type": "text/html"},
            "body": "<h1>oops</h1>",
        }
    }
    session_id, answer = _session(client, {"steps": [step], "after": "repeat_last"})
    assert answer.status_code == 200
    for _ in range(2):
        served = client.get(f"/s/{session_id}/ainative/v1/auth/me")
        assert (served.status_code, served.data) == (500, b"<h1>oops</h1>")
        assert served.headers["Content-Type"] == "text/html"
    entries = client.get(f"/__faultproof/sessions/{session_id}/journal").json["entries"]
    assert {e["scenario"] for e in entries} == {"plan.response"}


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"response": {"status": 99}}, "response.status must be an integer from 200 to 599"),
        ({"response": {"status": "503"}}, "response.status must be an integer"),
        ({"response": {"status": 503, "extra": 1}}, "unknown fields ['extra']"),
        ({"response": {"status": 503, "headers": []}}, "response.headers is an object"),
        (
            {"response": {"status": 503, "headers": {"Retry-After": "1\r\nX-Evil: 1"}}},
            "response.headers.Retry-After must be text of visible Latin-1 characters",
        ),
        ({"response": {"status": 503, "headers": {"Bad Name": "1"}}}, "not a valid header name"),
        ({"response": {"status": 503, "headers": {"Content-Length": "9"}}}, "leave it out"),
        ({"response": {"status": 503}, "id": "nodot"}, "dotted like fuzz.alana.3"),
        ({"response": {"status": 503}, "scenario": "alana.RATE_001"}, "unknown fields"),
        ({"response": "503"}, "'response' is an object with status, headers, body"),
    ],
)
def test_a_bad_literal_step_is_refused_with_what_is_wrong(client, step, message):
    _, answer = _session(client, {"steps": [step]})
    assert answer.status_code == 400
    assert message in answer.json["faultproof_error"]


def test_a_body_json_cannot_carry_is_refused_before_serving():
    with pytest.raises(FaultproofError, match="integers must fit in 64 bits"):
        check_response({"status": 503, "body": {"n": 2**70}})
