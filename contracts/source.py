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
    """

    kind: Literal["documented", "assumed"]
    seed: str | None
    quotes: tuple[str, ...]
    reason: str | None
    assumptions: tuple[str, ...]

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
        )

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md shape: ``{kind, seed, quote | reason}``, plus any assumptions."""
        out: dict[str, Any] = {"kind": self.kind, "seed": self.seed}
        if self.kind == "documented":
            out["quote"] = self.quotes[0] if len(self.quotes) == 1 else list(self.quotes)
        else:
            out["reason"] = self.reason
        if self.assumptions:
            out["assumptions"] = list(self.assumptions)
        return out
