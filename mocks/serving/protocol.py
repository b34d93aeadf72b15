"""uvicorn's httptools protocol, handing each request's transport to the app.

Why: transport faults act on the connection itself (a FIN or RST before any byte, a body cut
short), which ASGI does not expose. uvicorn takes the protocol class as a documented extension
point (``Config(http=...)``); this subclass puts the transport into the scope's
``extensions`` before the app task for the request starts.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: The scope extension holding the request's ``asyncio.Transport``.
TRANSPORT = "faultproof.transport"


class FaultproofProtocol(HttpToolsProtocol):
    """HttpToolsProtocol whose scopes carry their connection's transport."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # ASGI types extension values as dicts; this one is the transport itself.
        self.scope["extensions"] = {TRANSPORT: self.transport}  # type: ignore[dict-item]
