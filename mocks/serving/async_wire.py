"""A fault's plan performed on the event loop of the default server (``faults.py`` says why
plans): waits are ``asyncio`` waits on the client's ``http.disconnect``, so a hang or a slow
drip holds no thread, only its connection.

The head and body go through ASGI ``send`` (uvicorn writes the head, and with the full
Content-Length announced it sends the body as given); closes act on the transport the
protocol puts in the scope (``protocol.py``): ``close()`` for FIN, ``SO_LINGER 0`` then
``abort()`` for RST. After a close the executor waits (bounded) for uvicorn to see the
connection lost, so it does not log the deliberate cut as an app that never answered. A plan
still running when the server stops (after its 2 s grace) is cut the same way. ``relay`` sends
a streamed answer on the loop too, each piece read in a thread, none held between pieces.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from ..faults import Close, Head, Pause, Plan, Send, WaitGone

log = logging.getLogger("faultproof.mock")
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send_ = Callable[[dict[str, Any]], Awaitable[None]]
#: How long a closed connection may take to be reported lost.
LOST_S = 2.0


async def _until_gone(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def close(transport: asyncio.Transport, mode: str) -> None:
    """FIN: an orderly close; RST: linger 0 and abort (the kernel sends a reset)."""
    if mode == "rst":
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


async def perform(plan: Plan, transport: asyncio.Transport, receive: Receive, send: Send_) -> None:
    """Run ``plan`` on this connection; returns when it has ended (the client got it all,
    left, or the connection was closed)."""
    gone = asyncio.ensure_future(_until_gone(receive))
    headed = False
    try:
        for action in plan:
            if isinstance(action, WaitGone):
                await asyncio.wait({gone}, timeout=action.max_s)
            elif isinstance(action, Pause):
                await asyncio.wait({gone}, timeout=action.seconds)
                if gone.done():
                    close(transport, "fin")
                    return
            elif isinstance(action, Head):
                headed = True
                await send(
                    {
                        "type": "http.response.start",
                        "status": action.status,
                        "headers": [
                            (name.lower().encode("latin-1"), value.encode("latin-1"))
                            for name, value in action.headers
                        ],
                    }
                )
            elif isinstance(action, Send):
                await send({"type": "http.response.body", "body": action.data, "more_body": True})
            elif isinstance(action, Close):
                close(transport, action.mode)
                await asyncio.wait({gone}, timeout=LOST_S)
                return
        if headed:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    except asyncio.CancelledError:
        # The server is stopping and its grace period is over. Cut the connection and end once
        # uvicorn has seen it lost: a cancelled app task would otherwise get uvicorn's own 500,
        # an answer standing in for a hang, and a traceback in the log.
        close(transport, "fin")
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({gone}, timeout=LOST_S)
    finally:
        gone.cancel()


async def relay(
    head: dict[str, Any],
    chunk: Callable[[], Awaitable[bytes | None]],
    transport: asyncio.Transport,
    receive: Receive,
    send: Send_,
) -> None:
    """Send a streamed answer (no Content-Length: SSE, NDJSON, a proxied chunked answer) as
    ``chunk`` reads each piece (``None``: the end), so a stream that never ends still flows.
    Reading stops once the client has left; a piece that fails to come (the upstream cut its
    stream) cuts this connection too, so the client sees the answer end early, as it did. The
    server stopping cuts it as it cuts a plan, then the cancellation goes on to the caller (a
    read may still be under way)."""
    gone = asyncio.ensure_future(_until_gone(receive))
    try:
        await send(head)
        while not gone.done():
            data = await chunk()
            more = data is not None
            await send({"type": "http.response.body", "body": data or b"", "more_body": more})
            if not more:
                return
    except asyncio.CancelledError:
        close(transport, "fin")
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({gone}, timeout=LOST_S)
        raise
    except Exception:
        log.exception("a streamed answer failed after its head was sent; connection cut")
        close(transport, "fin")
        await asyncio.wait({gone}, timeout=LOST_S)
    finally:
        gone.cancel()


def ending(plan: Plan, seconds: float) -> str:
    """How a plan ended, for the access log: uvicorn logs a head it sends, never a hang or a
    close, so without this line a dropped connection would leave no trace there."""
    sent = sum(len(a.data) for a in plan if isinstance(a, Send))
    head = next((a for a in plan if isinstance(a, Head)), None)
    closed = next((a for a in plan if isinstance(a, Close)), None)
    how = f"closed ({closed.mode.upper()})" if closed else "ended"
    if head is None:
        if any(isinstance(a, WaitGone) for a in plan):
            return f"no answer, held {seconds:.2f} s until the client left or the bound"
        return f"no answer, connection {how}"
    announced = dict((n.lower(), v) for n, v in head.headers).get("content-length", "?")
    return f"{head.status}, {sent} of {announced} body bytes in {seconds:.2f} s, then {how}"
