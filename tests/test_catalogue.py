"""The bundled catalogue: it loads, its ids are unique and its invariants hold."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml

from faultproof.contracts import (
    PROVIDERS,
    CatalogueError,
    FaultproofError,
    UnknownIdError,
    default_catalogue,
    load_catalogue,
)
from faultproof.contracts.schemas import load_schema

DESIGN_FIELDS = {"id", "provider", "status", "code", "message", "retryable", "checks", "source"}
DESIGN_FAULTS = {
    "hang",
    "drop",
    "truncated_body",
    "malformed_json",
    "html_502",
    "slow_drip",
    "delay",
}
CHECK_IDS = set(
    load_schema("_catalogue")["$defs"]["scenario"]["properties"]["checks"]["items"]["enum"]
)


def test_every_design_provider_is_catalogued():
    assert set(default_catalogue().providers) == set(PROVIDERS)


def test_catalogue_is_large_and_ids_unique():
    scenarios = default_catalogue().scenarios()
    ids = [s.id for s in scenarios]
    assert len(ids) == len(set(ids))
    assert len(ids) > 80


def test_ids_have_provider_prefix():
    for s in default_catalogue().scenarios():
        assert s.id == f"{s.provider or 'fault'}.{s.name}"


def test_generic_faults_are_the_design_ones():
    faults = default_catalogue().faults
    assert {s.name for s in faults.values()} >= DESIGN_FAULTS
    assert all(s.kind == "fault" and s.provider is None and s.fault for s in faults.values())


def test_check_ids_are_exactly_designs():
    design = {
        "parses_envelope",
        "stops_on_non_retryable",
        "retries_retryable",
        "honours_retry_after",
        "caps_retry_after",
        "bounded_attempts",
        "backs_off",
        "times_out",
        "detects_stream_error",
        "refreshes_token",
        "handles_non_json",
        "recovers",
        "safe_retries",
    }
    assert design == CHECK_IDS
    for s in default_catalogue().scenarios():
        assert set(s.checks) <= CHECK_IDS


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_error_body_has_a_normal_form_message(provider):
    for s in default_catalogue().provider(provider).scenarios.values():
        if s.kind in ("error", "stream_error") and not isinstance(s.body, str):
            assert s.message, f"{s.id}: no message in its normal form"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_error_status_has_one_canonical(provider):
    p = default_catalogue().provider(provider)
    statuses = {s.status for s in p.scenarios.values() if s.kind == "error"}
    for status in statuses:
        assert p.canonical(status).status == status
    with pytest.raises(UnknownIdError, match="Valid"):
        p.canonical(418)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_retryable_agrees_with_policy(provider):
    p = default_catalogue().provider(provider)
    for s in p.scenarios.values():
        if s.kind == "error" and s.retryable != p.policy.is_retryable(s.status):
            assert s.retryable_reason, s.id


@pytest.mark.parametrize("provider", PROVIDERS)
def test_operations_exist_for_every_scenario(provider):
    p = default_catalogue().provider(provider)
    for s in p.scenarios.values():
        op = p.operation_for(s)
        assert op.path.startswith("/")


def test_non_idempotent_operations_carry_safe_retries_somewhere():
    """safe_retries must be exercised: some scenario on a non-idempotent operation uses it."""
    c = default_catalogue()
    used = [
        s
        for p in c.providers.values()
        for s in p.scenarios.values()
        if "safe_retries" in s.checks and not p.operation_for(s).idempotent
    ]
    assert used


def test_to_json_has_design_fields():
    for s in default_catalogue().scenarios():
        data = s.to_json(now=1_700_000_000)
        assert set(data) >= DESIGN_FIELDS
        assert data["status"] is None or isinstance(data["status"], int)
        assert isinstance(data["retryable"], bool)
        assert data["source"]["kind"] in ("documented", "assumed")
        assert ("quote" in data["source"]) == (data["source"]["kind"] == "documented")
        assert ("reason" in data["source"]) == (data["source"]["kind"] == "assumed")


def test_render_fills_parameters():
    s = default_catalogue().scenario("alana.RATE_001")
    r = s.render({"retry_after": 7}, now=1_000)
    assert r.status == 429
    assert r.headers["Retry-After"] == "7"
    assert r.headers["X-RateLimit-Reset"] == "1007"
    assert r.headers["Content-Type"] == "application/json"
    assert r.body["error"]["code"] == "RATE_001"


def test_render_http_date_never_asks_for_less_than_the_wait():
    from email.utils import parsedate_to_datetime

    s = default_catalogue().scenario("alana.RATE_001_http_date")
    r = s.render({"retry_after": 3}, now=1_000.4)
    assert parsedate_to_datetime(r.headers["Retry-After"]).timestamp() >= 1_003.4


def test_render_refuses_unknown_parameter_listing_valid_ones():
    s = default_catalogue().scenario("alana.RATE_001")
    with pytest.raises(UnknownIdError, match="retry_after"):
        s.render({"retry_aftr": 1})


def test_render_refuses_wrong_type():
    s = default_catalogue().scenario("alana.RATE_001")
    with pytest.raises(FaultproofError, match="takes a finite number from"):
        s.render({"retry_after": "soon"})


def test_lookup_by_short_name_and_did_you_mean():
    c = default_catalogue()
    assert c.scenario("RATE_001", provider="alana").id == "alana.RATE_001"
    with pytest.raises(UnknownIdError, match=r"Did you mean 'alana\.RATE_001'"):
        c.scenario("alana.RATE_01")
    with pytest.raises(UnknownIdError, match=r"Valid: .*alana"):
        c.provider("alanna")


def _copy_data(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    src = resources.files("faultproof.contracts")
    shutil.copytree(str(src / "providers"), root / "providers")
    shutil.copy(str(src / "faults.yaml"), root / "faults.yaml")
    return root


def _edit(root: Path, provider: str, edit) -> None:
    path = root / "providers" / f"{provider}.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["scenarios"].append(dict(d["scenarios"][0])), "duplicate scenario id"),
        (
            lambda d: (
                d["scenarios"][0].update(canonical=True) or d["scenarios"][1].update(canonical=True)
            ),
            "both canonical",
        ),
        (
            lambda d: d["scenarios"][0].update(body={"error": "flat"}),
            "body breaks schemas/alana.json",
        ),
        (lambda d: d["scenarios"][0].update(retryable=True), "says retryable=True"),
        (lambda d: d["scenarios"][0].update(checks=["honors_retry_after"]), "honors_retry_after"),
        (lambda d: d["scenarios"][0]["source"].pop("quote"), "quote"),
        (lambda d: d["scenarios"][0].update(operation="nope"), "unknown operation"),
        (lambda d: d["scenarios"][0].update(headers={"X": "{{missing}}"}), "undefined parameters"),
        (lambda d: d["policy"]["sources"].pop("max_attempts"), "max_attempts"),
    ],
    ids=[
        "duplicate",
        "two-canonical",
        "bad-body",
        "retryable-mismatch",
        "bad-check",
        "no-quote",
        "bad-operation",
        "bad-placeholder",
        "policy-without-source",
    ],
)
def test_invalid_catalogue_is_refused_with_a_clear_error(tmp_path, edit, message):
    root = _copy_data(tmp_path)
    _edit(root, "alana", edit)
    with pytest.raises(FaultproofError, match=message):
        load_catalogue(root)


def test_invalid_yaml_is_a_catalogue_error(tmp_path):
    root = _copy_data(tmp_path)
    (root / "providers" / "alana.yaml").write_text("provider: [unclosed\n")
    with pytest.raises(CatalogueError, match="not valid YAML"):
        load_catalogue(root)


def test_cache_returns_the_validated_catalogue(tmp_path, monkeypatch):
    from faultproof.contracts import cache

    monkeypatch.setenv("FAULTPROOF_CACHE_DIR", str(tmp_path))
    fresh = load_catalogue(use_cache=False)
    first = load_catalogue()
    assert list(tmp_path.glob("catalogue-*.json"))
    second = load_catalogue()
    assert [s.to_json(now=0) for s in second.scenarios()] == [
        s.to_json(now=0) for s in fresh.scenarios()
    ]
    assert second.providers["alana"].policy == first.providers["alana"].policy
    # A corrupt cache entry is ignored, never trusted.
    for entry in tmp_path.glob("catalogue-*.json"):
        entry.write_bytes(b"not json")
    assert len(load_catalogue().scenarios()) == len(fresh.scenarios())
    assert cache.key(resources.files("faultproof.contracts")) == cache.key(
        resources.files("faultproof.contracts")
    )


def test_edited_data_is_validated_again(tmp_path, monkeypatch):
    monkeypatch.setenv("FAULTPROOF_CACHE_DIR", str(tmp_path / "cache"))
    root = _copy_data(tmp_path)
    load_catalogue(root)
    _edit(root, "alana", lambda d: d["scenarios"][0].update(retryable=True))
    with pytest.raises(CatalogueError, match="says retryable=True"):
        load_catalogue(root)
