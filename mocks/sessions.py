"""Sessions: ``/s/<id>/<provider>/...`` or the ``X-Faultproof-Session`` header.

The prefix wins over the header, and neither means the ``default`` session. The WSGI front
(``front.py``) moves the ``/s/<id>`` prefix from ``PATH_INFO`` to ``SCRIPT_NAME``, so every
route, and every URL the app builds, works unchanged inside a session. Ids are 128 random bits.
"""

from __future__ import annotations

import re
import secrets

SESSION_HEADER = "X-Faultproof-Session"
PREFIX = re.compile(r"^/s/([A-Za-z0-9_-]{1,64})(/.*)?$")
#: What an id the mock issues (or ``default``) looks like; anything else was never issued.
VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_id() -> str:
    """An unguessable session id."""
    return secrets.token_urlsafe(16)


def valid_id(session_id: str) -> bool:
    """Whether ``session_id`` could be one the mock issued: others never reach a store."""
    return VALID_ID.fullmatch(session_id) is not None


def new_secret() -> str:
    """A session's webhook signing secret."""
    return "whsec_" + secrets.token_hex(16)


def split_prefix(path: str) -> tuple[str | None, str]:
    """``/s/<id>/rest`` as ``(<id>, /rest)``; any other path as ``(None, path)``."""
    match = PREFIX.match(path)
    if match is None:
        return None, path
    return match.group(1), match.group(2) or "/"
