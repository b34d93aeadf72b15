"""Who may use the control plane, decided from the request as data (issue 14).

Why this rule: a page in a browser on the same machine can reach a loopback server. With DNS
rebinding it does so under its own name (``Host: rebind.attacker.example``), and any page can
send a cross-site "simple" request (a ``text/plain`` POST) without a CORS preflight. Trusted local
dev servers refuse both the same way (Vite's ``server.allowedHosts``, webpack-dev-server's
``allowedHosts``, Jupyter's ``allow_origin`` and local-host check): only known Host names, no
foreign ``Origin``. A request to ``/__faultproof/...`` is checked in this order:

1. ``Host`` is ``localhost``, ``127.0.0.1`` or ``[::1]`` (any port), the address the request
   arrived at (with its port), the ``--host`` the mock was bound to, or an ``--allow-host``
   value (``name`` any port, ``name:port`` that port, ``.name`` the name and its subdomains);
   else 403 ``forbidden-host``.
2. No ``Origin``, or one whose host passes rule 1; and no ``Sec-Fetch-Site: cross-site``;
   else 403 ``cross-site``.
3. With a control token, every peer (loopback too) presents it, as ``Authorization: Bearer``
   or ``X-Faultproof-Token``; else 401 ``unauthorized``. Without one, loopback peers only; else
   403 ``forbidden``.
4. A body (or a declared ``Content-Type``) on a method that changes state is
   ``application/json``, else 415; and at most ``MAX_BODY_BYTES``, else 413.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

#: Host names that always mean this machine.
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
#: Largest control-plane request body, in bytes.
MAX_BODY_BYTES = 1024 * 1024
#: Methods whose body changes state: the ones a cross-site form could send.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class HeaderLookup(Protocol):
    """Header lookup by name: werkzeug's case-insensitive ``Headers``, or a dict in tests."""

    def get(self, key: str, /) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a control-plane request is refused.

    Attributes:
        status: HTTP status (401, 403, 413 or 415).
        message: What is wrong and how to fix it.
        kind: The ``X-Faultproof-Error`` value.
    """

    status: int
    message: str
    kind: str


@dataclass(frozen=True, slots=True)
class Asked:
    """What the rule reads of a request.

    Attributes:
        method: HTTP method.
        headers: Request headers; ``get`` is case-insensitive (werkzeug's ``Headers``).
        peer: The peer's address (``REMOTE_ADDR``).
        local: The address and port the request arrived at (``SERVER_NAME``, ``SERVER_PORT``).
        content_length: The declared body length, if any.
    """

    method: str
    headers: HeaderLookup
    peer: str | None
    local: tuple[str, str]
    content_length: int | None


def split_host(value: str) -> tuple[str, str | None] | None:
    """``name[:port]`` or ``[v6][:port]`` as (lower-case name, port or None); None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
    else:
        name, colon, port_text = value.rpartition(":")
        if not colon or ":" in name:  # no port, or a bare IPv6 address
            name, port = value, None
        else:
            port = port_text
    name = name.rstrip(".")
    if not name or (port is not None and not port.isdigit()):
        return None
    return name, port


def host_allowed(host: str, allowed: Sequence[str], local: tuple[str, str]) -> bool:
    """Whether a ``Host`` (or an ``Origin``'s host) names this mock (rule 1)."""
    given = split_host(host)
    if given is None:
        return False
    name, port = given
    here = split_host(local[0])
    if here is not None and name == here[0] and port in (None, local[1]):
        return True
    if name in LOCAL_NAMES:
        return True
    for value in allowed:
        rule = split_host(value)
        if rule is None:
            continue
        if rule[0].startswith("."):
            named = name == rule[0][1:] or name.endswith(rule[0])
        else:
            named = name == rule[0]
        if named and rule[1] in (None, port):
            return True
    return False


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def _token(headers: HeaderLookup) -> str:
    given = headers.get("X-Faultproof-Token") or ""
    scheme, _, rest = (headers.get("Authorization") or "").partition(" ")
    if not given and scheme.lower() == "bearer":
        given = rest.strip()
    return given


def check(asked: Asked, allowed: Sequence[str], token: str | None) -> Refusal | None:
    """The refusal the module docstring's rule gives ``asked``, or None to let it through."""
    host = asked.headers.get("Host") or ""
    if not host_allowed(host, allowed, asked.local):
        name = (split_host(host) or ("NAME", None))[0]
        return Refusal(
            403,
            f"the control plane does not answer to Host {host!r} (DNS rebinding guard): use "
            f"localhost or the address it is bound to, or start the mock with --allow-host {name}",
            "forbidden-host",
        )
    origin = asked.headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not host_allowed(
            parts.netloc, allowed, asked.local
        ):
            return Refusal(
                403,
                f"cross-site request refused: Origin {origin!r} is not an allowed host "
                "(add it with --allow-host)",
                "cross-site",
            )
    if (asked.headers.get("Sec-Fetch-Site") or "").lower() == "cross-site":
        return Refusal(403, "cross-site request refused (Sec-Fetch-Site: cross-site)", "cross-site")
    if token:
        if not hmac.compare_digest(_token(asked.headers).encode(), token.encode()):
            return Refusal(
                401,
                "the control plane needs its token from every caller: Authorization: Bearer "
                "<token> or X-Faultproof-Token (FAULTPROOF_CONTROL_TOKEN for faultproof's clients)",
                "unauthorized",
            )
    elif not _loopback(asked.peer):
        return Refusal(
            403,
            f"the control plane answers loopback callers only ({asked.peer} is not); "
            "start the mock with --control-token to allow others",
            "forbidden",
        )
    return _body(asked)


def _body(asked: Asked) -> Refusal | None:
    """Rule 4: a state-changing body is JSON and bounded."""
    if asked.method not in BODY_METHODS:
        return None
    declared = asked.headers.get("Content-Type")
    has_body = bool(asked.content_length) or "chunked" in (
        asked.headers.get("Transfer-Encoding") or ""
    )
    if declared is not None or has_body:
        mimetype = (declared or "").partition(";")[0].strip().lower()
        if mimetype != "application/json":
            return Refusal(
                415,
                f"control-plane bodies are Content-Type: application/json, got {declared!r}",
                "unsupported-media-type",
            )
    if asked.content_length is not None and asked.content_length > MAX_BODY_BYTES:
        return Refusal(413, too_large(), "too-large")
    return None


def too_large() -> str:
    """The 413 message, naming the limit."""
    return f"control-plane request bodies are at most {MAX_BODY_BYTES} bytes (1 MiB)"
