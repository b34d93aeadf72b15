"""A non-Python test suite asserts against the mock in-test: Node's built-in test runner runs
examples/node_in_test/ against a live mock (journal filters, count, verdicts)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from faultproof.mocks.serving.inprocess import running_mock
from tests.needs import missing

SUITE = Path(__file__).resolve().parents[2] / "examples" / "node_in_test"


def test_node_suite_plans_counts_and_judges_through_the_control_plane():
    node = shutil.which("node")
    if node is None:
        missing("node is not installed (apt-get install nodejs)")
    with running_mock() as url:
        done = subprocess.run(
            [node, "--test", str(SUITE)],
            env={**os.environ, "FAULTPROOF_MOCK_URL": url},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# pass 2" in done.stdout and "# fail 0" in done.stdout
