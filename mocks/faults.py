"""Transport faults: small callables named in scenario data (``fault: {name: hang}``).

Each takes the answer the mock would have given and the socket under it, and returns what
the client really gets. The request is processed first, so ``drop`` after a POST is exactly
the ambiguous case a client must not blindly repeat. Socket tricks follow
``notes/serving.md``: shutdown for an orderly close, ``connect(AF_UNSPEC)`` for a TCP reset,
and a 50 ms peek loop to notice a client that left.

A fault answers with its scenario's ``status`` on every path of the provider, known or not
(``fitted``): an SDK that calls a path the provider lacks meets the same fault as one that
calls the documented path. The body the fault works on is the provider's own answer when that
is a success with a body; otherwise (an unknown path, a rule's error, an empty 204) it is
``FALLBACK_BODY``, a small JSON object: a provider's error envelope under a 200 would tell a
client two contradicting things, and a happy answer of some other operation would be data the
client never asked for. Faults that send no response (``NO_RESPONSE``) need neither.
"""

from __future__ import annotations

import ctypes
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Response

STEP_S = 0.05
#: Faults after which the client got no HTTP response at all (journaled with status null).
NO_RESPONSE = frozenset({"hang", "drop", "reset"})
#: Faults made on the connection itself: without the server's socket they cannot happen, and a
#: fault that silently does not happen would grade clients wrongly, so the mock refuses them.
NEEDS_SOCKET = frozenset({"hang", "drop", "reset", "truncated_body"})
FaultFn = Callable[["FaultContext"], Response]
FAULTS: dict[str, FaultFn] = {}


class FaultNeedsSocket(RuntimeError):
    """A fault that must touch the connection ran without one (for example in a test client)."""


@dataclass(slots=True)
class FaultContext:
    """What a fault works with.

    Attributes:
        environ: The WSGI environ (its server socket, when the server exposes one).
        answer: The response the mock would have sent.
        params: The scenario's parameters, resolved.
        max_s: Upper bound on any wait.
    """

    environ: dict[str, Any]
    answer: Response
    params: dict[str, Any]
    max_s: float

    @property
    def sock(self) -> socket.socket | None:
        return server_socket(self.environ)

    def body(self) -> bytes:
        return self.answer.get_data()


def server_socket(environ: dict[str, Any]) -> socket.socket | None:
    """The connection under a request, where the server exposes it (gunicorn, werkzeug)."""
    found = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    return found if isinstance(found, socket.socket) else None


def refusal(name: str, environ: dict[str, Any]) -> str | None:
    """Why ``name`` cannot be made on this connection, or ``None`` when it can."""
    if name not in NEEDS_SOCKET or server_socket(environ) is not None:
        return None
    server = environ.get("SERVER_SOFTWARE") or "this server"
    return (
        f"fault.{name} acts on the connection, which {server} does not expose: serve with "
        "gunicorn (faultproof serve's default server) for this fault"
    )


def fault(name: str) -> Callable[[FaultFn], FaultFn]:
    """Register a fault under the name scenario data uses."""

    def register(fn: FaultFn) -> FaultFn:
        if name in FAULTS:
            raise RuntimeError(f"fault {name!r} registered twice")
        FAULTS[name] = fn
        return fn

    return register


def client_left(sock: socket.socket | None) -> bool:
    """True when the peer closed its side (a zero-byte peek), without consuming data."""
    if sock is None:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def wait(ctx: FaultContext, seconds: float) -> bool:
    """Sleep up to ``seconds`` (bounded by ``max_s``); False as soon as the client leaves."""
    deadline = time.monotonic() + min(seconds, ctx.max_s)
    while (left := deadline - time.monotonic()) > 0:
        if client_left(ctx.sock):
            return False
        time.sleep(min(STEP_S, left))
    return True


def close(sock: socket.socket | None, mode: str = "fin") -> None:
    """End the connection now: ``fin`` an orderly close, ``rst`` a TCP reset."""
    if sock is None:
        raise FaultNeedsSocket(
            "this fault needs a real server socket (serve the app, not a test client)"
        )
    try:
        if mode == "rst":
            # Linux aborts a TCP connection on connect() to an AF_UNSPEC address: the peer gets RST.
            address = ctypes.create_string_buffer(bytes(ctypes.c_ushort(socket.AF_UNSPEC)), 16)
            ctypes.CDLL(None, use_errno=True).connect(sock.fileno(), address, 16)
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


#: The success body a fault sends where the provider's own answer is not a success.
FALLBACK_BODY = b'{"ok": true}'


def fitted(answer: Response, status: int) -> Response:
    """The answer a fault with ``status`` works on: the provider's success, or the fallback."""
    success = 200 <= answer.status_code < 300
    if success and (answer.is_streamed or answer.get_data()):
        answer.status_code = status
        return answer
    return Response(FALLBACK_BODY, status=status, content_type="application/json")


def _empty() -> Response:
    return Response(b"", status=200)


@fault("hang")
def hang(ctx: FaultContext) -> Response:
    """Accept the request and never answer, until the client leaves or ``max_s`` passes."""
    wait(ctx, float(ctx.params.get("max_s", ctx.max_s)))
    close(ctx.sock) if ctx.sock else None
    return _empty()


@fault("drop")
def drop(ctx: FaultContext) -> Response:
    """Close the connection with no response (``mode``: ``fin`` or ``rst``)."""
    close(ctx.sock, str(ctx.params.get("mode", "fin")))
    return _empty()


@fault("reset")
def reset(ctx: FaultContext) -> Response:
    """Abort the connection with a TCP reset."""
    close(ctx.sock, "rst")
    return _empty()


def _stream(ctx: FaultContext, chunks: Iterator[bytes], total: int) -> Response:
    response = Response(chunks, status=ctx.answer.status_code, direct_passthrough=True)
    response.headers["Content-Type"] = ctx.answer.headers.get("Content-Type", "application/json")
    response.headers["Content-Length"] = str(total)
    return response


@fault("truncated_body")
def truncated_body(ctx: FaultContext) -> Response:
    """Announce the full Content-Length, send ``fraction`` of the body, then close."""
    body = ctx.body()
    cut = int(len(body) * float(ctx.params.get("fraction", 0.5)))
    cut = min(max(cut, 1), len(body) - 1) if len(body) > 1 else 0

    def chunks() -> Iterator[bytes]:
        yield body[:cut]
        if ctx.sock is not None:
            close(ctx.sock)

    return _stream(ctx, chunks(), len(body))


@fault("slow_drip")
def slow_drip(ctx: FaultContext) -> Response:
    """Send the real body ``chunk_bytes`` at a time, one chunk per ``interval_s``."""
    body = ctx.body()
    size = max(1, int(ctx.params.get("chunk_bytes", 1)))
    interval = float(ctx.params.get("interval_s", 1.0))

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), size):
            if start and not wait(ctx, interval):
                return
            yield body[start : start + size]

    return _stream(ctx, chunks(), len(body))


@fault("delay")
def delay(ctx: FaultContext) -> Response:
    """The normal answer, after ``delay_s``."""
    wait(ctx, float(ctx.params.get("delay_s", 1.0)))
    return ctx.answer


@fault("malformed_json")
def malformed_json(ctx: FaultContext) -> Response:
    """A body labelled JSON that never parses: an object opened and never closed."""
    body = b'{"data": ' + ctx.body()[: max(1, len(ctx.body()) // 2)]
    return Response(body, status=ctx.answer.status_code, content_type="application/json")


HTML_502 = b"""<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


@fault("html_502")
def html_502(ctx: FaultContext) -> Response:
    """A reverse proxy's own error page instead of the provider's envelope."""
    return Response(HTML_502, status=502, content_type="text/html")
