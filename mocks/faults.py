"""Transport faults: small callables named in scenario data (``fault: {name: hang}``).

Each takes the answer the mock would have given and returns a **plan**: the wire actions the
client really gets, in order (wait until the client leaves, send a head, send bytes, pause,
close with FIN or RST). A plan is data, so there is one definition of each fault and two small
interpreters of it: ``serving/sync_wire.py`` on a blocking socket (werkzeug: the in-process
runner, and ``app.test_client()`` with no socket at all) and ``serving/async_wire.py`` on the
event loop of ``faultproof serve``, where a hang or a drip holds no thread. The request is
processed first, so ``drop`` after a POST is exactly the ambiguous case a client must not
blindly repeat.

A fault answers with its scenario's ``status`` on every path of the provider, known or not
(``fitted``): an SDK that calls a path the provider lacks meets the same fault as one that
calls the documented path. The body the fault works on is the provider's own answer when that
is a success with a body; otherwise (an unknown path, a rule's error, an empty 204) it is
``FALLBACK_BODY``, a small JSON object: a provider's error envelope under a 200 would tell a
client two contradicting things, and a happy answer of some other operation would be data the
client never asked for. Faults that send no response (``NO_RESPONSE``) need neither.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from flask import Response

#: Faults after which the client got no HTTP response at all (journaled with status null).
NO_RESPONSE = frozenset({"hang", "drop", "reset"})
#: Faults made on the connection itself: without the server's connection they cannot happen,
#: and a fault that silently does not happen would grade clients wrongly, so the mock refuses.
NEEDS_SOCKET = frozenset({"hang", "drop", "reset", "truncated_body"})
#: Set in the environ by a server that performs plans itself (the default, asynchronous one).
PLAN_SLOT = "faultproof.plan"


@dataclass(frozen=True, slots=True)
class WaitGone:
    """Send nothing until the client leaves or ``max_s`` passes."""

    max_s: float


@dataclass(frozen=True, slots=True)
class Head:
    """Send the status line and headers (with the Content-Length the body announces)."""

    status: int
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Send:
    """Send body bytes."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait ``seconds``; a client that leaves meanwhile ends the plan (the connection closes)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Close:
    """End the connection now: ``fin`` an orderly close, ``rst`` a TCP reset."""

    mode: Literal["fin", "rst"] = "fin"


Action = WaitGone | Head | Send | Pause | Close
#: A fault as the wire sees it. Without a ``Close`` it is a complete answer.
Plan = tuple[Action, ...]
FaultFn = Callable[["FaultContext"], Plan]
FAULTS: dict[str, FaultFn] = {}


@dataclass(slots=True)
class FaultContext:
    """What a fault works with.

    Attributes:
        answer: The response the mock would have sent (``fitted`` to the fault's status).
        params: The scenario's parameters, resolved.
        max_s: Upper bound on any wait.
    """

    answer: Response
    params: dict[str, Any]
    max_s: float

    def body(self) -> bytes:
        return self.answer.get_data()

    def head(self, length: int, status: int | None = None, kind: str | None = None) -> Head:
        """The answer's head, announcing ``length`` body bytes."""
        headers = [
            (name, value)
            for name, value in self.answer.headers.items()
            if name.lower() not in ("content-length", "transfer-encoding")
            and not (kind and name.lower() == "content-type")
        ]
        if kind:
            headers.append(("Content-Type", kind))
        headers.append(("Content-Length", str(length)))
        return Head(status or self.answer.status_code, tuple(headers))

    def wait_s(self, seconds: float) -> float:
        return max(0.0, min(seconds, self.max_s))


def server_socket(environ: dict[str, Any]) -> socket.socket | None:
    """The connection under a request, where the server exposes it (werkzeug's)."""
    found = environ.get("werkzeug.socket")
    return found if isinstance(found, socket.socket) else None


def refusal(name: str, environ: dict[str, Any]) -> str | None:
    """Why ``name`` cannot be made on this connection, or ``None`` when it can.

    Still needed with one server: ``app.test_client()`` has no connection, and neither has any
    WSGI server a user mounts ``create_app()`` on that does not expose its socket.
    """
    if name not in NEEDS_SOCKET or PLAN_SLOT in environ or server_socket(environ) is not None:
        return None
    server = environ.get("SERVER_SOFTWARE") or "this server"
    return (
        f"fault.{name} acts on the connection, which {server} does not expose: use "
        "faultproof serve (or the in-process runner of faultproof run and the pytest plugin) "
        "for this fault"
    )


def fault(name: str) -> Callable[[FaultFn], FaultFn]:
    """Register a fault under the name scenario data uses."""

    def register(fn: FaultFn) -> FaultFn:
        if name in FAULTS:
            raise RuntimeError(f"fault {name!r} registered twice")
        FAULTS[name] = fn
        return fn

    return register


#: The success body a fault sends where the provider's own answer is not a success.
FALLBACK_BODY = b'{"ok": true}'


def fitted(answer: Response, status: int) -> Response:
    """The answer a fault with ``status`` works on: the provider's success, or the fallback."""
    success = 200 <= answer.status_code < 300
    if success and (answer.is_streamed or answer.get_data()):
        answer.status_code = status
        return answer
    return Response(FALLBACK_BODY, status=status, content_type="application/json")


@fault("hang")
def hang(ctx: FaultContext) -> Plan:
    """Accept the request and never answer, until the client leaves or ``max_s`` passes."""
    return (WaitGone(ctx.wait_s(float(ctx.params.get("max_s", ctx.max_s)))), Close())


@fault("drop")
def drop(ctx: FaultContext) -> Plan:
    """Close the connection with no response (``mode``: ``fin`` or ``rst``)."""
    return (Close("rst" if ctx.params.get("mode") == "rst" else "fin"),)


@fault("reset")
def reset(ctx: FaultContext) -> Plan:
    """Abort the connection with a TCP reset."""
    return (Close("rst"),)


@fault("truncated_body")
def truncated_body(ctx: FaultContext) -> Plan:
    """Announce the full Content-Length, send ``fraction`` of the body, then close."""
    body = ctx.body()
    cut = int(len(body) * float(ctx.params.get("fraction", 0.5)))
    cut = min(max(cut, 1), len(body) - 1) if len(body) > 1 else 0
    return (ctx.head(len(body)), Send(body[:cut]), Close())


@fault("slow_drip")
def slow_drip(ctx: FaultContext) -> Plan:
    """Send the real body ``chunk_bytes`` at a time, one chunk per ``interval_s``."""
    body = ctx.body()
    size = max(1, int(ctx.params.get("chunk_bytes", 1)))
    pause = Pause(ctx.wait_s(float(ctx.params.get("interval_s", 1.0))))
    plan: list[Action] = [ctx.head(len(body))]
    for start in range(0, len(body), size):
        plan += [pause, Send(body[start : start + size])] if start else [Send(body[:size])]
    return tuple(plan)


@fault("delay")
def delay(ctx: FaultContext) -> Plan:
    """The normal answer, after ``delay_s``."""
    body = ctx.body()
    return (
        Pause(ctx.wait_s(float(ctx.params.get("delay_s", 1.0)))),
        ctx.head(len(body)),
        Send(body),
    )


@fault("malformed_json")
def malformed_json(ctx: FaultContext) -> Plan:
    """A body labelled JSON that never parses: an object opened and never closed."""
    body = b'{"data": ' + ctx.body()[: max(1, len(ctx.body()) // 2)]
    return (ctx.head(len(body), kind="application/json"), Send(body))


HTML_502 = b"""<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


@fault("html_502")
def html_502(ctx: FaultContext) -> Plan:
    """A reverse proxy's own error page instead of the provider's envelope."""
    return (ctx.head(len(HTML_502), 502, "text/html"), Send(HTML_502))
