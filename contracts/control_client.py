"""The mock's control plane as the runner and test helpers use it: plain HTTP, no Flask."""

from __future__ import annotations

import os
import time
from typing import Any

import httpx

from .errors import FaultproofError

#: How often a settling journal is read again.
SETTLE_POLL_S = 0.05
#: Where the control token comes from when none is given (``faultproof serve`` reads it too).
TOKEN_ENV = "FAULTPROOF_CONTROL_TOKEN"
#: The header that carries a session's key (``faultproof.mocks.session_keys``).
SESSION_KEY_HEADER = "X-Faultproof-Session-Key"


class MockControl:
    """The mock's control plane, as the runner uses it.

    ``token`` is the mock's ``--control-token`` (default ``$FAULTPROOF_CONTROL_TOKEN``): a mock
    started with one asks it of every caller; a mock without one ignores it. Session keys (a
    mock with a token or ``--session-keys``) are kept per session and sent with its calls.
    """

    def __init__(self, url: str, token: str | None = None) -> None:
        token = token if token is not None else os.environ.get(TOKEN_ENV) or None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url + "/__faultproof", headers=headers, timeout=30)
        self._keys: dict[str, dict[str, str]] = {}

    def check(self) -> None:
        try:
            answer = self.http.get("/health")
        except httpx.HTTPError as exc:
            raise FaultproofError(f"no faultproof mock answers at {self.url}: {exc}") from None
        if answer.status_code in (401, 403):
            raise FaultproofError(
                f"the faultproof mock at {self.url} refused its control plane "
                f"({answer.status_code}: {answer.text.strip()}); a mock started with "
                f"--control-token needs it here too ({TOKEN_ENV} or token=)"
            )
        try:
            answer.raise_for_status()
        except httpx.HTTPError as exc:
            raise FaultproofError(f"no faultproof mock answers at {self.url}: {exc}") from None

    def create(self) -> dict[str, Any]:
        """A new session (its id, base URLs and, from a mock with session keys, its key)."""
        created: dict[str, Any] = self.http.post("/sessions").raise_for_status().json()
        if created.get("key"):
            self._keys[created["id"]] = {SESSION_KEY_HEADER: created["key"]}
        return created

    def key_headers(self, session_id: str) -> dict[str, str]:
        """What a call for the session carries: its key, if the mock gave one."""
        return self._keys.get(session_id, {})

    def session(self, plan: dict[str, Any]) -> tuple[str, dict[str, str]]:
        created = self.create()
        answer = self.http.put(
            f"/sessions/{created['id']}/plan", json=plan, headers=self.key_headers(created["id"])
        )
        if answer.status_code != 200:
            raise FaultproofError(f"the mock refused the plan {plan}: {answer.text}")
        return created["id"], created["base_urls"]

    def journal_page(self, session_id: str) -> tuple[list[dict[str, Any]], int]:
        """The inbound entries of a session, and how many requests the mock is still answering."""
        data = (
            self.http.get(f"/sessions/{session_id}/journal", headers=self.key_headers(session_id))
            .raise_for_status()
            .json()
        )
        entries = [e for e in data["entries"] if e.get("direction") != "outbound"]
        return entries, int(data.get("in_flight") or 0)

    def journal(self, session_id: str) -> list[dict[str, Any]]:
        return self.journal_page(session_id)[0]

    def first_request_at(self, session_id: str) -> float | None:
        """When the session's first request reached the mock (epoch seconds), if one did."""
        entries = self.journal(session_id)
        return min((float(e["received_at"]) for e in entries), default=None)

    def settled_journal(self, session_id: str, bound_s: float) -> list[dict[str, Any]]:
        """The journal once no request of the session is in flight, or after ``bound_s``."""
        deadline = time.monotonic() + bound_s
        entries, in_flight = self.journal_page(session_id)
        while in_flight and time.monotonic() < deadline:
            time.sleep(SETTLE_POLL_S)
            entries, in_flight = self.journal_page(session_id)
        return entries

    def end(self, session_id: str) -> None:
        self.http.delete(f"/sessions/{session_id}", headers=self.key_headers(session_id))
        self._keys.pop(session_id, None)


__all__ = ["MockControl"]
