"""Failures at a rate (``faultproof proxy --rate R``): a share of requests answered with one of
the provider's documented errors or a generic transport fault instead of normally.

Why seeded and locked: a failure a draw found must be found again. One ``random.Random(seed)``
per app, drawn under a lock once per request in arrival order, so the same seed and the same
order of requests give the same injections whichever thread serves each one.
"""

from __future__ import annotations

import random
import threading

from faultproof.contracts import Catalogue, Scenario

from .triggers import Trigger

#: Scenario kinds a draw picks from: a provider's error envelopes and the transport faults.
KINDS = frozenset({"error", "fault"})


class Injector:
    """Draws, per request, whether it fails and with what."""

    def __init__(self, rate: float, seed: int, catalogue: Catalogue) -> None:
        self.rate = rate
        self.catalogue = catalogue
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._candidates: dict[str, list[Scenario]] = {}

    def draw(self, provider: str) -> Trigger | None:
        """The failure this request of ``provider`` gets, or ``None`` (always, at rate 0)."""
        if not self.rate:
            return None
        candidates = self._candidates.get(provider)
        if candidates is None:
            candidates = [s for s in self.catalogue.scenarios(provider) if s.kind in KINDS]
            self._candidates[provider] = candidates
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            return Trigger(self._random.choice(candidates))
