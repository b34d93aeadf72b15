"""Provenance: where a scenario or a policy value comes from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Source:
    """Where a piece of catalogue data comes from.

    Attributes:
        kind: ``documented`` when a seed says it, ``assumed`` when it does not.
        seed: The seed file the quotes come from (documented), else ``None``.
        quotes: Verbatim excerpts of the seed (documented), else empty.
        reason: Why the value was assumed (assumed), else ``None``.
        assumptions: Parts of a documented item that the seed does not show, with reasons.
        assumed_params: The same, machine-readable, for policy values: (parameter, reason)
            pairs naming which parameters of a documented field are assumed (``initial_s`` of a
            backoff, ``retry_after_header`` of the wait sources, ``value`` for the number
            itself), so that a check resting on one of them warns instead of failing.
        pointer: Where the seed is an imported document, the JSON Pointer of the place the
            quotes come from.
    """

    kind: Literal["documented", "assumed"]
    seed: str | None
    quotes: tuple[str, ...]
    reason: str | None
    assumptions: tuple[str, ...]
    assumed_params: tuple[tuple[str, str], ...] = ()
    pointer: str | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any], default_seed: str | None) -> Source:
        quote = data.get("quote", ())
        quotes = (quote,) if isinstance(quote, str) else tuple(quote)
        documented = data["kind"] == "documented"
        return cls(
            kind=data["kind"],
            seed=data.get("seed", default_seed) if documented else None,
            quotes=quotes,
            reason=data.get("reason"),
            assumptions=tuple(data.get("assumptions", ())),
            assumed_params=tuple(data.get("assumed_params", {}).items()),
            pointer=data.get("pointer") if documented else None,
        )

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md shape: ``{kind, seed, quote | reason}``, plus any assumptions."""
        out: dict[str, Any] = {"kind": self.kind, "seed": self.seed}
        if self.kind == "documented":
            out["quote"] = self.quotes[0] if len(self.quotes) == 1 else list(self.quotes)
            if self.pointer is not None:
                out["pointer"] = self.pointer
        else:
            out["reason"] = self.reason
        if self.assumptions:
            out["assumptions"] = list(self.assumptions)
        if self.assumed_params:
            out["assumed_params"] = dict(self.assumed_params)
        return out
