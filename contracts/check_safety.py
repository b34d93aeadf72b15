"""``safe_retries``: a request that may have been processed is repeated only when it is safe.

Judged on what the client sent (the journal's request headers and bodies), never on the
operation it was asked to make: an SDK that adds its own ``Idempotency-Key`` and reuses it on the
retry is safe, and one that reuses a key with a different body is not (the server would answer
the first body's result for the second, or refuse it).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from .check_registry import CheckContext, Finding, check
from .evidence import NO_REQUEST, status, what


def idempotency_key(entry: Mapping[str, Any]) -> str | None:
    """The ``Idempotency-Key`` the request carried, if any (header names are case-blind)."""
    headers = entry.get("headers") or {}
    return next((str(v) for k, v in headers.items() if k.lower() == "idempotency-key"), None)


def ambiguous(entry: Mapping[str, Any]) -> bool:
    """An answer that may mean the request was processed: a 5xx, or none (a request still in
    flight counts: its answer never came)."""
    got = entry.get("status")
    return got is None or int(got) >= 500


def _same_request(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return (a.get("method"), a.get("path")) == (b.get("method"), b.get("path"))


@check("safe_retries", "persistent")
def safe_retries(ctx: CheckContext) -> Finding:
    """A non-idempotent request is not repeated after an answer that may mean it was processed,
    unless the repeat carries the same ``Idempotency-Key`` with the same body."""
    if ctx.operation.idempotent:
        return "skip", f"{ctx.operation.method} {ctx.operation.name} is idempotent"
    if not ctx.entries:
        return "skip", f"{NO_REQUEST}: nothing could be repeated"
    keyed = 0
    for entry, following in pairwise(ctx.entries):
        if not (ambiguous(entry) and _same_request(entry, following)):
            continue
        key, again = idempotency_key(entry), idempotency_key(following)
        where = f"{entry.get('method')} {entry.get('path')}"
        if key is None or again != key:
            return "fail", (
                f"repeated {where} after a {status(entry)} that may have been processed, "
                + ("without an Idempotency-Key" if again is None else "under a new Idempotency-Key")
            )
        if following.get("body") != entry.get("body"):
            return "fail", (
                f"reused Idempotency-Key {key!r} for a different body after a {status(entry)}: "
                "the server answers the first request's result"
            )
        keyed += 1
    if keyed:
        return (
            "pass",
            f"repeated the {ctx.operation.method} {keyed} time(s) under its own Idempotency-Key",
        )
    return "pass", f"did not repeat the {ctx.operation.method} after a {what(ctx)}"
