"""What ``faultproof serve``'s options mean: the MockConfig they describe, and its store.

Why a module of its own: the command line validates the options once, and each worker process
of ``faultproof serve --workers N`` (uvicorn spawns them) rebuilds the same MockConfig from them
in its own interpreter. Both import this module; it imports neither, so there is no import
circle.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from typing import Any

import click
import orjson

from ..config import MockConfig


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange without NaN (which every bound comparison lets through) or infinity."""

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number = float(super().convert(value, param, ctx))
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number in the range {self._describe_range()}.")
        return number


def _rule_overrides(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``alana.rate_limit.limit=5`` and ``alana.query_max_chars=100`` as MockConfig rules."""
    rules: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        parts = key.split(".")
        if not sep or len(parts) not in (2, 3) or not all(parts):
            raise click.BadParameter(
                f"{pair!r}: expected PROVIDER.RULE=VALUE or PROVIDER.RULE.FIELD=VALUE "
                "(for example alana.rate_limit.limit=5)",
                param_hint="--set",
            )
        try:
            value: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = raw
        name = ".".join(parts[:2])
        if len(parts) == 3:
            rules.setdefault(name, {})[parts[2]] = value
        else:
            rules[name] = value
    return rules


def mock_config(
    providers: Sequence[str],
    overrides: Sequence[str],
    state_url: str,
    journal_limit: int,
    session_ttl: float,
    control_token: str | None,
    allow_hosts: Sequence[str] = (),
    webhook_allow: Sequence[str] = (),
    session_secret: str | None = None,
    cors: bool = True,
    upstream: str | None = None,
    upstream_timeout: float = 60.0,
    rate: float = 0.0,
    seed: int = 0,
) -> MockConfig:
    """The MockConfig ``serve``'s (or ``proxy``'s) options describe (each worker rebuilds it
    from them)."""
    return MockConfig(
        providers=tuple(providers),
        rules=_rule_overrides(tuple(overrides)),
        store=_store(state_url),
        journal_limit=journal_limit,
        session_ttl_s=session_ttl,
        control_token=control_token,
        allow_hosts=tuple(allow_hosts),
        webhook_allow=tuple(webhook_allow),
        session_keys=session_secret is not None,
        session_secret=session_secret or secrets.token_hex(32),
        cors=cors,
        upstream=upstream,
        upstream_timeout_s=upstream_timeout,
        inject_rate=rate,
        inject_seed=seed,
    )


def _store(url: str) -> Any:
    """The state store a ``--state`` value names."""
    if url == "memory":
        from ..memory_store import MemoryStore

        return MemoryStore()
    if url.startswith("sqlite://"):
        return _sqlite_store(url)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise click.BadParameter(
            f"{url!r}: expected 'memory', sqlite:///PATH, sqlite:// or redis://HOST:PORT/DB",
            param_hint="--state",
        )
    import redis

    from ..redis_store import RedisStore

    try:
        return RedisStore.from_url(url)
    except (redis.RedisError, ValueError) as exc:
        raise click.BadParameter(
            f"cannot use Redis at {url}: {exc}", param_hint="--state"
        ) from None


def _sqlite_store(url: str) -> Any:
    import sqlite3

    from ..sqlite_store import SqliteStore

    try:
        return SqliteStore.from_url(url)
    except (sqlite3.Error, OSError, ValueError) as exc:
        raise click.BadParameter(
            f"cannot use SQLite at {url}: {exc} (sqlite:///PATH needs a writable folder; "
            "sqlite:// makes a fresh file)",
            param_hint="--state",
        ) from None


def for_workers(options: dict[str, Any], config: MockConfig) -> dict[str, Any]:
    """``options`` as each worker must read them: a fresh ``sqlite://`` file named once, here,
    so that every worker opens the same store."""
    path = getattr(config.store, "path", None)
    if path and str(options["state_url"]).startswith("sqlite://"):
        return {**options, "state_url": f"sqlite:///{path}"}
    return options
