"""A test that cannot run without something the machine lacks: skipped on a laptop, failed in CI.

In CI a skipped test is a check that never ran and proves nothing, so a missing dependency
(redis-server, chromium, mitmdump, the seed documents, /proc) fails there, loudly, with the
install hint; outside CI it skips with the same message.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """CI=true as GitHub, GitLab and .ci/run set it (also 1 or yes)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(message: str) -> NoReturn:
    """Fail in CI, skip elsewhere, saying what is missing and how to get it."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing dependency fails instead of skipping)")
    pytest.skip(message)
