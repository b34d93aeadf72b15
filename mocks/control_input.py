"""Control-plane request bodies: JSON, bounded in size, nesting and plan length (issue 14).

Why bounds: the mock keeps a plan for a session's lifetime and re-sends a webhook's ``data``, so
an unbounded body is memory anyone on the control plane can take. Nesting deeper than orjson can
write back (it stops at 255 levels) failed with a 500 on the way out; it is refused here, on the
way in, with a 400 that names the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .access import MAX_BODY_BYTES, too_large

#: Deepest nesting of objects and arrays in a control-plane body.
MAX_DEPTH = 32
#: Most steps a plan may have.
MAX_STEPS = 10_000


class BodyError(ValueError):
    """A body the control plane refuses; ``status`` is 400 or 413, ``kind`` its mark."""

    def __init__(self, message: str, status: int = 400, kind: str = "bad-request") -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


def read(read_bytes: Callable[[int], bytes], what: str, empty: Any = None) -> Any:
    """Read at most ``MAX_BODY_BYTES`` with ``read_bytes`` and parse them (``empty`` if none)."""
    raw = read_bytes(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise BodyError(too_large(), 413, "too-large")
    if not raw.strip():
        return empty
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BodyError(f"{what} is not valid JSON: {exc}") from None
    if depth(data) > MAX_DEPTH:
        raise BodyError(f"{what} nests objects and arrays deeper than {MAX_DEPTH} levels")
    return data


def depth(data: Any) -> int:
    """How many levels of objects and arrays ``data`` nests (0 for a scalar)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in node)
    return deepest


def check_steps(data: Any) -> None:
    """A plan of more than ``MAX_STEPS`` steps is refused before it is validated."""
    steps = data.get("steps") if isinstance(data, dict) else None
    if isinstance(steps, list) and len(steps) > MAX_STEPS:
        raise BodyError(
            f"a plan has at most {MAX_STEPS} steps, got {len(steps)} "
            "(use 'after': 'repeat_last' to repeat the last one)",
            400,
            "bad-plan",
        )
