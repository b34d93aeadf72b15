"""A client that cannot run at all is a tool error (exit 2), never graded as failing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = [sys.executable, "-m", "faultproof", "run", "--provider", "alana", "--scenario"]


def _run(tmp_path: Path, *client: str, scenario: str = "alana.RATE_001"):
    report = tmp_path / "report.json"
    done = subprocess.run(
        [*RUN, scenario, *client, "--json", str(report)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    return done, report


def test_a_command_that_does_not_exist_exits_2_with_its_stderr(tmp_path):
    done, report = _run(tmp_path, "--client-cmd", "./no-such-client")
    assert done.returncode == 2, done.stderr
    assert "sent no request and reported no outcome" in done.stderr
    assert "no-such-client: not found" in done.stderr  # the shell's own words
    assert "Traceback" not in done.stderr and not report.exists()


def test_a_client_that_exits_before_any_request_exits_2(tmp_path):
    crash = f"{sys.executable} -c \"import sys; print('boom', file=sys.stderr); sys.exit(3)\""
    done, report = _run(tmp_path, "--client-cmd", crash)
    assert done.returncode == 2, done.stderr
    assert "exit status 3" in done.stderr and "boom" in done.stderr
    assert not report.exists()


def test_a_client_that_sends_a_request_is_graded_even_when_it_then_fails(tmp_path):
    sends_then_crashes = (
        f'{sys.executable} -c "import os, urllib.request, sys; '
        "urllib.request.urlopen(os.environ['FAULTPROOF_BASE_URL'] + '/api/v1/products/42'); "
        'sys.exit(1)"'
    )
    done, report = _run(tmp_path, "--client-cmd", sends_then_crashes)
    assert done.returncode == 1, done.stderr
    assert report.exists()


def test_a_file_path_given_to_client_py_gets_a_hint(tmp_path):
    done, _ = _run(tmp_path, "--client-py", "examples/reference_client.py:client")
    assert done.returncode == 2
    assert "dotted module name" in done.stderr and "examples.reference_client:client" in done.stderr
