"""The shared store: Redis, for ``--workers N`` and several ``faultproof serve`` replicas.

Every race is settled inside Redis: plan steps and journal sequence numbers come from
``INCR``; the journal bound is one Lua script (push, trim, count the dropped); completing an
in-flight entry is another (the list holds consecutive seqs, so the seq gives the index);
provider state is held under a short lock (``SET NX PX``) for the length of one request.
Keys live under ``fp:`` and expire with their session's idle time.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import redis

from .store import (
    DEFAULT_SESSION,
    JournalPage,
    SessionInfo,
    WindowCount,
    completed,
    in_flight,
    window_of,
)

APPEND = """
if redis.call('EXISTS', KEYS[4]) == 0 then return 0 end
local seq = redis.call('INCR', KEYS[1])
local entry = string.sub(ARGV[1], 1, -2) .. ',"seq":' .. seq .. '}'
local n = redis.call('RPUSH', KEYS[2], entry)
local limit = tonumber(ARGV[2])
if n > limit then
  redis.call('LTRIM', KEYS[2], n - limit, -1)
  redis.call('INCRBY', KEYS[3], n - limit)
end
return seq
"""
FINISH = """
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
local seq = tonumber(ARGV[2])
local n = redis.call('LLEN', KEYS[2])
local index = n - 1 - (tonumber(redis.call('GET', KEYS[1]) or '0') - seq)
if index < 0 or index >= n then return 0 end
local kept = cjson.decode(redis.call('LINDEX', KEYS[2], index))
if kept.in_flight ~= true or math.abs(kept.received_at - tonumber(ARGV[3])) > 1e-6 then
  return 0
end
redis.call('LSET', KEYS[2], index, string.sub(ARGV[1], 1, -2) .. ',"seq":' .. seq .. '}')
return 1
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
LOCK_TTL_MS = 30_000


def _text(value: Any) -> str:
    """redis-py answers bytes unless told otherwise."""
    return value.decode() if isinstance(value, bytes) else str(value)


LOCK_WAIT_S = 30.0


class RedisStore:
    """Sessions, journals, state and counters in one Redis database."""

    def __init__(self, client: redis.Redis, prefix: str = "fp") -> None:
        self.redis = client
        self.prefix = prefix
        self._append = client.register_script(APPEND)
        self._release = client.register_script(RELEASE)
        self._finish = client.register_script(FINISH)

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        """``redis://HOST:PORT/DB``; fails at once, saying why, when Redis cannot be reached."""
        client = redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
        client.ping()
        return cls(client)

    def _key(self, session_id: str, *parts: str) -> str:
        return ":".join((self.prefix, "s", session_id, *parts))

    def create_session(self, session_id: str, secret: str, now: float) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(
            self._key(session_id),
            mapping={"created_at": now, "touched_at": now, "secret": secret, "plan": ""},
        )
        pipe.zadd(f"{self.prefix}:sessions", {session_id: now})
        pipe.execute()

    def session(self, session_id: str, now: float, ttl_s: float) -> SessionInfo | None:
        key = self._key(session_id)
        if session_id == DEFAULT_SESSION:
            self.redis.hsetnx(key, "created_at", 0)
        data = {_text(k): _text(v) for k, v in self.redis.hgetall(key).items()}
        if not data:
            return None
        if session_id != DEFAULT_SESSION:
            if now - float(data["touched_at"]) > ttl_s:
                self.delete_session(session_id)
                return None
            pipe = self.redis.pipeline()
            pipe.hset(key, "touched_at", now)
            pipe.zadd(f"{self.prefix}:sessions", {session_id: now})
            pipe.execute()
        plan = orjson.loads(data["plan"]) if data.get("plan") else None
        return SessionInfo(
            session_id, float(data.get("created_at", 0)), now, plan, data.get("secret", "")
        )

    def delete_session(self, session_id: str) -> bool:
        existed = bool(self.redis.exists(self._key(session_id))) and session_id != DEFAULT_SESSION
        keys = [
            self._key(session_id),
            *self.redis.scan_iter(match=self._key(session_id, "*"), count=500),
            *self.redis.scan_iter(match=f"{self.prefix}:c:{session_id}:*", count=500),
        ]
        pipe = self.redis.pipeline()
        for start in range(0, len(keys), 500):
            pipe.delete(*keys[start : start + 500])
        pipe.zrem(f"{self.prefix}:sessions", session_id)
        pipe.execute()
        return existed

    def session_ids(self) -> list[str]:
        return sorted(_text(m) for m in self.redis.zrange(f"{self.prefix}:sessions", 0, -1))

    def expire(self, now: float, ttl_s: float) -> list[str]:
        idle = [
            _text(m)
            for m in self.redis.zrangebyscore(f"{self.prefix}:sessions", "-inf", now - ttl_s)
        ]
        for session_id in idle:
            self.delete_session(session_id)
        return idle

    def set_plan(self, session_id: str, plan: dict[str, Any] | None) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(self._key(session_id), "plan", orjson.dumps(plan).decode() if plan else "")
        pipe.set(self._key(session_id, "step"), 0)
        pipe.execute()

    def take_step(self, session_id: str) -> int:
        return int(self.redis.incr(self._key(session_id, "step"))) - 1

    def append(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        keys = [
            self._key(session_id, "seq"),
            self._key(session_id, "journal"),
            self._key(session_id, "dropped"),
            self._key(session_id),
        ]
        return int(self._append(keys=keys, args=[orjson.dumps(entry), limit]))

    def begin(self, session_id: str, entry: dict[str, Any], limit: int) -> int:
        return self.append(session_id, in_flight(entry), limit)

    def finish(self, session_id: str, seq: int, entry: dict[str, Any]) -> bool:
        keys = [
            self._key(session_id, "seq"),
            self._key(session_id, "journal"),
            self._key(session_id),
        ]
        args: list[bytes | int | str] = [
            orjson.dumps(completed(entry)),
            seq,
            repr(float(entry["received_at"])),
        ]
        return bool(self._finish(keys=keys, args=args))

    def journal(self, session_id: str) -> JournalPage:
        pipe = self.redis.pipeline()
        pipe.lrange(self._key(session_id, "journal"), 0, -1)
        pipe.get(self._key(session_id, "dropped"))
        raw, dropped = pipe.execute()
        return JournalPage([orjson.loads(item) for item in raw], int(dropped or 0))

    @contextmanager
    def state(
        self, session: str, provider: str, seed: Callable[[], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        lock, token = self._key(session, "lock", provider), secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_WAIT_S
        while not self.redis.set(lock, token, nx=True, px=LOCK_TTL_MS):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"state of {provider} in session {session} stayed locked {LOCK_WAIT_S:.0f} s"
                )
            time.sleep(0.001)
        try:
            key = self._key(session, "state", provider)
            raw = self.redis.get(key)
            data = orjson.loads(raw) if raw else seed()
            yield data
            if self.redis.exists(self._key(session)):  # not for a session that ended meanwhile
                self.redis.set(key, orjson.dumps(data))
        finally:
            self._release(keys=[lock], args=[token])

    def _counter(self, key: str, window: int) -> str:
        return f"{self.prefix}:c:{key}:{window}"

    def hit(self, key: str, window_s: float, now: float) -> WindowCount:
        window = window_of(window_s, now)
        pipe = self.redis.pipeline()
        pipe.incr(self._counter(key, window))
        pipe.expire(self._counter(key, window), max(1, int(window_s * 2) + 1))
        count, _ = pipe.execute()
        return WindowCount(int(count), (window + 1) * window_s)

    def peek(self, key: str, window_s: float, now: float) -> WindowCount:
        window = window_of(window_s, now)
        return WindowCount(
            int(self.redis.get(self._counter(key, window)) or 0), (window + 1) * window_s
        )
