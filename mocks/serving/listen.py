"""The listening socket of ``faultproof serve``, bound before anything is printed.

Why bind first: the banner then names the port really bound (``--port 0`` asks the system for
a free one, which a script reads from the banner), and a port in use is a usage error at once,
with a hint, instead of a banner that promises a server and an exit a few seconds later.
"""

from __future__ import annotations

import errno
import socket


class ListenError(Exception):
    """The address cannot be listened on; the message says why and what to do."""


def listen(host: str, port: int) -> socket.socket:
    """A bound TCP socket on ``host:port`` (IPv6 when ``host`` is an IPv6 address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ListenError(
                f"port {port} on {host} is in use (another faultproof serve?): choose another "
                "with --port, or --port 0 for a free one"
            ) from None
        raise ListenError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.set_inheritable(True)  # workers are spawned processes that serve this socket
    return sock


def bound_port(sock: socket.socket) -> int:
    """The port the system gave ``sock``."""
    return int(sock.getsockname()[1])
