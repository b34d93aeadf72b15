"""A fault's plan performed on a blocking socket: werkzeug's, the in-process runner's
(``faults.py`` says why plans). The server writes what the returned Response holds; this
module does the rest on the socket itself: waits, closes, resets.

Socket tricks measured on werkzeug: ``shutdown`` for an orderly close,
``connect(AF_UNSPEC)`` for a TCP reset (``SO_LINGER 0`` does nothing on werkzeug), and a 50 ms
peek loop to notice a client that left. Without a socket (``app.test_client()``) waits are plain
bounded sleeps; faults that need the connection are refused before a plan runs (``refusal``).
"""

from __future__ import annotations

import ctypes
import socket
import time
from collections.abc import Iterator

from flask import Response

from ..faults import Close, Head, Pause, Plan, Send, WaitGone

STEP_S = 0.05


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


def wait(sock: socket.socket | None, seconds: float) -> bool:
    """Sleep up to ``seconds``; False as soon as the client leaves."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if client_left(sock):
            return False
        time.sleep(min(STEP_S, left))
    return True


def close(sock: socket.socket | None, mode: str = "fin") -> None:
    """End the connection now: ``fin`` an orderly close, ``rst`` a TCP reset."""
    if sock is None:
        return
    try:
        if mode == "rst":
            # Linux aborts a TCP connection on connect() to an AF_UNSPEC address: the peer gets RST.
            address = ctypes.create_string_buffer(bytes(ctypes.c_ushort(socket.AF_UNSPEC)), 16)
            ctypes.CDLL(None, use_errno=True).connect(sock.fileno(), address, 16)
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def perform(plan: Plan, sock: socket.socket | None) -> Response:
    """Run the plan's actions up to its head here, and hand the rest to the server as a body.

    A plan that closes before any head answers an empty Response the server writes into a
    closed socket (nothing reaches the client); one whose body is only bytes is an ordinary
    Response; anything else streams, its pauses and close run between the chunks.
    """
    for index, action in enumerate(plan):
        if isinstance(action, Head):
            return _answer(action, plan[index + 1 :], sock)
        if isinstance(action, WaitGone):
            wait(sock, action.max_s)
        elif isinstance(action, Pause) and not wait(sock, action.seconds):
            close(sock)
            return Response(b"", status=200)
        elif isinstance(action, Close):
            close(sock, action.mode)
            return Response(b"", status=200)
    return Response(b"", status=200)


def _answer(head: Head, rest: Plan, sock: socket.socket | None) -> Response:
    if all(isinstance(action, Send) for action in rest):
        body = b"".join(action.data for action in rest if isinstance(action, Send))
        response = Response(body, status=head.status)
        response.headers.clear()
        response.headers.extend(head.headers)
        return response

    def chunks() -> Iterator[bytes]:
        for action in rest:
            if isinstance(action, Send):
                yield action.data
            elif isinstance(action, Pause) and not wait(sock, action.seconds):
                return
            elif isinstance(action, Close):
                close(sock, action.mode)
                return

    response = Response(chunks(), status=head.status, direct_passthrough=True)
    response.headers.clear()
    response.headers.extend(head.headers)
    return response
