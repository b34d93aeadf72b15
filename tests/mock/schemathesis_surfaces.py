"""schemathesis against a live mock, one surface at a time: each provider and the control plane.

Shared by ``test_openapi.py`` (a CI-sized run per surface) and ``bench/hardening_schemathesis.py``
(the big recorded run). Each run uses schemathesis's every default check (no 5xx, status codes,
content types, headers and bodies valid against the document, negative data rejected, schema-valid
data accepted) and its JSON report, whose ``test_cases.generated`` is the count of cases tried.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from session_load import raised_limits

from faultproof.contracts import PROVIDERS, default_catalogue

CONTROL = "control"
SURFACES = (*PROVIDERS, CONTROL)

#: Each provider's credentials for schemathesis, taken from its catalogue's default operation.
AUTH = {
    p: default_catalogue()
    .provider(p)
    .operations[default_catalogue().provider(p).default_operation]
    .headers
    for p in PROVIDERS
}

#: Operations where a 400 may answer schema-valid data, and why the document cannot say more.
#: AIronClaw's seed says "`URI already in use on this MCP server` | Resource URI collision" under
#: 400 Bad Request (a state conflict, not a 409). A plan step's ``params`` must fit its scenario
#: and a literal response's status be an integer (``236.0`` is one to JSON Schema), which a
#: schema over every scenario cannot express: the mock answers 400 saying which.
ACCEPTS_400 = {
    "aironclaw": [
        "POST /api/mcp/{mcp_id}/resources",
        "PATCH /api/mcp/{mcp_id}/resources/{resource_id}",
    ],
    CONTROL: ["PUT /sessions/{session_id}/plan"],
}


#: Operations whose documented answer is a 5xx, which schemathesis' "no server error" check
#: fails whatever the document says. AIronClaw documents 502 "Upstream MCP unreachable" for a
#: tool refresh whose MCP server cannot be reached; a generated server URL never can.
DOCUMENTED_5XX = {"aironclaw": ["POST /api/mcp/{mcp_id}/tools"]}


@dataclass(frozen=True)
class SurfaceRun:
    """One schemathesis run: its exit code, its JSON report and its console output."""

    surface: str
    returncode: int
    report: dict[str, Any]
    output: str

    @property
    def cases(self) -> int:
        return int(self.report["test_cases"]["generated"])


def serve_args(surface: str) -> list[str]:
    """``faultproof serve`` arguments: one provider with every counted limit raised, so fuzzing
    reaches the logic behind the limits; the control plane with every provider served."""
    if surface == CONTROL:
        return []
    return ["--providers", surface, *raised_limits((surface,))]


def _config(surface: str) -> str:
    lines = []
    for name in ACCEPTS_400.get(surface, []):
        lines += [
            "[[operations]]",
            f'include-name = "{name}"',
            'checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", '
            '"404", "409", "429"]',
            "",
        ]
    for name in DOCUMENTED_5XX.get(surface, []):
        lines += [
            "[[operations]]",
            f'include-name = "{name}"',
            "checks.not_a_server_error.enabled = false",
            "",
        ]
    return "\n".join(lines)


def _control_document(url: str, workdir: Path) -> Path:
    """The served control-plane document, its webhook receiver pinned to the mock itself.

    Generated receiver URLs name hosts the mock refuses to deliver to (loopback only) and the
    mock never delivers to its own control plane; a provider route of the mock is a loopback
    receiver that answers at once (405 to a POST), which the mock reports.
    """
    document = httpx.get(f"{url}/__faultproof/openapi.json", timeout=10).json()
    webhook = document["paths"]["/sessions/{session_id}/webhooks"]["post"]
    schema = webhook["requestBody"]["content"]["application/json"]["schema"]
    schema["properties"]["url"] = {"const": f"{url}/ainative/openapi.json"}
    path = workdir / "control-openapi.json"
    path.write_text(json.dumps(document))
    return path


def run_surface(
    surface: str, url: str, workdir: Path, max_examples: int, seed: int = 1
) -> SurfaceRun:
    """schemathesis (coverage, fuzzing, stateful phases, every default check) on ``surface``."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "schemathesis.toml").write_text(_config(surface))
    report = workdir / "report.json"
    if surface == CONTROL:
        target = [str(_control_document(url, workdir)), "--url", f"{url}/__faultproof"]
    else:
        headers = AUTH[surface].items()
        target = [f"{url}/{surface}/openapi.json"]
        target += [arg for name, value in headers for arg in ("-H", f"{name}: {value}")]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            *target,
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=workdir,
        timeout=1800,
    )
    data = json.loads(report.read_text()) if report.exists() else {"test_cases": {"generated": 0}}
    return SurfaceRun(surface, result.returncode, data, result.stdout + result.stderr)
