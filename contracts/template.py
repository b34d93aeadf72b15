"""Scenario parameters: ``{{name}}`` placeholders in catalogue headers and bodies.

A string that is exactly one placeholder takes the parameter's value with its type
(``"retry_after": "{{retry_after}}"`` renders as the number 30); a placeholder inside a longer
string is replaced by the value's text. Some names are computed from the others at render
time, so a reset time and an HTTP-date always agree with ``retry_after``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from email.utils import formatdate
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
COMPUTED = ("now_epoch", "reset_epoch", "retry_after_http_date")


def context(params: Mapping[str, Any], now: float) -> dict[str, Any]:
    """Parameters plus the values computed from them at ``now`` (epoch seconds)."""
    values: dict[str, Any] = dict(params)
    values["now_epoch"] = int(now)
    wait = params.get("retry_after")
    if isinstance(wait, (int, float)) and math.isfinite(wait):
        values["reset_epoch"] = int(now) + max(0, math.ceil(wait))
        # HTTP-date has one-second precision: round up so it never asks for less than the wait.
        values["retry_after_http_date"] = formatdate(math.ceil(now + max(0.0, wait)), usegmt=True)
    return values


def placeholders(value: Any) -> set[str]:
    """Every placeholder name used anywhere in a header map or body."""
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    return set()


def render(value: Any, values: Mapping[str, Any]) -> Any:
    """``value`` with every placeholder replaced from ``values`` (missing names raise KeyError)."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return values[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), value)
    if isinstance(value, Mapping):
        return {k: render(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, values) for v in value]
    return value
