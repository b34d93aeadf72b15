"""The shared store: Redis, for ``--workers N`` and several ``faultproof serve`` replicas.

Every race is settled inside Redis, by one Lua script per operation (``redis_scripts.py``):
plan steps and journal sequence numbers are ``HINCRBY`` on the session's hash; the journal
bound is one script (push, trim, count the dropped); completing an in-flight entry is another
(the list holds consecutive seqs, so the seq gives the index); provider state is held under a
short lock (``SET NX PX``) for the length of one request.

Key names carry nothing a caller chose as is: a session id is hex-encoded (``fp:s:<hex>``; no id
can name another's key or act as a pattern, and nothing here ever builds a ``SCAN`` pattern), and
a rate counter's key, which holds the caller's API key, is a field named by its SHA-256. Each
session's keys have a Redis TTL of its idle time (plus ``TTL_MARGIN_S``), refreshed on use, so
Redis expires them by itself; ``expire`` sweeps the index (a sorted set by last use) a bounded
batch at a time. The client's socket timeouts are short (``TIMEOUT_S``): a stalled Redis makes
requests fail (the mock's 503, ``store_guard.py``) within a second, not hang.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import redis_scripts as lua
from .store import (
    DEFAULT_SESSION,
    DEFAULT_TTL_S,
    SWEEP_LIMIT,
    JournalPage,
    SessionInfo,
    WindowCount,
    completed,
    in_flight,
    window_of,
)

LOCK_TTL_MS = 30_000
LOCK_WAIT_S = 30.0
#: Socket and connect timeout of every Redis call, seconds.
TIMEOUT_S = 1.0
#: Redis keeps a session's keys this much longer than its idle time (clocks differ).
TTL_MARGIN_S = 60.0
#: Parsed plans kept per process, by session and plan version.
PLAN_CACHE = 256


def _text(value: Any) -> str:
    """redis-py answers bytes unless told otherwise."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _hex(text: str) -> str:
    """A session id as it appears in key names: hex, so only ``[0-9a-f]``."""
    return text.encode().hex()


def _digest(key: str) -> str:
    """A rate counter's name in Redis: its key carries an API key, which Redis never sees."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class RedisStore:
    """Sessions, journals, state and counters in one Redis database."""

    outages: tuple[type[BaseException], ...] = (
        redis.ConnectionError,
        redis.TimeoutError,
        redis.exceptions.ReadOnlyError,
        OSError,
    )

    def __init__(self, client: redis.Redis, prefix: str = "fp") -> None:
        self.redis = client
        self.prefix = prefix
        self._index = f"{prefix}:sessions"
        self._scripts = {
            name: client.register_script(getattr(lua, name))
            for name in (
                "TOUCH",
                "SWEEP",
                "SET_PLAN",
                "TAKE_STEP",
                "APPEND",
                "FINISH",
                "SAVE_STATE",
                "HIT",
                "RELEASE",
            )
        }
        self._plans: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._stale: dict[str, dict[str, float]] = {}  # lock: {token: until} (``_remember``)

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        """``redis://HOST:PORT/DB``; fails at once, saying why, when Redis cannot be reached.

        One retry on a broken connection (a pooled one that a Redis restart broke reconnects),
        none on a timeout (a stalled Redis costs ``TIMEOUT_S`` per call, not twice that).
        """
        client = redis.Redis.from_url(
            url,
            socket_timeout=TIMEOUT_S,
            socket_connect_timeout=TIMEOUT_S,
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
            health_check_interval=30,
        )
        client.ping()
        return cls(client)

    def _run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return self._scripts[name](keys=keys, args=args)

    def _keys(self, session_id: str) -> list[str]:
        """The session's hash, journal, state and counters."""
        base = f"{self.prefix}:s:{_hex(session_id)}"
        return [base, f"{base}:journal", f"{base}:state", f"{base}:counters"]

    def ping(self) -> None:
        self.redis.ping()

    def create_session(
        self, session_id: str, secret: str, now: float, ttl_s: float = DEFAULT_TTL_S
    ) -> None:
        keys = self._keys(session_id)
        pipe = self.redis.pipeline()
        pipe.delete(*keys)
        pipe.hset(
            keys[0],
            mapping={"created_at": now, "touched_at": now, "secret": secret, "plan": ""},
        )
        pipe.pexpire(keys[0], int((ttl_s + TTL_MARGIN_S) * 1000))
        pipe.zadd(self._index, {session_id: now})
        pipe.execute()

    def session(self, session_id: str, now: float, ttl_s: float) -> SessionInfo | None:
        keys = self._keys(session_id)
        args = [
            session_id,
            repr(now),
            repr(float(ttl_s)),
            int((ttl_s + TTL_MARGIN_S) * 1000),
            "1" if session_id == DEFAULT_SESSION else "0",
        ]
        found = self._run("TOUCH", [*keys, self._index], args)
        if not found:
            return None
        created_at, secret, version = found
        return SessionInfo(
            session_id,
            float(created_at or 0),
            now,
            self._plan(session_id, keys[0], _text(version)) if version else None,
            _text(secret or b""),
        )

    def _plan(self, session_id: str, key: str, version: str) -> dict[str, Any] | None:
        """The session's plan, parsed once per version in this process (not per request):
        each ``set_plan`` stores a fresh random version token beside the plan."""
        cached = self._plans.get((session_id, version))
        if cached is not None:
            return cached
        raw, stored = self.redis.hmget(key, "plan", "plan_v")
        plan = orjson.loads(raw) if raw else None
        if len(self._plans) >= PLAN_CACHE:  # emptied rather than grown, as canned.py's caches
            self._plans.clear()
        self._plans[(session_id, _text(stored or b""))] = plan
        return plan

    def delete_session(self, session_id: str) -> bool:
        keys = self._keys(session_id)
        pipe = self.redis.pipeline()
        pipe.exists(keys[0])
        pipe.delete(*keys)
        pipe.zrem(self._index, session_id)
        existed = pipe.execute()[0]
        return bool(existed) and session_id != DEFAULT_SESSION

    def session_ids(self) -> list[str]:
        return sorted(_text(m) for m in self.redis.zrange(self._index, 0, -1))

    def expire(self, now: float, ttl_s: float, limit: int = SWEEP_LIMIT) -> list[str]:
        cutoff = repr(now - ttl_s)
        found = self._run("SWEEP", [self._index], [f"({cutoff}", limit, f"{self.prefix}:s:"])
        return [_text(m) for m in found]

    def set_plan(self, session_id: str, plan: dict[str, Any] | None) -> None:
        text = orjson.dumps(plan).decode() if plan else ""
        args = [text, "1" if session_id == DEFAULT_SESSION else "0", secrets.token_hex(8)]
        if not self._run("SET_PLAN", self._keys(session_id)[:1], args):
            raise KeyError(session_id)

    def take_step(self, session_id: str) -> int:
        index = int(self._run("TAKE_STEP", self._keys(session_id)[:1], []))
        if index < 0:
            raise KeyError(session_id)
        return index

    def append(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        keys = self._keys(session_id)[:2]
        return int(self._run("APPEND", keys, [orjson.dumps(entry), limit]))

    def begin(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        return self.append(session_id, in_flight(entry), limit)

    def finish(self, session_id: str, seq: int, entry: dict[str, Any]) -> bool:
        args = [orjson.dumps(completed(entry)), seq, repr(float(entry["received_at"]))]
        return bool(self._run("FINISH", self._keys(session_id)[:2], args))

    def journal(self, session_id: str) -> JournalPage:
        keys = self._keys(session_id)
        pipe = self.redis.pipeline()
        pipe.lrange(keys[1], 0, -1)
        pipe.hget(keys[0], "dropped")
        raw, dropped = pipe.execute()
        return JournalPage([orjson.loads(item) for item in raw], int(dropped or 0))

    @contextmanager
    def state(
        self, session: str, provider: str, seed: Callable[[], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        keys = self._keys(session)
        lock, token = f"{keys[0]}:lock:{_hex(provider)}", secrets.token_hex(8)
        try:
            self._acquire(lock, token, f"state of {provider} in session {session}")
            raw = self.redis.hget(keys[2], provider)
            data = orjson.loads(raw) if raw else seed()
            yield data
            self._run("SAVE_STATE", [keys[0], keys[2]], [provider, orjson.dumps(data)])
        except self.outages:
            self._remember(lock, token)  # its SET may run late, after the RELEASE below
            raise
        finally:
            self._release(lock, token)

    def _acquire(self, lock: str, token: str, what: str) -> None:
        """Take ``lock`` for ``token``, waiting while another holds it. A lock held by a token
        of this process that an outage made stale (``_release``) is released at once."""
        deadline = time.monotonic() + LOCK_WAIT_S
        while not self.redis.set(lock, token, nx=True, px=LOCK_TTL_MS):
            stale = self._stale.get(lock)
            if stale:
                held = _text(self.redis.get(lock) or b"")
                if held in stale and self._run("RELEASE", [lock], [held]):
                    continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} stayed locked {LOCK_WAIT_S:.0f} s")
            time.sleep(0.001)

    def _release(self, lock: str, token: str) -> None:
        """Release ``lock`` if ``token`` holds it (``_remember`` it when Redis does not say)."""
        try:
            self._run("RELEASE", [lock], [token])
        except self.outages:
            self._remember(lock, token)
            raise

    def _remember(self, lock: str, token: str) -> None:
        """``token`` may hold ``lock`` unseen: after a stall, a ``SET`` that timed out can run
        late, after its ``RELEASE``. Kept for the lock's lifetime, beside every other token of
        this process that an outage caught on the same lock (the holder's and its waiters'), so
        a later ``_acquire`` that finds one holding the lock releases it, instead of waiting
        ``LOCK_TTL_MS``."""
        now = time.monotonic()
        kept = {k: {t: u for t, u in v.items() if u > now} for k, v in self._stale.items()}
        self._stale = {k: v for k, v in kept.items() if v}
        self._stale.setdefault(lock, {})[token] = now + LOCK_TTL_MS / 1000

    def _count(self, key: str, window_s: float, now: float, add: bool) -> WindowCount:
        window = window_of(window_s, now)
        keys = self._keys(key.partition(":")[0])
        digest = _digest(key)
        loose = f"{self.prefix}:c:{digest}:{window}"
        args = [digest, str(window), max(1, int(window_s * 2) + 1), int(add)]
        count = self._run("HIT", [keys[0], keys[3], loose], args)
        return WindowCount(int(count), (window + 1) * window_s)

    def hit(self, key: str, window_s: float, now: float) -> WindowCount:
        return self._count(key, window_s, now, add=True)

    def peek(self, key: str, window_s: float, now: float) -> WindowCount:
        return self._count(key, window_s, now, add=False)
