"""The WSGI front of the mock: the session prefix, then canned answers, then the Flask app.

Why a front layer: a canned answer (``canned.py``) needs no Flask at all, and sending it from
here costs a fifth of what Flask's request context, routing and hooks cost. Every WSGI server
and ``app.test_client()`` call ``app.wsgi_app``, which is this front, so there is one path
for canned answers whatever serves the app.

A request the canned path does not answer goes on to Flask with the decision in the environ
(``ONWARD_KEY``), where ``app._begin`` picks it up instead of deciding again (a plan step is
taken once). A front of another kind (an asyncio server) calls ``Canned.respond`` itself and,
for an ``Onward``, puts it under ``ONWARD_KEY`` before calling this front: it is not decided
twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request

from . import answers, control, cors, journal, sessions
from .canned import Answer, Ask, Canned
from .store_guard import StoreUnavailable, unjournaled

log = logging.getLogger("faultproof.mock")
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: Where the app finds what the canned path decided for a request it did not answer.
ONWARD_KEY = "faultproof.onward"
#: The control plane's first path segment: it answers at the root only, never in a session.
CONTROL_SEGMENT = "__faultproof"


def _not_under_session(rest: str) -> Callable[..., Iterable[bytes]]:
    """The 404 of ``/s/<id>/__faultproof/...``: sessions hold provider APIs, not the control
    plane (one session's prefix must not reach another's journal)."""
    return control.mock_error(
        f"the control plane is not inside a session: use {rest} (no /s/<id> prefix)",
        404,
        None,
        "not-in-session",
    )


class Front:
    """WSGI middleware wrapping the Flask app's own ``wsgi_app``.

    ``testing`` reads the app's testing flag: under test a bug on this path is re-raised, as
    the app's ``_internal_error`` does, so it cannot pass for a marked 500 a test ignores.
    """

    def __init__(self, app: WSGIApp, canned: Canned, testing: Callable[[], bool]) -> None:
        self.app = app
        self.canned = canned
        self.testing = testing

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        session, rest = sessions.split_prefix(environ.get("PATH_INFO", ""))
        if session is not None and rest.split("/", 2)[1] == CONTROL_SEGMENT:
            return _not_under_session(rest)(environ, start_response)
        if session is not None:
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + f"/s/{session}"
            environ["PATH_INFO"] = rest
        config = self.canned.config
        header = _environ_header(environ)
        if cors.applies(config.cors, rest, config.providers, header):
            if cors.is_preflight(environ["REQUEST_METHOD"], header):
                status, headers = cors.preflight(header)
                start_response(status, headers)
                return [b""]
            start_response = _with_cors(start_response, environ["HTTP_ORIGIN"])
        if ONWARD_KEY in environ:  # decided already by the server in front of this one
            return self.app(environ, start_response)
        request = Request(environ)
        ask = Ask(
            request.method,
            request.path,
            session,
            journal.request_headers(environ),
            dict(request.args.items()),
            lambda: request.get_data(cache=True),
        )
        try:
            decided = self.canned.respond(ask)
        except StoreUnavailable as error:  # the store's outage: the mock's 503, its loss counted
            unjournaled(self.canned.config.store, error)
            return answers.store_unavailable(error)(environ, start_response)
        except Exception as error:  # what the app's _internal_error does outside Flask
            if self.testing():
                raise
            log.exception("faultproof internal error on %s %s", request.method, request.path)
            return answers.internal_error(error)(environ, start_response)
        if isinstance(decided, Answer):
            start_response(decided.status_line, decided.headers)
            return [decided.body]
        environ[ONWARD_KEY] = decided
        return self.app(environ, start_response)


def _environ_header(environ: dict[str, Any]) -> Callable[[str], str | None]:
    """A header lookup straight from the environ: no request object on the path of every call."""
    return lambda name: environ.get("HTTP_" + name.upper().replace("-", "_"))


def _with_cors(start_response: Callable[..., Any], origin: str) -> Callable[..., Any]:
    """``start_response`` adding what makes the answer readable by a page from ``origin``
    (unless the app added it already, as it does to a fault's head)."""

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if not any(name.lower() == "access-control-allow-origin" for name, _ in headers):
            headers = [*headers, *cors.answer_headers(origin, (name for name, _ in headers))]
        return start_response(status, headers, exc_info)

    return start
