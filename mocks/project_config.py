"""``faultproof run``'s options from ``[tool.faultproof]`` in the project's ``pyproject.toml``.

Why: a team keeps its providers, scenario globs, reports and strictness beside its other tool
settings (as pytest, ruff and mypy do), and CI runs plain ``faultproof run``. The table is read
from the working directory's ``pyproject.toml``; its keys are ``run``'s long option names
(``client-cmd`` or ``client_cmd``), and a flag on the command line wins over it. An unknown key
or a value of the wrong type is a usage error naming what is valid.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYPROJECT = "pyproject.toml"


def _names(command: click.Command) -> dict[str, click.Option]:
    """Each option of ``command`` by its long name, without dashes (``client-cmd``)."""
    return {
        max(p.opts, key=len).lstrip("-"): p
        for p in command.params
        if isinstance(p, click.Option) and p.name != "help"
    }


def run_defaults(command: click.Command, folder: Path | None = None) -> dict[str, Any]:
    """``command``'s defaults from ``[tool.faultproof]`` (parameter name to value), or none."""
    path = (folder or Path.cwd()) / PYPROJECT
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("faultproof")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"{path}: not valid TOML ({exc})") from None
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise click.UsageError(f"{path}: [tool.faultproof] must be a table")
    options = _names(command)
    defaults: dict[str, Any] = {}
    for key, value in table.items():
        option = options.get(key.replace("_", "-"))
        if option is None:
            raise click.UsageError(
                f"{path}: [tool.faultproof] has no setting {key!r}; valid: {', '.join(options)}"
            )
        if option.multiple and isinstance(value, str):
            value = [value]
        if option.multiple and not (
            isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value)
        ):
            raise click.UsageError(f"{path}: [tool.faultproof] {key} takes a list of values")
        defaults[str(option.name)] = value
    return defaults
