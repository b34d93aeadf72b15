"""The reference client passes every applicable check of the whole catalogue (issue 6)."""

from __future__ import annotations

import sys
from pathlib import Path

from faultproof.contracts import default_catalogue
from faultproof.contracts.adapters import PythonClient
from faultproof.contracts.control_client import MockControl
from faultproof.contracts.runner import Runner, select
from faultproof.mocks.serving.inprocess import running_mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def test_reference_client_passes_the_whole_catalogue():
    catalogue = default_catalogue()
    pairs = select(catalogue)
    with running_mock() as url:
        report = Runner(
            PythonClient("examples.reference_client:client"),
            MockControl(url),
            catalogue,
            workers=32,
        ).run(pairs)
    failures = [
        (r.scenario, r.provider, c.id, c.detail)
        for r in report.results
        for c in r.checks
        if c.verdict == "fail"
    ]
    errors = [(r.scenario, r.provider, r.error) for r in report.results if r.error]
    assert not failures and not errors, (failures[:10], errors[:10])
    assert report.summary["scenarios"] == len(pairs) > 200
    assert report.summary["passed"] >= len(pairs) - 2
