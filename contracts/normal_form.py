"""The normal form of a provider error: ``code``, ``message``, ``request_id``.

Each provider's catalogue says where the three fields stand, as JSON Pointers tried in order
(DESIGN.md, "Normal form of an error"): Alana's ``/error/code`` or, on an NDJSON error line,
``/code``; AINative's ``/detail`` when a string, else ``/detail/0/msg``. The first pointer that
resolves to a non-empty string wins, so one list covers every envelope a provider sends.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

#: RFC 6901 array index: ASCII digits only (``"²".isdigit()`` is true, ``int("²")`` fails).
ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class NormalError:
    """A provider error reduced to what a client should report.

    Attributes:
        code: The provider's machine-readable code, or ``None`` where it has none.
        message: The human-readable message, or ``None`` when the body has none.
        request_id: The id to quote to support, or ``None``.
    """

    code: str | None
    message: str | None
    request_id: str | None


def resolve_pointer(document: Any, pointer: str) -> Any:
    """RFC 6901 lookup; ``None`` when any step is missing (never raises)."""
    node = document
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            if token not in node:
                return None
            node = node[token]
        elif isinstance(node, list):
            if not ARRAY_INDEX.fullmatch(token) or int(token) >= len(node):
                return None
            node = node[int(token)]
        else:
            return None
    return node


def first_string(document: Any, pointers: tuple[str, ...]) -> str | None:
    """The first pointer's value that is a non-empty string."""
    for pointer in pointers:
        value = resolve_pointer(document, pointer)
        if isinstance(value, str) and value:
            return value
    return None


def parse_body(body: Any) -> Any:
    """Bytes or text as JSON, or as NDJSON (the first line carrying an ``error`` key).

    Anything that is neither gives ``None``: a non-JSON body has no normal form.
    """
    if not isinstance(body, (bytes, bytearray, str)):
        return body
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:  # the stdlib parser takes what orjson refuses (integers beyond 64 bits)
        return json.loads(body)
    except (ValueError, RecursionError):
        pass
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        parsed = [orjson.loads(line) for line in lines]
    except orjson.JSONDecodeError:
        return None
    errors = [item for item in parsed if isinstance(item, dict) and "error" in item]
    return errors[0] if errors else None


@dataclass(frozen=True, slots=True)
class NormalForm:
    """Where one provider's envelopes keep code, message and request id.

    Attributes:
        code: Pointers to the code, tried in order.
        message: Pointers to the message, tried in order.
        request_id: Pointers to the request id, tried in order.
    """

    code: tuple[str, ...]
    message: tuple[str, ...]
    request_id: tuple[str, ...]

    @classmethod
    def from_data(cls, data: dict[str, list[str]]) -> NormalForm:
        return cls(tuple(data["code"]), tuple(data["message"]), tuple(data["request_id"]))

    def apply(self, body: Any) -> NormalError:
        """The normal form of a body: parsed JSON, raw bytes or text, or an NDJSON stream."""
        document = parse_body(body)
        return NormalError(
            code=first_string(document, self.code),
            message=first_string(document, self.message),
            request_id=first_string(document, self.request_id),
        )
