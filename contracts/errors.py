"""The tool-error family: faultproof itself was misused or misconfigured.

These are never findings about a client (those are check verdicts); they stop a run and
say what was wrong and what would have been valid::

    FaultproofError
    ├── CatalogueError      a catalogue, schema or policy file is invalid
    └── UnknownIdError      a provider, scenario or check id that does not exist
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class FaultproofError(Exception):
    """Base of every error faultproof raises about its own inputs."""


class CatalogueError(FaultproofError):
    """A data file under contracts/ breaks its schema or a catalogue invariant."""


class UnknownIdError(FaultproofError, LookupError):
    """An id that is not in the catalogue; the message lists the valid ones."""

    def __init__(self, kind: str, given: str, valid: Iterable[str]) -> None:
        self.kind = kind
        self.given = given
        self.valid = sorted(valid)
        super().__init__(self._message())

    def _message(self) -> str:
        close = difflib.get_close_matches(self.given, self.valid, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listed = ", ".join(self.valid[:40])
        more = f", ... ({len(self.valid)} in all)" if len(self.valid) > 40 else ""
        return f"unknown {self.kind} {self.given!r}.{hint} Valid: {listed}{more}."
