"""The normal form of an error (DESIGN.md table), on examples and on generated bodies."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from faultproof.contracts import NormalError, normal_form
from faultproof.contracts.normal_form import resolve_pointer

text = st.text(min_size=1, max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)

EXAMPLES = [
    (
        "alana",
        {
            "error": {
                "code": "RATE_001",
                "message": "Rate limit exceeded",
                "request_id": "req_abc123",
            }
        },
        NormalError("RATE_001", "Rate limit exceeded", "req_abc123"),
    ),
    (
        "alana",
        {"error": "Upstream catalog service unavailable", "code": "STREAM_ERROR"},
        NormalError("STREAM_ERROR", "Upstream catalog service unavailable", None),
    ),
    ("aironclaw", {"error": "Redis unavailable"}, NormalError(None, "Redis unavailable", None)),
    ("ainative", {"detail": "Not found"}, NormalError(None, "Not found", None)),
    (
        "ainative",
        {
            "detail": [
                {
                    "loc": ["body", "email"],
                    "msg": "value is not a valid email address",
                    "type": "value_error.email",
                }
            ]
        },
        NormalError(None, "value is not a valid email address", None),
    ),
    (
        "alloy",
        {
            "jsonrpc": "2.0",
            "error": {
                "code": -32029,
                "message": "Rate limit exceeded",
                "data": {"code": "RATE_LIMITED"},
            },
            "id": 1,
        },
        NormalError("RATE_LIMITED", "Rate limit exceeded", None),
    ),
    (
        "airbyte",
        {
            "type": "about:blank",
            "title": "Too Many Requests",
            "status": 429,
            "detail": "Rate limit exceeded",
        },
        NormalError("Too Many Requests", "Rate limit exceeded", None),
    ),
    (
        "airbyte",
        {"error": "invalid_grant", "error_description": "Refresh token expired"},
        NormalError("invalid_grant", "Refresh token expired", None),
    ),
]


@pytest.mark.parametrize(("provider", "body", "expected"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_design_table(provider, body, expected):
    assert normal_form(provider, body) == expected
    assert normal_form(provider, orjson.dumps(body)) == expected


def test_ndjson_stream_yields_its_error_line():
    stream = (
        b'{"id": 1, "name": "shoe"}\n{"id": 2, "name": "boot"}\n'
        b'{"error":"Upstream catalog service unavailable","code":"STREAM_ERROR"}\n'
    )
    assert normal_form("alana", stream) == NormalError(
        "STREAM_ERROR", "Upstream catalog service unavailable", None
    )


def test_non_json_has_an_empty_normal_form():
    assert normal_form("alana", b"<html><body>502 Bad Gateway</body></html>") == NormalError(
        None, None, None
    )


@given(code=text, message=text, request_id=text)
def test_alana_round_trip(code, message, request_id):
    body = {"error": {"code": code, "message": message, "request_id": request_id}}
    assert normal_form("alana", orjson.dumps(body)) == NormalError(code, message, request_id)


@given(msgs=st.lists(text, min_size=1, max_size=5))
def test_ainative_list_detail_takes_first_msg(msgs):
    body = {"detail": [{"loc": ["body", "x"], "msg": m, "type": "value_error"} for m in msgs]}
    assert normal_form("ainative", body).message == msgs[0]


@given(detail=text)
def test_ainative_string_detail_wins(detail):
    assert normal_form("ainative", {"detail": detail}).message == detail


@given(data_code=text, message=text, rpc_code=st.integers(-32768, -32000))
def test_alloy_uses_the_documented_string_code_not_the_integer(data_code, message, rpc_code):
    body = {
        "jsonrpc": "2.0",
        "error": {"code": rpc_code, "message": message, "data": {"code": data_code}},
        "id": "x",
    }
    assert normal_form("alloy", body) == NormalError(data_code, message, None)


@given(
    document=json_values,
    pointer=st.lists(st.text(max_size=4), max_size=4).map(lambda p: "".join("/" + t for t in p)),
)
def test_pointer_resolution_never_raises(document, pointer):
    resolve_pointer(document, pointer)


@given(body=st.binary(max_size=200) | st.text(max_size=200))
def test_any_bytes_give_a_normal_form_without_raising(body):
    for provider in ("alana", "ainative", "aironclaw", "alloy", "airbyte"):
        result = normal_form(provider, body)
        assert isinstance(result, NormalError)


@given(document=json_values)
def test_any_json_gives_a_normal_form_without_raising(document):
    raw = json.dumps(document)
    for provider in ("alana", "ainative", "aironclaw", "alloy", "airbyte"):
        result = normal_form(provider, document)
        assert result.code is None or isinstance(result.code, str)
        assert normal_form(provider, raw) == result


@pytest.mark.parametrize("token", ["²", "٣", "01", "-1", "1e2", ""])
def test_non_ascii_or_non_canonical_indexes_resolve_to_nothing(token):
    assert resolve_pointer(["a", "b", "c", "d"], f"/{token}") is None
