"""The JSON report: ``RunReport.to_json()`` (the DESIGN.md shape), indented, UTF-8."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from ..verdict import RunReport

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS


def _fallback(value: Any) -> Any:
    """What orjson cannot encode (client data, meta values) as the nearest JSON value.

    A report is evidence of a run that already happened: an odd value in a client's outcome or
    in ``meta`` must not lose the whole file, so anything else is written as its ``str()``.
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def render(report: RunReport) -> bytes:
    """The report as indented JSON bytes."""
    return orjson.dumps(report.to_json(), default=_fallback, option=_OPTIONS)


def write(report: RunReport, path: Path) -> None:
    """Write the JSON report to ``path``."""
    path.write_bytes(render(report))
