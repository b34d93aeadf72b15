"""One HTTP attempt of the reference client, bounded by a deadline however the server behaves.

A hang ends at the read timeout; a body that trickles in (``fault.slow_drip``) ends at the
deadline too, because a per-read timeout alone never fires while bytes keep coming: a watchdog
shuts the socket down at the deadline and the clock is checked between chunks. NDJSON bodies
are read line by line and the read stops at the first line that carries an ``error`` key.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

Failure = Literal["timeout", "connection", "protocol"]
NDJSON = "application/x-ndjson"


@dataclass
class Reply:
    """What one attempt got.

    Attributes:
        status: The HTTP status, or ``None`` when no response came.
        headers: Response headers (empty without a response).
        body: The body as received (for NDJSON: whatever was read).
        failure: Why there is no complete answer: ``timeout``, ``connection`` or ``protocol``.
        sent: Whether the server may have received the request (false only when the
            connection was never made, which makes any request safe to repeat).
        lines: NDJSON: the parsed lines read, ``None`` for a plain body.
        error_line: NDJSON: the first line carrying an ``error`` key.
        malformed: NDJSON: a complete line that is not JSON.
    """

    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    failure: Failure | None = None
    sent: bool = True
    lines: list[Any] | None = None
    error_line: dict[str, Any] | None = None
    malformed: bool = False


def is_ndjson(headers: httpx.Headers | dict[str, str]) -> bool:
    """Whether an Accept or Content-Type header names NDJSON."""
    for name, value in headers.items():
        if name.lower() in ("accept", "content-type") and NDJSON in value.lower():
            return True
    return False


def _abort(response: httpx.Response, fired: threading.Event) -> None:
    """Deadline reached while reading: shut the socket so that the blocked read returns."""
    fired.set()
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _feed_line(reply: Reply, raw: bytes) -> bool:
    """Parse one NDJSON line into ``reply``; False when reading should stop."""
    if not raw.strip():
        return True
    try:
        item = json.loads(raw)
    except (ValueError, RecursionError):
        reply.malformed = True
        return False
    assert reply.lines is not None
    reply.lines.append(item)
    if isinstance(item, dict) and "error" in item:
        reply.error_line = item
        return False
    return True


def _read(response: httpx.Response, reply: Reply, deadline: float) -> None:
    """Read the body into ``reply`` until it ends, the deadline passes or an error line comes."""
    chunks: list[bytes] = []
    pending = b""
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        if reply.lines is not None:
            pending += chunk
            *complete, pending = pending.split(b"\n")
            if not all(_feed_line(reply, line) for line in complete):
                break
        if time.monotonic() >= deadline:
            reply.failure = "timeout"
            break
    else:
        if reply.lines is not None:
            _feed_line(reply, pending)
    reply.body = b"".join(chunks)


def attempt(
    http: httpx.Client,
    method: str,
    path: str,
    deadline: float,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    json_body: Any = None,
    stream_lines: bool = False,
) -> Reply:
    """Send one request and read its answer, all of it within ``deadline`` (monotonic)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return Reply(failure="timeout", sent=False)
    request = http.build_request(
        method,
        path,
        headers=headers,
        params=params,
        json=json_body,
        timeout=httpx.Timeout(remaining),
    )
    try:
        response = http.send(request, stream=True)
    except httpx.ConnectTimeout:
        return Reply(failure="timeout", sent=False)
    except httpx.ConnectError:
        return Reply(failure="connection", sent=False)
    except httpx.PoolTimeout:
        return Reply(failure="timeout", sent=False)
    except httpx.TimeoutException:
        return Reply(failure="timeout")
    except httpx.TransportError:  # dropped or reset before any answer
        return Reply(failure="connection")
    reply = Reply(status=response.status_code, headers=response.headers)
    if stream_lines and 200 <= response.status_code < 300:
        reply.lines = []
    fired = threading.Event()
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _abort, (response, fired))
    watchdog.daemon = True
    watchdog.start()
    try:
        _read(response, reply, deadline)
        if fired.is_set() and reply.failure is None:  # a read-until-close body cut short
            reply.failure = "timeout"
    except httpx.TransportError:  # cut off mid-body: truncated, reset, or our own watchdog
        late = fired.is_set() or time.monotonic() >= deadline
        reply.failure = "timeout" if late else "protocol"
    finally:
        watchdog.cancel()
        response.close()
    return reply


def parse_json(body: bytes) -> tuple[bool, Any]:
    """(parsed, value): an empty body parses as ``None``; anything not JSON does not parse."""
    if not body.strip():
        return True, None
    try:
        return True, json.loads(body)
    except (ValueError, RecursionError):
        return False, None
