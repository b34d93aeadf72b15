"""faultproof import openapi, user catalogues, and the generic surface of an imported provider."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from faultproof.contracts import PROVIDERS, default_catalogue, load_catalogue
from faultproof.contracts.catalogue import CATALOGUE_ENV
from faultproof.contracts.normal_form import resolve_pointer
from faultproof.contracts.openapi_import import DocumentError, import_document, write
from faultproof.mocks.app import create_app
from faultproof.mocks.cli import cli
from faultproof.mocks.config import MockConfig

HERE = Path(__file__).parent
PETSTORE = HERE.parent / "examples" / "petstore_openapi.yaml"
REFERENCE = str(HERE.parent / "examples" / "reference_client.py")

pytest_plugins = ["pytester"]


@pytest.fixture
def petstore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "catalogue"
    result = CliRunner().invoke(
        cli, ["import", "openapi", str(PETSTORE), "--id", "petstore", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "petstore: 3 operations" in result.output
    monkeypatch.setenv(CATALOGUE_ENV, str(out))
    return out


def _texts(node: object) -> set[str]:
    if isinstance(node, dict):
        return {t for v in node.values() for t in _texts(v)}
    return {node} if isinstance(node, str) else set()


def test_documented_sources_point_at_the_text_they_quote(petstore: Path) -> None:
    import yaml

    document = yaml.safe_load(PETSTORE.read_text())
    provider = default_catalogue().provider("petstore")
    documented = [s for s in provider.scenarios.values() if s.source.kind == "documented"]
    assert len(documented) == 6
    for scenario in documented:
        place = resolve_pointer(document, scenario.source.pointer)
        assert place is not None, scenario.id
        last = scenario.source.pointer.rsplit("/", 1)[1]
        assert set(scenario.source.quotes) <= _texts(place) | {last}, scenario.id
    assumed = provider.scenarios["petstore.too_many_long_wait"].source
    assert assumed.kind == "assumed" and "120 s" in (assumed.reason or "")
    assert all(
        s.kind == "assumed" for k, s in provider.policy.sources.items() if k != "wait_sources"
    )
    assert provider.policy.sources["wait_sources"].pointer.endswith("/headers/Retry-After")


def test_the_import_reads_what_the_document_says(petstore: Path) -> None:
    provider = default_catalogue().provider("petstore")
    missing = provider.scenarios["petstore.missing"]
    assert (missing.status, missing.code, missing.message) == (404, "Not Found", "No such pet")
    assert missing.canonical and not provider.scenarios["petstore.deleted"].canonical
    too_many = provider.scenarios["petstore.too_many"]
    assert too_many.retryable and too_many.params["retry_after"] == 2
    assert "honours_retry_after" in too_many.checks
    assert provider.scenarios["petstore.createpet_500"].checks == (
        "parses_envelope",
        "safe_retries",
    )
    generated = provider.scenarios["petstore.getpet_503"]
    assert generated.message == "Down for maintenance"
    assert any("no body" in a for a in generated.source.assumptions)
    assert provider.operations["getpet"].path == "/pets/7"
    assert provider.operations["getpet"].headers["Authorization"].startswith("Bearer ")
    assert "x-pet-key" in {s.name for s in provider.redaction.secrets}


def test_the_generic_surface_serves_it(petstore: Path) -> None:
    client = create_app(MockConfig(providers=("petstore",))).test_client()
    auth = {"Authorization": "Bearer anything"}
    ok = client.get("/petstore/pets/3", headers=auth)
    assert (ok.status_code, ok.json) == (200, {"id": 7, "name": "Rex"})
    refused = client.get("/petstore/pets/3")
    assert refused.status_code == 401 and refused.json["title"] == "Unauthorized"
    assert client.get("/petstore/pets/3", headers={"X-Pet-Key": "k"}).status_code == 200
    assert client.get("/petstore/health").status_code == 204
    asked = client.get("/petstore/pets/3", headers={**auth, "Prefer": "code=429"})
    assert asked.status_code == 429 and asked.headers["Retry-After"] == "2"
    assert client.get("/petstore/nowhere").json["detail"] == "No such pet"
    session = client.post("/__faultproof/sessions", json={}).json
    plan = {"steps": [{"scenario": "petstore.getpet_503"}], "after": "ok"}
    assert client.put(f"/__faultproof/sessions/{session['id']}/plan", json=plan).status_code == 200
    base = session["base_urls"]["petstore"].split("127.0.0.1", 1)[-1].split("/", 1)[-1]
    assert client.get(f"/{base}/pets/1", headers=auth).status_code == 503
    assert client.get(f"/{base}/pets/1", headers=auth).status_code == 200
    journal = client.get(f"/__faultproof/sessions/{session['id']}/journal").json["entries"]
    assert [e["status"] for e in journal] == [503, 200]
    assert "anything" not in json.dumps(journal)
    document = client.get("/petstore/openapi.json").json
    assert "401" in document["paths"]["/pets/{petId}"]["get"]["responses"]


def test_every_command_takes_the_catalogue(petstore: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CATALOGUE_ENV)
    runner = CliRunner()
    listed = runner.invoke(
        cli, ["scenarios", "--catalogue", str(petstore), "--provider", "petstore", "--json"]
    )
    assert listed.exit_code == 0, listed.output
    ids = {s["id"] for s in json.loads(listed.output)}
    assert {"petstore.missing", "fault.hang"} <= ids
    schema = runner.invoke(cli, ["schema", "--catalogue", str(petstore), "petstore"])
    assert json.loads(schema.output)["$id"].endswith("/petstore.json")
    monkeypatch.delenv(CATALOGUE_ENV)  # --catalogue named it for what the command starts
    unknown = runner.invoke(cli, ["schema", "petstore"])
    assert unknown.exit_code == 2 and "petstore" in unknown.output


def test_the_reference_client_is_graded_against_it(petstore: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--catalogue",
            str(petstore),
            "--client-cmd",
            f"{sys.executable} {REFERENCE}",
            "--provider",
            "petstore",
            "--scenario",
            "petstore.*",
            "--json",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    results = json.loads(report.read_text())["results"]
    assert {r["scenario"] for r in results} >= {"petstore.missing", "petstore.too_many"}
    assert all(r["verdict"] == "pass" for r in results), [
        r for r in results if r["verdict"] != "pass"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"swagger": "2.0", "paths": {}}', "Swagger 2.0"),
        ('{"openapi": "4.0.0", "paths": {}}', "/openapi is '4.0.0'"),
        ('{"openapi": "3.1.0", "paths": {}}', "/paths is missing or empty"),
        (
            '{"openapi": "3.0.0", "paths": {"/a": {"get": {"responses": {"404": {"$ref": "#/components/responses/x"}}}}}}',
            "/paths/~1a/get/responses/404/$ref points at #/components/responses/x",
        ),
        (
            '{"openapi": "3.0.0", "paths": {"/a": {"get": {"responses": {"404": {"$ref": "other.yaml#/x"}}}}}}',
            "only references inside the document",
        ),
        (
            '{"openapi": "3.0.0", "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}}',
            "no error response",
        ),
        ("openapi: [", "neither JSON nor YAML"),
    ],
)
def test_bad_documents_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(text)
    with pytest.raises(DocumentError, match=None) as caught:
        import_document(path, "bad")
    assert message in str(caught.value)
    result = CliRunner().invoke(
        cli, ["import", "openapi", str(path), "--id", "bad", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_user_catalogues_are_validated_as_strictly(petstore: Path, tmp_path: Path) -> None:
    data = petstore / "providers" / "petstore.yaml"
    data.write_text(data.read_text().replace("retryable: false", "retryable: maybe", 1))
    result = CliRunner().invoke(cli, ["scenarios", "--catalogue", str(petstore)])
    assert result.exit_code == 2 and "petstore.yaml" in result.output
    clash = tmp_path / "clash"
    imported = import_document(PETSTORE, "alana")
    write(imported, clash)
    with pytest.raises(Exception, match="'alana' is already loaded"):
        load_catalogue(extra=[clash], use_cache=False)
    assert (
        CliRunner().invoke(cli, ["import", "openapi", str(PETSTORE), "--id", "Bad-Id"]).exit_code
        == 2
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_round_trip_of_the_built_in_documents(provider: str, tmp_path: Path) -> None:
    document = (
        create_app(MockConfig(providers=(provider,))).test_client().get(f"/{provider}/openapi.json")
    )
    path = tmp_path / f"{provider}.json"
    path.write_bytes(document.data)
    write(import_document(path, f"rt_{provider}"), tmp_path / "out")
    imported = load_catalogue(extra=[tmp_path / "out"], use_cache=False).provider(f"rt_{provider}")
    built_in = default_catalogue().provider(provider)
    compared = 0
    for scenario in imported.scenarios.values():
        original = built_in.scenarios.get(f"{provider}.{scenario.name}")
        if original is None:
            continue
        compared += 1
        assert (scenario.status, scenario.code, scenario.message) == (
            original.status,
            original.code,
            original.message,
        ), scenario.name
    assert compared == len(_example_names(document.json)) > 0


def _example_names(document: dict) -> set[str]:
    """The names of the error examples a document holds: the scenarios it describes."""
    return {
        name
        for item in document["paths"].values()
        for operation in item.values()
        for status, response in operation.get("responses", {}).items()
        if status[0] in "45"
        for media in response.get("content", {}).values()
        for name in media.get("examples", {})
    }


def test_the_catalogue_env_reaches_a_default_catalogue(petstore: Path) -> None:
    assert "petstore" in default_catalogue().providers
    assert os.environ[CATALOGUE_ENV] == str(petstore)


def test_the_pytest_plugin_loads_catalogues_from_the_ini_file(
    petstore: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOGUE_ENV, "")
    shutil.copytree(petstore, pytester.path / "catalogue")
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\nfaultproof_catalogue = catalogue\n")
    pytester.makepyfile(
        """
        import httpx, pytest

        @pytest.mark.faultproof(provider="petstore", scenario=["missing", "too_many"])
        def test_it(faultproof_session, faultproof_scenario):
            op = faultproof_session.operation
            answer = httpx.get(faultproof_session.base_url + op.path, headers=dict(op.headers))
            assert answer.status_code == faultproof_scenario.scenario.status
        """
    )
    result = pytester.runpytest_subprocess("-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_it?petstore.missing? PASSED*"])
    bad = pytester.runpytest_subprocess("--faultproof-catalogue", "nowhere")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*faultproof catalogue: */nowhere: no such folder*"])


def test_run_takes_the_catalogue_from_pyproject(
    petstore: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOGUE_ENV, "")
    project = tmp_path / "project"
    shutil.copytree(petstore, project / "catalogue")
    (project / "pyproject.toml").write_text(
        '[tool.faultproof]\ncatalogue = ["catalogue"]\nprovider = ["petstore"]\n'
        f'scenario = ["petstore.missing"]\nclient-cmd = "{sys.executable} {REFERENCE}"\n'
        'json = "report.json"\n'
    )
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 0, result.output
    results = json.loads((project / "report.json").read_text())["results"]
    assert [(r["scenario"], r["verdict"]) for r in results] == [("petstore.missing", "pass")]


def test_judge_and_openapi_take_the_catalogue(
    petstore: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = create_app(MockConfig(providers=("petstore",))).test_client()
    session = client.post("/__faultproof/sessions", json={}).json["id"]
    plan = {"steps": [{"scenario": "petstore.missing"}], "after": "repeat_last"}
    client.put(f"/__faultproof/sessions/{session}/plan", json=plan)
    for _ in range(3):  # a client that retries a documented, non-retryable 404
        assert client.get(f"/s/{session}/petstore/pets/7").status_code == 404
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps(client.get(f"/__faultproof/sessions/{session}/journal").json))
    monkeypatch.delenv(CATALOGUE_ENV)
    runner = CliRunner()
    judged = runner.invoke(cli, ["judge", "--catalogue", str(petstore), "--journal", str(journal)])
    assert judged.exit_code == 1, judged.output
    assert "FAIL petstore.missing stops_on_non_retryable: sent 3 requests" in judged.output
    monkeypatch.delenv(CATALOGUE_ENV)
    document = runner.invoke(cli, ["openapi", "--catalogue", str(petstore), "petstore"])
    assert document.exit_code == 0, document.output
    assert "/pets/{petId}" in json.loads(document.output)["paths"]


def test_serve_workers_all_load_the_catalogue(petstore: Path) -> None:
    """`serve --workers 2` starts its workers with the catalogue --catalogue named: answers on
    fresh connections (which the kernel spreads over the workers) all come from it."""
    import httpx

    from tests.mock.conftest import _start

    os.environ.pop(CATALOGUE_ENV)  # restored by the fixture's monkeypatch
    proc, url = _start("--catalogue", str(petstore), "--workers", "2", "--state", "sqlite://")
    try:
        answers = {
            httpx.get(f"{url}/petstore/pets/7", headers={"X-Pet-Key": "k"}, timeout=30).status_code
            for _ in range(20)
        }
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert answers == {200}


def test_a_bad_catalogue_folder_is_named_and_not_kept(
    petstore: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faultproof.contracts import FaultproofError
    from faultproof.contracts.catalogue import add_user_dirs

    with pytest.raises(FaultproofError, match="nowhere: no such folder"):
        add_user_dirs([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FaultproofError, match="empty is no catalogue folder"):
        add_user_dirs([tmp_path / "empty"])
    assert os.environ[CATALOGUE_ENV] == str(petstore)  # as the fixture set it
    monkeypatch.delenv(CATALOGUE_ENV)
    with pytest.raises(FaultproofError):
        add_user_dirs([tmp_path / "nowhere"])
    assert CATALOGUE_ENV not in os.environ
