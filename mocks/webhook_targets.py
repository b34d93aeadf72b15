"""Where the mock may deliver a webhook: loopback by default, ``--webhook-allow`` widens it.

Why: ``POST /__faultproof/sessions/<id>/webhooks`` makes the mock send a request and report what
came back, which is request forgery if the URL may be anything (a cloud metadata address, a
service on the mock's network, the mock's own control plane). The rule:

- ``http`` or ``https``, no user info; no ``__faultproof`` in the path (decoded): the mock's
  own control plane, at whatever address, is never a receiver;
- the host is resolved once, here; every address it resolves to must be loopback
  (127.0.0.0/8, ::1), unless ``HOST`` or ``HOST:PORT`` is a ``--webhook-allow`` value;
  link-local (169.254.0.0/16, fe80::/10, where cloud metadata lives), unspecified and multicast
  addresses are refused even then, unless the allowed value is that address itself;
- the delivery connects to the address checked here (the URL's host goes in ``Host`` and TLS
  SNI), so a DNS answer that changes between check and connection (rebinding) cannot move it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from .access import split_host

Lookup = Callable[..., list[Any]]


class TargetError(ValueError):
    """A webhook URL the mock will not deliver to; the message says why and how to allow it."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked receiver.

    Attributes:
        url: The URL to connect to, its host replaced by the checked address.
        host: The ``Host`` header (the URL's own host and port).
        server_name: The name for TLS SNI and certificate checks (``https`` only).
        address: The checked IP address.
    """

    url: str
    host: str
    server_name: str | None
    address: str


def _risky(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_link_local or address.is_unspecified or address.is_multicast


def _allowed_by(name: str, port: int, allow: Sequence[str]) -> list[str]:
    """The ``--webhook-allow`` values naming ``name`` (and ``port``, when they give one)."""
    chosen = []
    for value in allow:
        rule = split_host(value)
        if rule is not None and rule[0] == name and rule[1] in (None, str(port)):
            chosen.append(rule[0])
    return chosen


def resolve(url: str, allow: Sequence[str], lookup: Lookup | None = None) -> Target:
    """Check ``url`` against the module docstring's rule and pin it to one checked address
    (``lookup``: ``socket.getaddrinfo`` unless a test gives another)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"'url' must be an http(s) URL of the receiver, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise TargetError("'url' must not carry user info (user:password@)")
    path = parts.path
    for _ in range(3):  # %255F%255F decodes twice to __
        path = unquote(path)
    if "__faultproof" in path.lower():
        raise TargetError("the mock does not deliver webhooks to a control plane (/__faultproof/)")
    name = parts.hostname.lower().rstrip(".")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetError(f"'url' has a bad port: {url!r}") from None
    allowed = _allowed_by(name, port, allow)
    try:
        found = (lookup or socket.getaddrinfo)(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetError(f"cannot resolve the receiver's host {name!r}: {exc}") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found]
    if not addresses:
        raise TargetError(f"the receiver's host {name!r} resolves to no address")
    for address in addresses:
        literal = any(value == str(address) for value in allowed)
        if literal or ((address.is_loopback or allowed) and not _risky(address)):
            continue
        if allowed:  # allowed by name, but the address is link-local, unspecified or multicast
            raise TargetError(
                f"{name!r} resolves to {address}, which the mock delivers to only when "
                f"--webhook-allow names that address itself"
            )
        raise TargetError(
            f"webhooks go to loopback receivers only; {name!r} resolves to {address}: "
            f"start the mock with --webhook-allow {name}:{port} to deliver there"
        )
    chosen = addresses[0]
    netloc = f"[{chosen}]:{port}" if chosen.version == 6 else f"{chosen}:{port}"
    host = parts.netloc.rpartition("@")[2]
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(pinned, host, name if parts.scheme == "https" else None, str(chosen))
