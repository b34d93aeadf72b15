"""Journal filters, counts and verdicts on the control plane (for test suites in any language)."""

from __future__ import annotations

import pytest

from faultproof.contracts.capture import read_journal
from faultproof.contracts.judge import judge

KEY = {"X-API-Key": "alana_test_key"}


@pytest.fixture
def session(make_app):
    client = make_app("alana", "ainative").test_client()
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    base = f"/s/{sid}/alana/api/v1/products"
    client.get(f"{base}/42", headers={**KEY, "Prefer": "code=429"})
    client.get(f"{base}/42", headers=KEY)
    client.post(base, headers={**KEY, "Prefer": "code=500"}, json={"id": "a"})
    client.get(f"/s/{sid}/ainative/v1/auth/me")
    return client, sid


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 4),
        ("method=get", 3),
        ("method=POST", 1),
        ("status=429", 1),
        ("status=4xx", 2),  # the 429 and AINative's 401
        ("status=2xx", 1),
        ("path=/api/v1/products/*", 2),
        ("scenario=alana.*", 2),
        ("provider=ainative", 1),
        ("method=GET&status=4xx&provider=alana", 1),
    ],
)
def test_filters_and_count_agree(session, query, expected):
    client, sid = session
    entries = client.get(f"/__faultproof/sessions/{sid}/journal?{query}").get_json()["entries"]
    counted = client.get(f"/__faultproof/sessions/{sid}/journal/count?{query}").get_json()
    assert len(entries) == counted["count"] == expected
    assert counted["dropped"] == 0 and counted["in_flight"] == 0


@pytest.mark.parametrize(
    ("query", "needle"),
    [("stat=429", "unknown journal filter 'stat'"), ("status=42", "expected a code")],
)
def test_a_bad_filter_is_the_mocks_400_naming_the_filters(session, query, needle):
    client, sid = session
    for path in ("journal", "journal/count"):
        answer = client.get(f"/__faultproof/sessions/{sid}/{path}?{query}")
        assert answer.status_code == 400 and answer.headers["X-Faultproof-Error"] == "bad-request"
        assert needle in answer.get_json()["faultproof_error"]
        assert answer.get_json()["valid"] == ["method", "path", "status", "scenario", "provider"]


def test_verdicts_grade_the_session_as_faultproof_judge_grades_its_export(session, tmp_path):
    client, sid = session
    answer = client.post(f"/__faultproof/sessions/{sid}/verdicts")
    assert answer.status_code == 200 and answer.content_type == "application/json"
    served = answer.get_json()
    export = tmp_path / "journal.json"
    export.write_bytes(client.get(f"/__faultproof/sessions/{sid}/journal").data)
    from_file = judge(export, "journal")
    assert [(r["scenario"], r["verdict"]) for r in served["results"]] == [
        (r.scenario, r.verdict) for r in from_file.report.results
    ]
    assert served["results"] and served["meta"]["in_flight (not graded)"] == 0
    assert len(read_journal(export)) == served["meta"]["requests"]


def test_verdicts_of_an_unknown_session_or_an_empty_one(make_app):
    client = make_app("alana").test_client()
    assert client.post("/__faultproof/sessions/nope/verdicts").status_code == 404
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    empty = client.post(f"/__faultproof/sessions/{sid}/verdicts").get_json()
    assert empty["results"] == []
