"""Evidence sentences that match the timeline: what was served, as it was served.

Every check words its evidence through these helpers, so that a wait reads ``1.39 s`` (never
``1.38979 s``), a message quotes the body the run served (its parameters, not the catalogue's
defaults) and a run without traffic says "sent no request".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

from .check_registry import CheckContext

NO_REQUEST = "sent no request"


def secs(value: float | int | str | None) -> str:
    """A duration as evidence shows it: at most two decimals, as DESIGN.md's example words it
    (``0.12 s``, ``1 s``, ``1.39 s``; never ``1.38979 s``)."""
    if value is None:
        return "no"
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return f"{text} s"


def status(entry: Mapping[str, Any]) -> str:
    """The answer's status, or what stood in for it."""
    if not answered(entry):
        return "request still unanswered"
    got = entry.get("status")
    return "no response" if got is None else str(got)


def answered(entry: Mapping[str, Any]) -> bool:
    """Whether the mock finished answering (an entry in flight has no ``responded_at``)."""
    return not entry.get("in_flight") and entry.get("responded_at") is not None


def gaps(entries: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], float]]:
    """(answer, wait before the next request) for each consecutive pair whose first was answered.

    No gap is measured after a request still in flight: it has no end to measure from.
    """
    return [
        (a, float(b["received_at"]) - float(a["responded_at"]))
        for a, b in pairwise(entries)
        if answered(a)
    ]


def served_params(ctx: CheckContext) -> dict[str, Any]:
    """The parameters the run served; a wait the journal saw stands in for one not given."""
    params = dict(ctx.params)
    if "retry_after" in ctx.scenario.params and "retry_after" not in params:
        wait = next((e["retry_after_s"] for e in ctx.entries if e.get("retry_after_s")), None)
        if wait is not None:
            params["retry_after"] = round(float(wait))
    return {k: v for k, v in params.items() if k in ctx.scenario.params}


def what(ctx: CheckContext) -> str:
    """The served answer in a few words: ``429 (RATE_001)``, ``503 (Try again in 1 seconds)``."""
    s = ctx.scenario
    said = s.code
    if not said and s.message and isinstance(s.body, (dict, list)):
        served = s.render(served_params(ctx), now=0).body
        said = ctx.provider.normal_form.apply(served).message
    return f"{s.status or s.fault} ({said or s.message or s.id})"


def asked(entry: Mapping[str, Any]) -> str:
    """The wait an answer asked for, as served (the journal's ``retry_after_s``)."""
    return secs(entry.get("retry_after_s"))


__all__ = ["NO_REQUEST", "answered", "asked", "gaps", "secs", "served_params", "status", "what"]
