"""GitHub's official OpenAPI description (npm @octokit/openapi) imported, served and graded."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from faultproof.contracts import default_catalogue
from faultproof.contracts.catalogue import CATALOGUE_ENV
from faultproof.mocks.app import create_app
from faultproof.mocks.cli import cli
from faultproof.mocks.config import MockConfig
from tests.needs import missing

REFERENCE = str(Path(__file__).parent.parent / "examples" / "reference_client.py")


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Path:
    document = os.environ.get("FAULTPROOF_GITHUB_OPENAPI", "")
    if not Path(document).is_file():
        missing(
            "GitHub's OpenAPI description: npm install @octokit/openapi and point "
            "FAULTPROOF_GITHUB_OPENAPI at its generated/api.github.com.json"
        )
    out = tmp_path_factory.mktemp("github")
    result = CliRunner().invoke(
        cli, ["import", "openapi", document, "--id", "github", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def test_it_imports_with_honest_provenance(github: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CATALOGUE_ENV, str(github))
    provider = default_catalogue().provider("github")
    assert len(provider.operations) > 1000
    not_found = provider.scenarios["github.not_found"]
    assert (not_found.status, not_found.message) == (404, "Resource not found")
    assert not_found.source.pointer == "/components/responses/not_found"
    assert any("generated from the schema" in a for a in not_found.source.assumptions)
    assert all(
        s.kind == "assumed" for k, s in provider.policy.sources.items() if k != "wait_sources"
    )


def test_it_is_served_and_graded(
    github: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOGUE_ENV, str(github))
    client = create_app(MockConfig(providers=("github",))).test_client()
    issue = client.get("/github/repos/octocat/hello-world/issues/1")
    assert issue.status_code == 200 and issue.json["number"] == 1347
    asked = client.get("/github/repos/octocat/hello-world", headers={"Prefer": "code=503"})
    assert asked.status_code == 503 and asked.headers["X-Faultproof-Scenario"].startswith("github.")
    report = tmp_path / "github.json"
    chosen = [
        "github.not_found",
        "github.service_unavailable",
        "github.validation_failed",
        "fault.malformed_json",
    ]
    args = ["run", "--catalogue", str(github), "--client-cmd", f"{sys.executable} {REFERENCE}"]
    args += ["--provider", "github", "--json", str(report)]
    for scenario in chosen:
        args += ["--scenario", scenario]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    results = json.loads(report.read_text())["results"]
    assert sorted(r["scenario"] for r in results) == sorted(chosen)
    assert all(r["verdict"] == "pass" for r in results), results
