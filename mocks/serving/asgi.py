"""The mock as an ASGI app: canned answers on the event loop, the rest in a bounded thread pool.

Why this split: a canned answer (``canned.Canned.respond``) is pure computation plus a store
write; on the in-memory store that write is a dict operation, so answering on the loop costs
no thread hop at all. Everything else (a provider view, the control plane) is the Flask app,
called as WSGI in a thread of a bounded pool (Flask is synchronous); an answer that announces
no length (a stream: NDJSON, a proxied SSE or chunked answer) is sent as it comes, each piece
read in the pool (``async_wire.relay``). A transport fault the app
decides is not performed in that thread: the app leaves its plan in the environ
(``faults.PLAN_SLOT``) and this app performs it on the loop (``async_wire``), then completes
the journal entry, so a held hang costs a connection and no thread. Redis and SQLite stores do
blocking I/O, so with them canned answers are decided in the pool too.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask

from .. import answers, journal, sessions
from ..canned import Answer, Ask, Canned
from ..faults import PLAN_SLOT
from ..front import ONWARD_KEY
from ..memory_store import MemoryStore
from ..store_guard import unwrapped
from . import async_wire
from .protocol import TRANSPORT

log = logging.getLogger("faultproof.mock")
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Collected = tuple[int, list[tuple[bytes, bytes]], bytes]
#: An answer as ``_called`` gives it: collected, and its stream still unread (or ``None``).
Called = tuple[Collected, Iterable[bytes] | None]


class MockASGI:
    """One mock app (``create_app``) served over ASGI."""

    def __init__(self, app: Flask, threads: int, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log
        self.canned: Canned = app.wsgi_app.canned  # type: ignore[attr-defined]
        cfg = app.extensions["faultproof"]
        self.on_loop = isinstance(unwrapped(cfg.store), MemoryStore)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="faultproof")

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    pass
            return
        body = await _body(receive)
        environ = _environ(scope, body)
        loop = asyncio.get_running_loop()
        try:
            if self.on_loop and "HTTP_ORIGIN" not in environ:  # a page's calls: CORS in front.py
                decided = self.canned.respond(_ask(environ, body))
                if isinstance(decided, Answer):
                    return await _send(send, _wire(decided))
                environ[ONWARD_KEY] = decided
            collected, stream = await loop.run_in_executor(self.pool, self._wsgi, environ)
        except Exception as error:  # a bug in the mock: loud, marked, never a provider answer
            log.exception("faultproof internal error on %s %s", scope["method"], scope["path"])
            collected, stream = _called(answers.internal_error(error), environ)
        slot: list[Any] = environ[PLAN_SLOT]
        if stream is not None and not slot:
            return await self._relay(scope, receive, send, collected, stream)
        if stream is not None:  # a fault that never read the stream: its source is released
            await loop.run_in_executor(self.pool, _close, stream)
        if not slot:
            return await _send(send, collected)
        plan, complete, answered = slot[0]
        headers = collected[1]
        transport = scope["extensions"][TRANSPORT]
        started = loop.time()
        try:
            await async_wire.perform(plan, transport, receive, send)
        finally:
            if self.access_log:
                _log_fault(scope, headers, async_wire.ending(plan, loop.time() - started))
            if self.on_loop:
                complete(answered)
            else:
                await loop.run_in_executor(self.pool, complete, answered)

    def _wsgi(self, environ: dict[str, Any]) -> Called:
        return _called(self.app.wsgi_app, environ)

    async def _relay(
        self,
        scope: dict[str, Any],
        receive: Receive,
        send: Send,
        collected: Collected,
        stream: Iterable[bytes],
    ) -> None:
        """A streamed answer sent as it comes; its source released at the end, or once the
        client has left."""
        loop = asyncio.get_running_loop()
        pieces = iter(stream)
        status, headers, _ = collected
        try:
            await async_wire.relay(
                {"type": "http.response.start", "status": status, "headers": headers},
                lambda: loop.run_in_executor(self.pool, next, pieces, None),
                scope["extensions"][TRANSPORT],
                receive,
                send,
            )
        except asyncio.CancelledError:
            # The server is stopping, maybe mid-read: the stream goes with the process, and no
            # cancelled task is left for uvicorn to answer with its own 500 (as async_wire.perform)
            return
        await loop.run_in_executor(self.pool, _close, stream)


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _environ(scope: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The WSGI environ of an ASGI scope (PEP 3333; paths latin-1 decoded as WSGI wants)."""
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "SERVER_SOFTWARE": "faultproof (uvicorn)",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        # The body is read whole: werkzeug may read it without a length (a chunked request).
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        PLAN_SLOT: [],
    }
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if name == "content-type":
            key = "CONTENT_TYPE"
        elif name == "content-length":
            key = "CONTENT_LENGTH"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _ask(environ: dict[str, Any], body: bytes) -> Ask:
    session, path = sessions.split_prefix(environ["PATH_INFO"])
    query = environ["QUERY_STRING"]
    return Ask(
        environ["REQUEST_METHOD"],
        path,
        session,
        journal.request_headers(environ),
        _query(query) if query else {},
        lambda: body,
    )


def _query(query: str) -> dict[str, str]:
    """The first value of each name, as werkzeug's ``request.args.items()``."""
    found: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        found.setdefault(name, value)
    return found


def _log_fault(scope: dict[str, Any], headers: list[tuple[bytes, bytes]], how: str) -> None:
    """One access-log line for a fault, shaped as uvicorn's own (``--access-log``); through
    uvicorn's general logger, whose format takes any message (its access format wants a
    status code)."""
    client = scope.get("client") or ("-", 0)
    scenario = dict(headers).get(b"x-faultproof-scenario", b"fault").decode("latin-1")
    logging.getLogger("uvicorn.error").info(
        '%s:%s - "%s %s HTTP/%s" %s: %s',
        client[0],
        client[1],
        scope["method"],
        scope["path"],
        scope["http_version"],
        scenario,
        how,
    )


def _wire(answer: Answer) -> Collected:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in answer.headers]
    return answer.status, headers, answer.body


def _called(wsgi: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> Called:
    """Call a WSGI app: its whole answer when it announces its length (each answer the mock
    makes, small and finite), else its head and its stream, unread."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started[:] = [status, headers]

    result = wsgi(environ, start_response)
    streamed = bool(started) and all(n.lower() != "content-length" for n, _ in started[1])
    content = b""
    if not streamed:
        try:
            content = b"".join(result)
        finally:
            _close(result)
    status, headers = started
    encoded = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]
    return (int(status.split(" ", 1)[0]), encoded, content), result if streamed else None


def _close(result: Iterable[bytes]) -> None:
    """A WSGI answer's ``close`` (PEP 3333), which releases what it streamed from."""
    close = getattr(result, "close", None)
    if close is not None:
        close()


async def _send(send: Send, answer: Collected) -> None:
    status, headers, content = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content, "more_body": False})
