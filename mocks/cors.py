"""CORS on the provider surfaces, as Prism answers it by default; never on the control plane.

Why: a browser app that uses the mock as its local fake backend sends a preflight before any
request with an ``Authorization`` or JSON body, and reads an answer only when it carries
``Access-Control-Allow-Origin``. Prism answers every preflight with a 204 that allows any
origin, method and header, and marks every answer as readable; the mock does the same on the
provider surfaces (``faultproof serve --no-cors`` turns it off). The control plane never sends
CORS headers, so a page can neither preflight it nor read its answers (``access.py`` refuses
a foreign ``Origin`` there before anything else).

Only a request that carries ``Origin`` gets these headers: browsers always send it on a
cross-origin request, and every other client keeps the same bytes as before. A preflight is
the mock's CORS layer answering, not a provider call: it is not journaled (a judge counting
attempts must not count it), and it carries ``X-Faultproof-Cors: preflight``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

#: The methods a preflight allows: every method a provider surface answers.
METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
#: How long a browser may cache a preflight's answer, in seconds.
MAX_AGE_S = 600
#: Response headers a script may read without being exposed (the Fetch standard's safelist).
SAFELISTED = frozenset(
    {
        "cache-control",
        "content-language",
        "content-length",
        "content-type",
        "expires",
        "last-modified",
        "pragma",
    }
)
Header = tuple[str, str]
Lookup = Callable[[str], "str | None"]


def applies(enabled: bool, path: str, providers: Sequence[str], header: Lookup) -> bool:
    """Whether a request to ``path`` (below any ``/s/<id>`` prefix) gets CORS headers: from a
    page (it carries ``Origin``) to a served provider's surface."""
    if not enabled or not header("Origin") or not path.startswith("/"):
        return False
    return path.split("/", 2)[1] in providers


def is_preflight(method: str, header: Lookup) -> bool:
    return (
        method == "OPTIONS"
        and bool(header("Origin"))
        and bool(header("Access-Control-Request-Method"))
    )


def preflight(header: Lookup) -> tuple[str, list[Header]]:
    """The 204 status line and headers answering a preflight."""
    asked = header("Access-Control-Request-Headers")
    return "204 NO CONTENT", [
        ("Access-Control-Allow-Origin", header("Origin") or "*"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Methods", METHODS),
        ("Access-Control-Allow-Headers", asked or "*"),
        ("Access-Control-Max-Age", str(MAX_AGE_S)),
        ("Vary", "Origin, Access-Control-Request-Headers"),
        ("X-Faultproof-Cors", "preflight"),
        ("Content-Length", "0"),
    ]


def answer_headers(origin: str, names: Iterable[str]) -> list[Header]:
    """What makes an answer with headers ``names`` readable by a page from ``origin``.

    The origin is echoed (with credentials allowed), not ``*``: a browser refuses ``*`` on a
    request that sends credentials, and ``Access-Control-Expose-Headers: *`` likewise, so the
    answer's own header names are listed (``Retry-After``, ``X-RateLimit-*``, the scenario).
    """
    exposed = sorted({n for n in names if n.lower() not in SAFELISTED})
    headers = [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Credentials", "true"),
        ("Vary", "Origin"),
    ]
    if exposed:
        headers.append(("Access-Control-Expose-Headers", ", ".join(exposed)))
    return headers
