"""Shared fixtures: the seed documents, and isolation of process-wide caches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from faultproof.contracts import catalogue, schemas
from tests.needs import missing

# Timing belongs in bench/, not in tests: a first example that loads the catalogue must not fail
# on hypothesis's per-example deadline.
settings.register_profile("faultproof", deadline=None)
settings.load_profile("faultproof")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory):
    """The catalogue cache goes to a folder of this test run, not the user's home."""
    os.environ["FAULTPROOF_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The provider documents (``FAULTPROOF_SEEDS_DIR``, else ``../shared/seeds``).

    Outside CI a missing folder skips the provenance tests with the reason; in CI it fails them,
    because a provenance check that never ran proves nothing.
    """
    folder = Path(os.environ.get("FAULTPROOF_SEEDS_DIR", DEFAULT_SEEDS))
    if not folder.is_dir():
        message = (
            f"seed folder {folder} not found "
            "(set FAULTPROOF_SEEDS_DIR to the folder of seed documents)"
        )
        missing(message)
    return folder


@pytest.fixture(scope="session")
def seed_text(seeds_dir: Path):
    """Read a seed file by name."""

    def read(name: str) -> str:
        return (seeds_dir / name).read_text(encoding="utf-8")

    return read


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test sees the catalogue as loaded from disk, never one a previous test built."""
    yield
    catalogue._catalogue_for.cache_clear()
    schemas.load_schema.cache_clear()
