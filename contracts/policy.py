"""A provider's client policy: what a well-behaved client retries, and how long it waits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .source import Source

WaitSource = Literal["retry_after_header", "body_retry_after", "x_ratelimit_reset"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff between attempts when the server names no wait.

    Attributes:
        initial_s: Wait before the first retry.
        multiplier: Factor applied per further retry.
        max_s: Ceiling of one computed wait.
        jitter_ratio: Allowed relative deviation (0.1 means +-10 %).
    """

    initial_s: float
    multiplier: float
    max_s: float
    jitter_ratio: float

    def nominal(self, retry: int) -> float:
        """Un-jittered wait before retry number ``retry`` (1 for the first retry)."""
        if retry < 1:
            raise ValueError(f"retry numbers start at 1, got {retry}")
        exponent = min(retry - 1, 64)
        return float(min(self.max_s, self.initial_s * self.multiplier**exponent))


@dataclass(frozen=True, slots=True)
class ClientPolicy:
    """What the provider asks of a client, each value with its provenance.

    Attributes:
        retryable_statuses: HTTP statuses worth retrying.
        max_attempts: Upper bound on attempts for one operation, the first included.
        min_wait_s: Shortest acceptable wait before a retry.
        max_wait_s: Longest a client should wait for one retry; longer asked waits are capped
            or surfaced as errors.
        backoff: The backoff used when the server names no wait.
        wait_sources: Where the wait comes from, most authoritative first.
        timeout_s: How long a request may go unanswered before the client gives up.
        sources: Provenance per field name.
    """

    retryable_statuses: frozenset[int]
    max_attempts: int
    min_wait_s: float
    max_wait_s: float
    backoff: Backoff
    wait_sources: tuple[WaitSource, ...]
    timeout_s: float
    sources: dict[str, Source]

    @classmethod
    def from_data(cls, data: dict[str, Any], default_seed: str | None) -> ClientPolicy:
        return cls(
            retryable_statuses=frozenset(data["retryable_statuses"]),
            max_attempts=int(data["max_attempts"]),
            min_wait_s=float(data["min_wait_s"]),
            max_wait_s=float(data["max_wait_s"]),
            backoff=Backoff(**{k: float(v) for k, v in data["backoff"].items()}),
            wait_sources=tuple(data["wait_sources"]),
            timeout_s=float(data["timeout_s"]),
            sources={k: Source.from_data(v, default_seed) for k, v in data["sources"].items()},
        )

    def assumption(self, ref: str) -> str | None:
        """Why the policy value ``ref`` is assumed, or ``None`` when a seed documents it.

        ``ref`` is a field (``max_attempts``) or a field and one of its parameters
        (``backoff.initial_s``, ``wait_sources.retry_after_header``, ``max_attempts.status_429``).
        A field is assumed when its source is; a parameter also when the field's source lists
        it under ``assumed_params`` (``value`` stands for the field's number itself).
        """
        field, _, param = ref.partition(".")
        if field not in self.sources:
            raise ValueError(f"no policy field {field!r}; valid: {', '.join(sorted(self.sources))}")
        source = self.sources[field]
        shown = self._shown(field, param)
        if source.kind == "assumed":
            return f"{shown} is assumed ({_first_clause(source.reason or '')})"
        reason = dict(source.assumed_params).get(param or "value")
        return None if reason is None else f"{shown} is assumed ({_first_clause(reason)})"

    def _shown(self, field: str, param: str) -> str:
        """``backoff.initial_s 1 s``: the value a reference points at, for evidence."""
        value: Any = getattr(self, field)
        if field == "backoff" and param:
            value = getattr(self.backoff, param, None)
        if field == "wait_sources" and param:
            return f"the {param} wait source"
        name = f"{field}.{param}" if param and field == "backoff" else field
        if isinstance(value, float):
            unit = "" if name.endswith(("multiplier", "jitter_ratio")) else " s"
            return f"{name} {value:g}{unit}"
        return f"{name} {value}" if isinstance(value, int) else name

    def is_retryable(self, status: int | None) -> bool:
        """A status the policy retries; ``None`` (no response) counts as retryable."""
        return status is None or status in self.retryable_statuses

    def to_json(self) -> dict[str, Any]:
        return {
            "retryable_statuses": sorted(self.retryable_statuses),
            "max_attempts": self.max_attempts,
            "min_wait_s": self.min_wait_s,
            "max_wait_s": self.max_wait_s,
            "backoff": {
                "initial_s": self.backoff.initial_s,
                "multiplier": self.backoff.multiplier,
                "max_s": self.backoff.max_s,
                "jitter_ratio": self.backoff.jitter_ratio,
            },
            "wait_sources": list(self.wait_sources),
            "timeout_s": self.timeout_s,
            "sources": {k: v.to_json() for k, v in self.sources.items()},
        }


def _first_clause(text: str) -> str:
    """The reason's first sentence, without its full stop: evidence stays one sentence."""
    return text.split(". ")[0].split("; ")[0].rstrip(".")
