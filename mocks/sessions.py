"""Sessions: ``/s/<id>/<provider>/...`` or the ``X-Faultproof-Session`` header.

A WSGI middleware moves the ``/s/<id>`` prefix from ``PATH_INFO`` to ``SCRIPT_NAME``, so every
route, and every URL the app builds, works unchanged inside a session. Ids are 128 random bits.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from .store import DEFAULT_SESSION

SESSION_HEADER = "X-Faultproof-Session"
ENVIRON_KEY = "faultproof.session"
PREFIX = re.compile(r"^/s/([A-Za-z0-9_-]{1,64})(/.*)?$")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def new_id() -> str:
    """An unguessable session id."""
    return secrets.token_urlsafe(16)


def new_secret() -> str:
    """A session's webhook signing secret."""
    return "whsec_" + secrets.token_hex(16)


class SessionPrefix:
    """WSGI middleware: ``/s/<id>/rest`` becomes ``/rest`` inside session ``<id>``."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        match = PREFIX.match(environ.get("PATH_INFO", ""))
        if match:
            session_id, rest = match.group(1), match.group(2) or "/"
            environ[ENVIRON_KEY] = session_id
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + f"/s/{session_id}"
            environ["PATH_INFO"] = rest
        return self.app(environ, start_response)


def requested_session(environ: dict[str, Any], headers: Any) -> str:
    """The session a request names: its path prefix, else its header, else ``default``."""
    return str(environ.get(ENVIRON_KEY) or headers.get(SESSION_HEADER) or DEFAULT_SESSION)
