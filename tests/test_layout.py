"""The package layout DESIGN.md fixes: one import name, contracts free of Flask."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_contracts_never_import_flask(tmp_path):
    result = _python(
        "import sys, faultproof.contracts as c; c.default_catalogue();"
        "c.normal_form('alana', b'{}');"
        "assert 'flask' not in sys.modules and 'werkzeug' not in sys.modules, sorted(sys.modules)",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr


def test_no_top_level_contracts_or_mocks(tmp_path):
    for name in ("contracts", "mocks"):
        result = _python(f"import {name}", tmp_path)
        assert result.returncode != 0
        assert "ModuleNotFoundError" in result.stderr


def test_users_own_contracts_folder_does_not_shadow_ours(tmp_path):
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "__init__.py").write_text("MINE = True\n")
    result = _python(
        "import contracts, faultproof.contracts as c; assert contracts.MINE; c.default_catalogue()",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr


def test_wheel_maps_folders_onto_faultproof(tmp_path):
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("faultproof-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("faultproof-")}
    assert tops == {"faultproof"}
    for needed in (
        "faultproof/contracts/faults.yaml",
        "faultproof/contracts/providers/alana.yaml",
        "faultproof/contracts/schemas/_catalogue.json",
    ):
        assert needed in names
    # Every module of every folder, so that a new subpackage cannot be left out of the wheel.
    for folder, name in (("contracts", "contracts"), ("mocks", "mocks"), ("package", "")):
        for module in (ROOT / folder).rglob("*.py"):
            inside = module.relative_to(ROOT / folder).as_posix()
            assert "/".join(filter(None, ("faultproof", name, inside))) in names, module
