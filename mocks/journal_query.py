"""Filters over a session's journal (``?method=&path=&status=&scenario=&provider=``).

Why on the control plane: a test suite in any language asserts what the mock saw without
copying the whole journal into its own code ("exactly two POSTs got a 429"), as WireMock's
``/__admin/requests/count`` and MockServer's ``retrieve`` let it. Globs are fnmatch's (``*``,
``?``, ``[...]``); a status is a code (``429``) or a class (``4xx``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from typing import Any

from faultproof.contracts import FaultproofError

FILTERS = ("method", "path", "status", "scenario", "provider")
_STATUS = re.compile(r"^[1-5]([0-9]{2}|xx)$")
Entry = Mapping[str, Any]


class BadFilter(FaultproofError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.valid = list(FILTERS)


def _glob(field: str, pattern: str) -> Callable[[Entry], bool]:
    return lambda e: fnmatch.fnmatchcase(str(e.get(field) or ""), pattern)


def _method(value: str) -> Callable[[Entry], bool]:
    wanted = value.upper()
    return lambda e: e.get("method") == wanted


def _status(value: str) -> Callable[[Entry], bool]:
    wanted = value.lower()
    if not _STATUS.match(wanted):
        raise BadFilter(f"status={value!r}: expected a code such as 429 or a class such as 4xx")
    if wanted.endswith("xx"):
        return lambda e: e.get("status") is not None and str(e["status"])[0] == wanted[0]
    return lambda e: e.get("status") == int(wanted)


def matcher(query: Mapping[str, str]) -> Callable[[Entry], bool]:
    """One predicate for every filter given; an unknown name is a ``BadFilter``."""
    unknown = sorted(set(query) - set(FILTERS))
    if unknown:
        raise BadFilter(
            f"unknown journal filter {', '.join(map(repr, unknown))}; filters: {', '.join(FILTERS)}"
        )
    tests: list[Callable[[Entry], bool]] = []
    for name, value in query.items():
        if name == "method":
            tests.append(_method(value))
        elif name == "status":
            tests.append(_status(value))
        else:
            tests.append(_glob(name, value))
    return lambda entry: all(test(entry) for test in tests)
