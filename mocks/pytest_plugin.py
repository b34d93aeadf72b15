"""The faultproof pytest plugin (entry point ``pytest11``).

Fixtures:

- ``faultproof_server``: one mock per test session (per xdist worker) on a free loopback port,
  or the mock at ``--faultproof-url`` / ``FAULTPROOF_MOCK_URL`` (with its control token from
  ``--faultproof-token`` / ``FAULTPROOF_CONTROL_TOKEN``, if it was started with one).
- ``faultproof_session``: a fresh isolated session per test (``base_urls``, ``plan(...)``,
  ``journal()``), deleted afterwards.
- ``@pytest.mark.faultproof(provider="alana", scenario="RATE_*")``: the test runs once per
  matching scenario, each its own test id, with ``faultproof_session`` already playing it.

User catalogues: ``--faultproof-catalogue DIR`` (repeatable) or ``faultproof_catalogue = DIR``
in the ini file loads catalogue folders (``faultproof import openapi --out DIR``) beside the
built-in providers, so the marker can select an imported provider's scenarios.

Warned checks: ``faultproof.contracts.assertions`` issues a ``FaultproofWarning`` for a check that
warns (a threshold resting on an assumed policy value); pytest lists it in the warnings summary and
the test passes. ``--faultproof-strict`` (or ``faultproof_strict = true`` in the ini file) turns
those warnings into errors, so a warned check fails its test, as ``faultproof run --strict`` does.

Importing this module costs nothing: the catalogue and the mock load only when a test uses them.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from faultproof.contracts.control_client import MockControl
    from faultproof.contracts.mock_session import MockSession
from faultproof.contracts.runner import RunSpec

MARKER = "faultproof"
MARKER_ARGS = ("provider", "scenario", "mode")
MODES = ("recovery", "persistent")
#: The filter ``--faultproof-strict`` adds: the same as ``-W error::<this>`` on the command line.
STRICT_FILTER = "error::faultproof.contracts.assertions.FaultproofWarning"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("faultproof")
    group.addoption(
        "--faultproof-url",
        metavar="URL",
        default=os.environ.get("FAULTPROOF_MOCK_URL"),
        help="A running faultproof mock to use instead of one started per test session "
        "(default: $FAULTPROOF_MOCK_URL).",
    )
    group.addoption(
        "--faultproof-token",
        metavar="TOKEN",
        default=os.environ.get("FAULTPROOF_CONTROL_TOKEN"),
        help="The --faultproof-url mock's control token (default: $FAULTPROOF_CONTROL_TOKEN).",
    )
    group.addoption(
        "--faultproof-strict",
        action="store_true",
        default=None,
        help="A warned faultproof check (a threshold resting on an assumed policy value) fails "
        "its test instead of issuing a FaultproofWarning.",
    )
    group.addoption(
        "--faultproof-catalogue",
        action="append",
        metavar="DIR",
        default=[],
        help="A catalogue folder (faultproof import openapi --out DIR) to load beside the "
        "built-in providers, for the marker and the mock; repeatable.",
    )
    parser.addini(
        "faultproof_catalogue",
        type="paths",
        default=[],
        help="As --faultproof-catalogue: catalogue folders, relative to the ini file.",
    )
    parser.addini(
        "faultproof_strict",
        type="bool",
        default=False,
        help="As --faultproof-strict: warned faultproof checks fail their tests.",
    )


def pytest_configure(config: pytest.Config) -> None:
    _load_catalogues(config)
    strict = config.getoption("faultproof_strict")
    if strict or (strict is None and config.getini("faultproof_strict")):
        # Appended to the ini filters, so it wins over theirs; a -W on the command line still
        # wins over it (pytest applies those last).
        config.addinivalue_line("filterwarnings", STRICT_FILTER)
    config.addinivalue_line(
        "markers",
        "faultproof(provider=ID|[IDs], scenario=GLOB|[GLOBs], mode=recovery|persistent): run the "
        "test once per matching catalogue scenario, with faultproof_session playing it.",
    )


def _load_catalogues(config: pytest.Config) -> None:
    """The user catalogues the options and the ini file name, loaded before collection (the
    marker selects their scenarios) and named in the environment the mock and clients see."""
    folders = [*config.getini("faultproof_catalogue"), *config.getoption("faultproof_catalogue")]
    if not folders:
        return
    from faultproof.contracts import FaultproofError
    from faultproof.contracts.catalogue import add_user_dirs

    try:
        add_user_dirs(folders)
    except FaultproofError as exc:
        raise pytest.UsageError(f"faultproof catalogue: {exc}") from None


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _matches(scenario_id: str, globs: tuple[str, ...]) -> bool:
    """A glob matches the full id (``alana.RATE_*``) or the id within its provider (``RATE_*``)."""
    short = scenario_id.split(".", 1)[-1]
    return any(fnmatch.fnmatchcase(scenario_id, g) or fnmatch.fnmatchcase(short, g) for g in globs)


def cases(marker: pytest.Mark) -> list[tuple[str, RunSpec]]:
    """(test id, run) for every run of every scenario the marker selects, in catalogue order."""
    from faultproof.contracts import FaultproofError, default_catalogue
    from faultproof.contracts.runner import plan_runs, select

    unknown = sorted(set(marker.kwargs) - set(MARKER_ARGS))
    if marker.args or unknown:
        pytest.fail(
            f"@pytest.mark.faultproof takes keyword arguments {', '.join(MARKER_ARGS)}; "
            f"got {list(marker.args) + unknown}",
            pytrace=False,
        )
    globs = _as_tuple(marker.kwargs.get("scenario")) or ("*",)
    mode = marker.kwargs.get("mode")
    if mode is not None and mode not in MODES:
        pytest.fail(f"faultproof mode {mode!r} is not one of {', '.join(MODES)}", pytrace=False)
    try:
        pairs = select(default_catalogue(), _as_tuple(marker.kwargs.get("provider")))
    except FaultproofError as exc:
        pytest.fail(f"@pytest.mark.faultproof: {exc}", pytrace=False)
    chosen = []
    for scenario, provider in pairs:
        if not _matches(scenario.id, globs):
            continue
        runs = [r for r in plan_runs(scenario, provider) if mode in (None, r.mode)]
        label = (
            scenario.id
            if scenario.id.startswith(provider.id + ".")
            else f"{provider.id}/{scenario.id}"
        )
        chosen += [(label if len(runs) == 1 else f"{label}:{r.mode}", r) for r in runs]
    if not chosen:
        valid = sorted({s.id for s, _ in pairs})
        pytest.fail(
            f"@pytest.mark.faultproof(scenario={list(globs)}) matches no scenario"
            + (f" in {mode} mode" if mode else "")
            + f"; valid ids: {', '.join(valid)}",
            pytrace=False,
        )
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    if "faultproof_scenario" not in metafunc.fixturenames:
        pytest.fail(
            f"{metafunc.definition.nodeid}: @pytest.mark.faultproof runs the test per scenario "
            "through the faultproof_session (or faultproof_scenario) fixture; request one of them",
            pytrace=False,
        )
    selected = cases(marker)
    metafunc.parametrize(
        "faultproof_scenario",
        [spec for _, spec in selected],
        ids=[label for label, _ in selected],
        indirect=True,
    )


class FaultproofServer:
    """The mock a test session uses: its URL and its control plane."""

    def __init__(self, url: str, token: str | None = None) -> None:
        from faultproof.contracts.control_client import MockControl

        self.url = url.rstrip("/")
        self.control: MockControl = MockControl(self.url, token)
        self.control.check()

    def session(self) -> MockSession:
        """A new isolated session; the caller deletes it."""
        from faultproof.contracts.mock_session import MockSession

        return MockSession(self.control)


@pytest.fixture(scope="session")
def faultproof_server(pytestconfig: pytest.Config) -> Iterator[FaultproofServer]:
    """A mock on a free loopback port for the whole test session (one per xdist worker)."""
    url = pytestconfig.getoption("faultproof_url")
    if url:
        yield FaultproofServer(url, pytestconfig.getoption("faultproof_token"))
        return
    from .serving.inprocess import running_mock

    with running_mock() as started:
        server = FaultproofServer(started)
        yield server
        server.control.http.close()


@pytest.fixture
def faultproof_scenario(request: pytest.FixtureRequest) -> RunSpec | None:
    """The scenario run this test plays under ``@pytest.mark.faultproof``, else ``None``."""
    return getattr(request, "param", None)


@pytest.fixture
def faultproof_session(
    faultproof_server: FaultproofServer, faultproof_scenario: RunSpec | None
) -> Iterator[MockSession]:
    """An isolated session, playing the marked scenario if any; deleted after the test."""
    session = faultproof_server.session()
    try:
        if faultproof_scenario is not None:
            session.play(faultproof_scenario)
        yield session
    finally:
        session.delete()
