"""Per-session keys: who created a session may read, re-plan or delete it; no one else may.

Why: a session id is handed to the client under test (it is in the base URL), and on a shared
mock every caller holds the same control token. With keys on (a control token, or
``--session-keys``), ``POST /__faultproof/sessions`` answers a ``key`` as well, and every
``/__faultproof/sessions/<id>/...`` call for that session must carry it as
``X-Faultproof-Session-Key``. The ``default`` session has no key.

A key is HMAC-SHA256 of the id under the mock's secret (its control token, or a random secret
``faultproof serve`` draws once and hands to its workers), so no store holds keys and every
worker, and every replica sharing the token, derives the same one.
"""

from __future__ import annotations

import hashlib
import hmac

from .store import DEFAULT_SESSION

KEY_HEADER = "X-Faultproof-Session-Key"


def key(secret: str, session_id: str) -> str:
    """The session's key: 128 bits, hex."""
    digest = hmac.new(secret.encode(), f"session-key:{session_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def refused(secret: str, session_id: str, given: str | None) -> str | None:
    """Why a call for ``session_id`` carrying ``given`` is refused, or None when it may go on."""
    if session_id == DEFAULT_SESSION:
        return None
    if given and hmac.compare_digest(given.encode(), key(secret, session_id).encode()):
        return None
    return (
        f"this mock asks for the session's key: send {KEY_HEADER} with the 'key' that "
        "POST /__faultproof/sessions answered when it created the session"
    )
