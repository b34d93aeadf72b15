"""Traffic captured elsewhere, read into journal entries: a journal export or a HAR 1.2 file.

Both readers give the same thing the mock's journal holds (DESIGN.md's entry: ``seq``,
``received_at``, ``responded_at``, ``method``, ``path`` below the provider, ``query``,
``headers`` with credentials as fingerprints, ``body``, ``status``, ``scenario``,
``retry_after_s``), plus ``provider``, ``session`` and, from a HAR, ``response_body`` (what the
judge recognises a scenario by). A file that is neither gets a ``CaptureError`` saying what was
wrong and what a valid file looks like; nothing here raises anything else on bad input.

A journal export is what ``GET /__faultproof/sessions/<id>/journal`` returns
(``{"entries": [...]}``), a plain list of entries, a list of such exports (several sessions), or
JSON Lines of entries or exports. A HAR file is ``{"log": {"entries": [...]}}`` as browsers and
proxies (mitmproxy's ``hardump``) write it: ``startedDateTime`` and ``time`` (ms) time each
exchange, ``response.status`` 0 means no answer came.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson

from .errors import FaultproofError
from .redaction import GENERIC
from .schemas import first_error
from .traffic import named_wait

#: The mock's response header naming the scenario it served (present when it captured the mock).
SCENARIO_HEADER = "X-Faultproof-Scenario"
SESSION_HEADER = "X-Faultproof-Session"
JOURNAL_SHAPE = (
    'a journal export is {"entries": [...]} as GET /__faultproof/sessions/<id>/journal returns '
    "it, a list of entries, a list of exports, or JSON Lines of either"
)
HAR_SHAPE = (
    'a HAR 1.2 file is {"log": {"version": "1.2", "entries": [{"startedDateTime": ..., '
    '"time": ..., "request": {...}, "response": {...}}, ...]}}'
)
_NUMBER = {"type": "number"}
JOURNAL_ENTRY = {
    "type": "object",
    "required": ["method", "path", "status", "received_at", "responded_at"],
    "properties": {
        "method": {"type": "string"},
        "path": {"type": "string"},
        "status": {"type": ["integer", "null"]},
        "received_at": _NUMBER,
        "responded_at": {"type": ["number", "null"]},
        "in_flight": {"type": "boolean"},
        "retry_after_s": {"type": ["number", "null"]},
        "scenario": {"type": ["string", "null"]},
        "provider": {"type": "string"},
        "headers": {"type": "object"},
    },
}
_NAME_VALUES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["name", "value"],
        "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
    },
}
HAR = {
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["entries"],
            "properties": {
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["startedDateTime", "time", "request", "response"],
                        "properties": {
                            "startedDateTime": {"type": "string"},
                            "time": _NUMBER,
                            "request": {
                                "type": "object",
                                "required": ["method", "url", "headers"],
                                "properties": {
                                    "method": {"type": "string"},
                                    "url": {"type": "string"},
                                    "headers": _NAME_VALUES,
                                },
                            },
                            "response": {
                                "type": "object",
                                "required": ["status", "headers"],
                                "properties": {
                                    "status": {"type": "integer"},
                                    "headers": _NAME_VALUES,
                                    "content": {"type": "object"},
                                },
                            },
                        },
                    },
                }
            },
        }
    },
}


class CaptureError(FaultproofError):
    """A capture file that cannot be read: the message says what is wrong and what is valid."""


def _load(path: Path, shape: str) -> Any:
    """The file as JSON, or as JSON Lines (a list); a clear error otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as whole:
        problem = whole
    lines = [line for line in raw.splitlines() if line.strip()]
    if len(lines) > 1:
        try:
            return [orjson.loads(line) for line in lines]
        except orjson.JSONDecodeError:
            pass
    raise CaptureError(f"{path} is not JSON ({problem}); {shape}")


def read_journal(path: Path, provider: str | None = None) -> list[dict[str, Any]]:
    """Every inbound entry of a journal export, each with its ``provider`` and ``session``."""
    data = _load(path, JOURNAL_SHAPE)
    if isinstance(data, dict) and "log" in data:
        raise CaptureError(f"{path} is a HAR file, not a journal export: pass it as --har")
    exports = _exports(data, path)
    entries: list[dict[str, Any]] = []
    for number, (session, items) in enumerate(exports):
        for index, item in enumerate(items):
            problem = first_error(JOURNAL_ENTRY, item)
            if problem:
                raise CaptureError(f"{path}: entry {index} of session {session}: {problem}")
        inbound = [dict(e) for e in items if e.get("direction") != "outbound"]
        for seq, entry in enumerate(inbound, start=1):
            entry.setdefault("seq", seq)
        for entry in sorted(inbound, key=lambda e: (e["seq"], e["received_at"])):
            entry.setdefault("session", session if session is not None else f"#{number}")
            entry["provider"] = entry.get("provider") or provider
            entries.append(entry)
    if not entries:
        raise CaptureError(f"{path} holds no requests: {JOURNAL_SHAPE}")
    return entries


def _exports(data: Any, path: Path) -> list[tuple[str | None, Sequence[Mapping[str, Any]]]]:
    """(session id, entries) per session, whatever shape of export the file has."""
    items = data if isinstance(data, list) else [data]
    if items and all(isinstance(i, dict) and isinstance(i.get("entries"), list) for i in items):
        return [(i.get("session"), i["entries"]) for i in items]
    if isinstance(data, list) and all(isinstance(i, dict) and "method" in i for i in data):
        return [(None, data)]
    found = type(data).__name__ if not isinstance(data, dict) else f"keys {sorted(data)[:8]}"
    raise CaptureError(f"{path} is not a journal export (found {found}); {JOURNAL_SHAPE}")


def read_har(
    path: Path, providers: Iterable[str], provider: str | None = None
) -> list[dict[str, Any]]:
    """Every exchange of a HAR file as a journal entry, in the order the requests started."""
    data = _load(path, HAR_SHAPE)
    if isinstance(data, dict) and "entries" in data and "log" not in data:
        raise CaptureError(f"{path} is a journal export, not a HAR file: pass it as --journal")
    problem = first_error(HAR, data)
    if problem:
        raise CaptureError(f"{path} is not a HAR file ({problem}); {HAR_SHAPE}")
    known = tuple(providers)
    entries = []
    for index, item in enumerate(data["log"]["entries"]):
        try:
            entry = _exchange(item, known, provider)
        except (ValueError, binascii.Error) as exc:
            raise CaptureError(f"{path}: log.entries[{index}]: {exc}") from None
        if entry is not None:
            entries.append(entry)
    if not entries:
        raise CaptureError(f"{path} has no requests to a provider API; {HAR_SHAPE}")
    entries.sort(key=lambda e: e["received_at"])
    for seq, entry in enumerate(entries, start=1):
        entry["seq"] = seq
    return entries


def _where(url: str, known: Sequence[str], provider: str | None) -> tuple[str, str, str | None]:
    """(provider, path below it, session) from ``/s/<id>/<p>/...``, ``/<p>/...`` or --provider."""
    path = urlsplit(url).path or "/"
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "s" and parts[3] in known:
        return parts[3], "/" + "/".join(parts[4:]), parts[2]
    if len(parts) > 2 and parts[1] in known:
        return parts[1], "/" + "/".join(parts[2:]), None
    if provider:
        return provider, path, None
    raise ValueError(
        f"cannot tell which provider {url} belongs to: its path has no /<provider>/ or "
        f"/s/<session>/<provider>/ prefix; pass --provider P (valid: {', '.join(known)})"
    )


def _exchange(
    item: Mapping[str, Any], known: Sequence[str], provider: str | None
) -> dict[str, Any] | None:
    request, response = item["request"], item["response"]
    if urlsplit(request["url"]).path.startswith("/__faultproof/"):
        return None  # the mock's control plane, not the API under test
    owner, path, session = _where(request["url"], known, provider)
    sent = httpx.Headers([(h["name"], h["value"]) for h in request["headers"]])
    got = httpx.Headers([(h["name"], h["value"]) for h in response["headers"]])
    started = datetime.fromisoformat(item["startedDateTime"].replace("Z", "+00:00"))
    if started.tzinfo is None:
        raise ValueError(f"startedDateTime {item['startedDateTime']!r} has no time zone")
    received = started.timestamp()
    responded = received + max(0.0, float(item["time"])) / 1000
    body = _content(response.get("content") or {})
    status = int(response["status"]) or None
    hint = got.get(SCENARIO_HEADER)
    return GENERIC.entry(
        {
            "received_at": received,
            "responded_at": responded,
            "provider": owner,
            "session": sent.get(SESSION_HEADER) or session,
            "method": request["method"].upper(),
            "path": path,
            "query": dict(parse_qsl(urlsplit(request["url"]).query)),
            "headers": dict(sent.items()),
            "body": (request.get("postData") or {}).get("text"),
            "status": status,
            "scenario": hint if hint and "." in hint else None,
            "retry_after_s": named_wait(got, body, responded) if status else None,
            "response_body": body,
        }
    )


def _content(content: Mapping[str, Any]) -> bytes | None:
    """A HAR response body as bytes (``encoding: base64`` decoded)."""
    text = content.get("text")
    if not isinstance(text, str) or not text:
        return None
    if content.get("encoding") == "base64":
        return base64.b64decode(text, validate=True)
    return text.encode()


__all__ = ["CaptureError", "read_har", "read_journal"]
