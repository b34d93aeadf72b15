"""Report writers: one ``RunReport``, written as any of JSON, JUnit XML, Markdown and HTML.

Each format is a module with a pure ``render(report)`` (bytes or text, for tests and callers that
post the text somewhere) and ``write(report, path)``. ``WRITERS`` maps the format names the
command line uses (``--json``, ``--junit``, ``--markdown``, ``--html``) to the writers; ``write``
writes every format it is given a path for. Writing files the caller named is the only I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from types import MappingProxyType

from ..errors import FaultproofError, UnknownIdError
from ..verdict import RunReport
from . import html as html_report
from . import json_report
from . import junit as junit_report
from . import markdown as markdown_report

Writer = Callable[[RunReport, Path], None]
PathArg = str | PathLike[str] | None

#: Format name -> writer, in the order ``write`` writes them.
WRITERS: Mapping[str, Writer] = MappingProxyType(
    {
        "json": json_report.write,
        "junit": junit_report.write,
        "markdown": markdown_report.write,
        "html": html_report.write,
    }
)


def write_format(fmt: str, report: RunReport, path: str | PathLike[str]) -> None:
    """Write ``report`` as ``fmt`` to ``path``, creating missing parent folders.

    Raises:
        UnknownIdError: ``fmt`` is not in ``WRITERS``.
        FaultproofError: the file cannot be written (the reason from the OS is in the message).
    """
    try:
        writer = WRITERS[fmt]
    except KeyError:
        raise UnknownIdError("report format", fmt, WRITERS) from None
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        writer(report, target)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise FaultproofError(f"cannot write the {fmt} report to {target}: {reason}") from exc


def write(
    report: RunReport,
    *,
    json: PathArg = None,
    junit: PathArg = None,
    markdown: PathArg = None,
    html: PathArg = None,
) -> None:
    """Write ``report`` in every format given a path; formats given ``None`` are not written."""
    for fmt, path in (("json", json), ("junit", junit), ("markdown", markdown), ("html", html)):
        if path is not None:
            write_format(fmt, report, path)


__all__ = ["WRITERS", "Writer", "write", "write_format"]
