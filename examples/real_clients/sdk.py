"""What the official SDK adapters (openai, anthropic, stripe) share: credentials and failures.

An SDK builds its own request and raises its own exceptions; the adapters only need to hand it
the operation's credentials the way a user configures an API key, and to read what it raised
back into the adapter protocol's terms. Both parts are the same for every SDK, so they live
here once (the rest of the protocol mapping is in the package's ``__init__``).
"""

from __future__ import annotations

from collections.abc import Mapping

from faultproof.contracts.verdict import Outcome, Transport

from . import caused_by_timeout, error, transport

#: The API key an SDK is built with when the operation authenticates without a bearer token
#: (an ``X-API-Key`` header, a session cookie): the SDKs refuse to start without one.
PLACEHOLDER_KEY = "faultproof-no-bearer-token"
#: Exception type names, anywhere in the cause chain, that mean the answer was unreadable.
PROTOCOL_ERRORS = ("RemoteProtocolError", "DecodingError", "ProtocolError", "ChunkedEncodingError")


def bearer_of(headers: Mapping[str, str]) -> str | None:
    """The bearer token of an ``Authorization`` header, which the SDKs take as their API key."""
    for name, value in headers.items():
        if name.lower() == "authorization" and value.lower().startswith("bearer "):
            return value[len("bearer ") :]
    return None


def other_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The operation's headers less ``Authorization``, which the SDK sends from its API key."""
    return {k: v for k, v in headers.items() if k.lower() != "authorization"}


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    item: BaseException | None = exc
    while item is not None and all(item is not s for s in seen):
        seen.append(item)
        item = item.__cause__ or item.__context__
    return seen


def transport_kind(exc: BaseException) -> Transport:
    """``timeout``, ``protocol`` or ``connection``: what an SDK's network error wraps."""
    if caused_by_timeout(exc):
        return "timeout"
    if any(type(e).__name__ in PROTOCOL_ERRORS for e in _chain(exc)):
        return "protocol"
    return "connection"


def failure(
    base_url: str, status: int | None, body: bytes | str | None, exc: BaseException
) -> Outcome:
    """An SDK exception as an outcome.

    With an error status it is the provider's error in normal form; with a 2xx status the SDK
    could not read a successful answer (``protocol``); without a status it is the transport.
    """
    if status is None:
        return transport(transport_kind(exc))
    if 200 <= status < 300:
        return transport("protocol")
    return error(base_url, status, body)
