"""One call of the client before any scenario: a client that cannot run is a tool error.

Why: a command that does not exist, or a module that crashes before its first request, would
otherwise be run once per scenario and graded as a client failing every one ("0 passed, 210
failed"), while checks with nothing to judge read as passes. The probe drives the client once
through a provider's happy path (a session with no plan); a client that sends no request and
gives no outcome is not a client under test, and the run stops with exit 2 and what it printed.
A client that sent a request, or reported any outcome (an error included), goes on to be graded.
"""

from __future__ import annotations

from contextlib import suppress

import httpx

from .adapters import Client
from .catalogue import Provider
from .control_client import MockControl
from .errors import FaultproofError

#: The probe's time limit: a start-up allowance, not a measurement.
PROBE_TIMEOUT_S = 60.0


class ClientUnusable(FaultproofError):
    """The client under test could not be run at all."""


def probe(client: Client, control: MockControl, provider: Provider) -> None:
    """Raise ``ClientUnusable`` if ``client`` neither sends a request nor reports an outcome."""
    created = control.create()
    session_id, base_urls = created["id"], created["base_urls"]
    try:
        operation = provider.operations[provider.default_operation]
        run = client(base_urls[provider.id], provider.id, operation, PROBE_TIMEOUT_S)
        sent = control.settled_journal(session_id, 5.0)
    finally:
        with suppress(httpx.HTTPError):
            control.end(session_id)
    if sent or run.outcome is not None:
        return
    why = "was stopped" if run.killed else (run.error or "ended without an outcome")
    output = run.output_tail.strip()
    raise ClientUnusable(
        f"the client {client.name!r} sent no request and reported no outcome on "
        f"{provider.id}'s happy path ({operation.method} {operation.path}): {why}"
        + (f"\n--- its output ---\n{output}" if output else "\n(it printed nothing)")
    )
