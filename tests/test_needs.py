"""A missing dependency skips a test on a laptop and fails it in CI."""

from __future__ import annotations

import pytest

from tests.needs import missing


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_in_ci_a_missing_dependency_fails(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match=r"redis-server is not installed.*CI=true"):
        missing("redis-server is not installed")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_outside_ci_it_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch, value) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="redis-server is not installed"):
        missing("redis-server is not installed")
