"""Every curl command the README shows runs, with curl, against a live ``faultproof serve`` and
prints what the README says it prints, so the README cannot drift from the mock.

The README's output is compared as a reader would: the status line and each header shown must
be there (values that change from run to run, like ``X-RateLimit-Reset``, only in form), a JSON line must
equal the answer's, and a line cut with ``...`` must start the answer's line.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.needs import missing

README = Path(__file__).resolve().parent.parent / "README.md"
#: Headers whose values change from run to run (clock readings, random ids): the README shows
#: one value, a run gives another of the same form.
VOLATILE_HEADERS = {
    "x-ratelimit-reset": r"\d+",
    "date": r".+ GMT",
    "mcp-session-id": r"[0-9a-f]{32}",
}
#: The servers the README's curl commands talk to, by port: ``faultproof serve`` (8080), the
#: same with the imported Petstore catalogue (8081), and ``faultproof proxy`` in front of a
#: static file server (8082), as the section "Your own provider" starts them.
PORTS = ("8080", "8081", "8082")
PETSTORE = README.parent / "examples" / "petstore_openapi.yaml"


@dataclass(frozen=True)
class Shown:
    """One ``$ curl ...`` of the README and the lines it shows below it."""

    command: str
    output: tuple[str, ...]
    line: int

    @property
    def id(self) -> str:
        return f"README:{self.line}"


def shown_commands(text: str) -> list[Shown]:
    """The curl commands of the README's console blocks that run on their own (no ``$SID``)."""
    found: list[Shown] = []
    lines = text.splitlines()
    inside, i = False, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            inside = line == "```console"
            i += 1
            continue
        if not (inside and line.startswith("$ ")):
            i += 1
            continue
        start, command = i + 1, line[2:]
        while command.endswith("\\") or not _complete(command):
            i += 1
            command = command.removesuffix("\\") + " " + lines[i].strip()
        output = []
        i += 1
        while i < len(lines) and not lines[i].startswith(("$ ", "# ", "```")) and lines[i]:
            output.append(lines[i])
            i += 1
        if command.startswith("curl ") and "$" not in command:
            found.append(Shown(command, tuple(output), start))
    return found


def _complete(command: str) -> bool:
    """Whether the shell would run ``command`` as it is (no quote left open)."""
    try:
        shlex.split(command)
    except ValueError:
        return False
    return True


COMMANDS = shown_commands(README.read_text(encoding="utf-8"))


def test_the_readme_shows_curl_commands_with_their_output():
    assert len(COMMANDS) >= 15
    assert all(c.output for c in COMMANDS), [c.id for c in COMMANDS if not c.output]


@pytest.fixture(scope="module")
def server():
    if shutil.which("curl") is None:
        missing("curl is not installed (apt-get install curl)")
    from tests.mock.conftest import _start

    proc, url = _start()
    yield url
    proc.terminate()
    proc.communicate(timeout=15)


@pytest.fixture(scope="module")
def own_provider(tmp_path_factory):
    """What "Your own provider" starts: the Petstore document imported and served, and the
    proxy in front of a file server holding ``api/pets/7``. Its servers' URLs, by port."""
    from click.testing import CliRunner

    from faultproof.mocks.cli import cli
    from tests.mock.conftest import _start, free_port

    folder = tmp_path_factory.mktemp("own")
    catalogue = folder / "faultproof-catalogue"
    args = ["import", "openapi", str(PETSTORE), "--id", "petstore", "--out", str(catalogue)]
    imported = CliRunner().invoke(cli, args)
    assert imported.exit_code == 0, imported.output
    (folder / "api" / "pets").mkdir(parents=True)
    (folder / "api" / "pets" / "7").write_text('{"id": 7, "name": "Rex"}\n')
    port = free_port()
    files = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=folder / "api",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    served = _start("--catalogue", str(catalogue))
    proxied = _start(
        "--catalogue",
        str(catalogue),
        "--upstream",
        f"http://127.0.0.1:{port}",
        "--provider",
        "petstore",
        verb="proxy",
    )
    yield {"8081": served[1], "8082": proxied[1]}
    for proc in (files, served[0], proxied[0]):
        proc.terminate()
        proc.communicate(timeout=15)


def _run(command: str, urls: dict[str, str]) -> str:
    for port, url in urls.items():
        for host in (f"http://127.0.0.1:{port}", f"localhost:{port}"):
            command = command.replace(host, url)
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.replace("\r\n", "\n")


def _matches(shown: str, actual: str) -> bool:
    if shown.endswith("..."):
        return actual.startswith(shown[:-3].rstrip())
    try:
        return json.loads(shown) == json.loads(actual)
    except json.JSONDecodeError:
        return shown == actual


@pytest.mark.parametrize("shown", COMMANDS, ids=lambda c: c.id)
def test_each_readme_curl_prints_what_the_readme_shows(request, server, shown):
    urls = {"8080": server}
    if any(f":{port}" in shown.command for port in PORTS[1:]):
        urls.update(request.getfixturevalue("own_provider"))
    actual = _run(shown.command, urls)
    output = list(shown.output)
    if output and output[0].startswith("HTTP/"):
        head, _, body = actual.partition("\n\n")
        status, *header_lines = head.splitlines()
        assert status == output.pop(0)
        headers = {}
        for header in header_lines:
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        while output and re.match(r"^[A-Za-z-]+: ", output[0]):
            name, _, value = output.pop(0).partition(": ")
            assert name.lower() in headers, f"{name} not in {sorted(headers)}"
            if name.lower() in VOLATILE_HEADERS:
                assert re.fullmatch(VOLATILE_HEADERS[name.lower()], headers[name.lower()])
            else:
                assert headers[name.lower()] == value, name
        actual = body
    answer = [line for line in actual.splitlines() if line]
    assert len(answer) == len(output), f"{shown.id}: {answer!r}"
    for want, got in zip(output, answer, strict=True):
        assert _matches(want, got), f"{shown.id}\nREADME: {want}\nmock:   {got}"


def trigger_examples(text: str) -> list[str]:
    """The example column of the README's table of trigger spellings."""
    section = text.split("### Asking for a documented error", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]  # no header
    return [example for row in rows for example in re.findall(r"`([^`]+)`", row.split("|")[2])]


TRIGGERS = trigger_examples(README.read_text(encoding="utf-8"))


def test_the_trigger_table_has_an_example_of_each_spelling():
    spellings = {t.split(":")[0] if ":" in t else t[:3] for t in TRIGGERS}
    assert {"Prefer", "X-Faultproof-Scenario", "?__"} <= spellings, TRIGGERS


@pytest.mark.parametrize("example", TRIGGERS)
def test_each_trigger_example_of_the_readme_is_one_the_mock_takes(server, example):
    import httpx

    url, headers = server + "/alana/api/v1/products/42", {"X-API-Key": "alana_test_key"}
    if example.startswith("?"):
        url += example
    else:
        name, _, value = example.partition(": ")
        if not value:  # a bare `scenario=...` continues the Prefer example before it
            name, value = "Prefer", example
        headers[name] = value
    try:
        answer = httpx.get(url, headers=headers, timeout=2)
    except httpx.ReadTimeout:  # fault.hang: held, as asked; the mock answers nothing
        assert "fault.hang" in example
        return
    assert "x-faultproof-error" not in answer.headers, answer.text
    assert answer.headers["x-faultproof-scenario"].startswith("alana."), example
