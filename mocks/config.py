"""How one mock instance behaves: its store, its clock, which providers, rule overrides."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from faultproof.contracts import Catalogue, FaultproofError, default_catalogue
from faultproof.contracts.rule_schema import check_override

from .memory_store import MemoryStore
from .store import Store


@dataclass(slots=True)
class MockConfig:
    """Settings of one mock app.

    Attributes:
        providers: Provider ids to serve (every provider of the catalogue by default).
        store: Where state and rate-limit counters live.
        clock: Epoch seconds; tests inject a fake one so limits never need real waiting.
        rules: Overrides of catalogue rules, ``{"alana.rate_limit": {"limit": 5}}``; a mapping
            merges into a mapping rule, anything else replaces the value.
        hang_max_s: Upper bound of any hang or drip, whatever a scenario asks.
        catalogue: The catalogue to serve (the bundled one by default).
        journal_limit: Entries kept per session; older ones are dropped and counted.
        session_ttl_s: Idle time after which a session is forgotten.
        control_token: Token the control plane asks of every caller, loopback included;
            without one, only loopback callers may use it (``access.py``).
        allow_hosts: ``Host`` values the control plane answers besides ``localhost``, the
            loopback addresses and the address it is bound to (``--allow-host``).
        webhook_allow: ``HOST[:PORT]`` webhook receivers allowed besides loopback ones
            (``--webhook-allow``, ``webhook_targets.py``).
        session_keys: Whether each session's calls need its key (``session_keys.py``); a
            control token turns them on too.
        session_secret: What keys derive from when there is no control token.
        cors: Whether provider surfaces answer CORS as Prism does (``cors.py``).
        upstream: A real API to forward the one served provider's traffic to, untouched but
            for injected failures (``proxy.py``, ``faultproof proxy``); ``None``: the mock.
        upstream_timeout_s: How long the upstream may take to connect and between the bytes
            of its answer before the request fails as the mock's own 502.
        inject_rate: The share of requests no trigger or plan step answers that get a
            documented error or a transport fault instead (``injection.py``).
        inject_seed: Seed of those draws: the same seed and request order, the same failures.
    """

    providers: tuple[str, ...] = ()
    store: Store = field(default_factory=MemoryStore)
    clock: Callable[[], float] = time.time
    rules: Mapping[str, Any] = field(default_factory=dict)
    hang_max_s: float = 300.0
    catalogue: Catalogue = field(default_factory=default_catalogue)
    journal_limit: int = 10_000
    session_ttl_s: float = 3600.0
    control_token: str | None = None
    allow_hosts: tuple[str, ...] = ()
    webhook_allow: tuple[str, ...] = ()
    session_keys: bool = False
    session_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    cors: bool = True
    upstream: str | None = None
    upstream_timeout_s: float = 60.0
    inject_rate: float = 0.0
    inject_seed: int = 0

    def __post_init__(self) -> None:
        if self.journal_limit < 1:
            raise FaultproofError(f"journal_limit must be at least 1, got {self.journal_limit}")
        if not math.isfinite(self.session_ttl_s) or self.session_ttl_s <= 0:
            raise FaultproofError(
                f"session_ttl_s must be a positive finite number, got {self.session_ttl_s}"
            )
        if not self.providers:
            self.providers = tuple(self.catalogue.providers)
        for provider in self.providers:
            self.catalogue.provider(provider)
        for key in self.rules:
            provider, _, name = key.partition(".")
            rules = self.catalogue.provider(provider).rules
            if name not in rules:
                raise FaultproofError(f"unknown rule {key!r}; {provider} rules: {', '.join(rules)}")
            check_override(key, rules[name].schema(), self.rules[key])
        if not math.isfinite(self.inject_rate) or not 0 <= self.inject_rate <= 1:
            raise FaultproofError(
                f"inject_rate must be a number from 0 to 1, got {self.inject_rate}"
            )
        if self.upstream is not None:
            self._check_upstream(self.upstream)

    def _check_upstream(self, url: str) -> None:
        """A proxy forwards one provider's paths to one http(s) origin (and base path)."""
        try:
            parts = urlsplit(url)
            host, _ = parts.hostname, parts.port  # a port out of range raises here
        except ValueError as exc:
            raise FaultproofError(f"upstream {url!r} is not a URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not host or parts.query or parts.fragment:
            raise FaultproofError(
                f"upstream {url!r} must be an http:// or https:// URL with a host and no query "
                "or fragment (for example https://api.example.com or http://127.0.0.1:9000/v1)"
            )
        if len(self.providers) != 1:
            raise FaultproofError(
                f"a proxy forwards one provider's traffic, got {len(self.providers)}: "
                f"{', '.join(self.providers)}"
            )
        if not math.isfinite(self.upstream_timeout_s) or self.upstream_timeout_s <= 0:
            raise FaultproofError(
                "upstream_timeout_s must be a positive finite number, "
                f"got {self.upstream_timeout_s}"
            )

    def key_secret(self) -> str | None:
        """What session keys derive from, or None when sessions need no key."""
        if self.control_token:
            return self.control_token
        return self.session_secret if self.session_keys else None

    def rule(self, provider: str, name: str) -> Any:
        """A rule's effective value: the catalogue's, with this config's override applied."""
        value = self.catalogue.provider(provider).rules[name].value
        override = self.rules.get(f"{provider}.{name}")
        if override is None:
            return value
        return _merged(value, override)


def _merged(value: Any, override: Any) -> Any:
    """``override`` over ``value``, mapping into mapping at every depth (a budget for one tier
    keeps the other tiers' defaults)."""
    if isinstance(value, Mapping) and isinstance(override, Mapping):
        return {**value, **{k: _merged(value.get(k), v) for k, v in override.items()}}
    return override
