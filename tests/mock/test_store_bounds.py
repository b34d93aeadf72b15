"""What no caller can make a store do: reach another session's keys, copy a long plan per
request, or sweep every expired session inside one request."""

from __future__ import annotations

import copy
import math

import pytest

from faultproof.mocks import memory_store
from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig
from faultproof.mocks.redis_store import RedisStore
from faultproof.mocks.store import SWEEP_LIMIT

KEY = {"X-API-Key": "alana_test_key"}
PRODUCT = "/alana/api/v1/products/42"
STEP = {"scenario": "alana.RATE_001", "params": {}}


@pytest.fixture
def redis_store(redis_url) -> RedisStore:
    found = RedisStore.from_url(redis_url)
    found.redis.flushdb()
    return found


def client_of(store, clock, **kwargs):
    app = create_app(MockConfig(providers=("alana",), store=store, clock=clock, **kwargs))
    app.testing = True
    return app.test_client()


def test_redis_ids_never_name_another_sessions_keys_or_act_as_patterns(redis_store, clock):
    client = client_of(redis_store, clock)
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    client.put(f"/__faultproof/sessions/{sid}/plan", json={"steps": [STEP], "after": "ok"})
    assert client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code == 429
    assert client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code == 200
    for wild in ("*", "[a-z]*", "*:journal"):
        refused = client.delete(f"/__faultproof/sessions/{wild}")
        assert (refused.status_code, refused.headers["X-Faultproof-Error"]) == (
            404,
            "unknown-session",
        )
    for alias in (f"{sid}:journal", f"{sid}:step", "*"):
        answer = client.get(PRODUCT, headers={**KEY, "X-Faultproof-Session": alias})
        assert (answer.status_code, answer.headers["X-Faultproof-Error"]) == (
            404,
            "unknown-session",
        )
    page = client.get(f"/__faultproof/sessions/{sid}/journal").get_json()
    assert [e["status"] for e in page["entries"]] == [429, 200]
    assert redis_store.take_step(sid) == 2  # the plan counter survived every attempt


def test_redis_store_escapes_any_id_it_is_given(redis_store):
    redis_store.create_session("a", "s", now=0.0)
    redis_store.append("a", {"i": 1}, limit=10)
    for odd in ("a:journal", "*", "a*", "a\\", "fp:s:a"):
        assert redis_store.session(odd, now=1.0, ttl_s=60) is None
        assert redis_store.delete_session(odd) is False
    assert redis_store.expire(now=1e9, ttl_s=1e12) == []
    assert [e["i"] for e in redis_store.journal("a").entries] == [1]


def test_redis_counter_keys_never_hold_the_api_key(redis_store):
    redis_store.create_session("a", "s", now=0.0)
    redis_store.hit("a:alana:key:sk_live_SECRET", 60, now=0.0)
    redis_store.hit("gone:alana:key:sk_live_SECRET", 60, now=0.0)  # no session: a loose key
    assert redis_store.peek("a:alana:key:sk_live_SECRET", 60, now=1.0).count == 1
    names = [k.decode() for k in redis_store.redis.scan_iter(match="*")]
    fields = [
        f.decode() for k in names if k.endswith(":counters") for f in redis_store.redis.hkeys(k)
    ]
    assert names and not any("SECRET" in n or "gone" in n for n in [*names, *fields])


def test_redis_keys_of_a_session_have_a_ttl_refreshed_on_use(redis_store):
    redis_store.create_session("t", "s", now=0.0, ttl_s=100)
    redis_store.append("t", {"i": 1}, limit=10)
    with redis_store.state("t", "alana", lambda: {"n": 0}) as data:
        data["n"] = 1
    redis_store.hit("t:alana:k", 60, now=0.0)
    assert redis_store.session("t", now=1.0, ttl_s=1000) is not None
    keys = [k for k in redis_store.redis.scan_iter(match="fp:s:*") if b":lock:" not in k]
    assert len(keys) == 4  # hash, journal, state, counters
    ttls = [redis_store.redis.ttl(k) for k in keys]
    assert all(1000 < t <= 1060 for t in ttls), ttls  # the touch's ttl, not the creation's


def test_a_long_plan_is_never_copied_per_request(clock, monkeypatch):
    store = memory_store.MemoryStore()
    client = client_of(store, clock)
    long_one = client.post("/__faultproof/sessions").get_json()["id"]
    other = client.post("/__faultproof/sessions").get_json()["id"]
    store.set_plan(long_one, {"steps": [STEP] * 100_000, "after": "ok", "match": {}})
    copied: list[object] = []
    real = copy.deepcopy

    def counting(value, *args):
        copied.append(value)
        return real(value, *args)

    monkeypatch.setattr(memory_store.copy, "deepcopy", counting)
    for _ in range(3):
        assert client.get(f"/s/{long_one}{PRODUCT}", headers=KEY).status_code == 429
        assert client.get(f"/s/{other}{PRODUCT}", headers=KEY).status_code == 200
    assert not any(isinstance(v, dict) and "steps" in v for v in copied)
    first = store.session(long_one, clock(), 60)
    assert first is not None and first.plan is store.session(long_one, clock(), 60).plan


def test_redis_parses_a_plan_once_per_version(redis_store, clock, monkeypatch):
    client = client_of(redis_store, clock)
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    steps = {"steps": [STEP] * 1000, "after": "ok"}
    assert client.put(f"/__faultproof/sessions/{sid}/plan", json=steps).status_code == 200
    fetched: list[tuple] = []
    real = redis_store.redis.hmget
    monkeypatch.setattr(redis_store.redis, "hmget", lambda *a: fetched.append(a) or real(*a))
    for _ in range(5):
        assert client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code == 429
    assert len(fetched) == 1
    assert client.delete(f"/__faultproof/sessions/{sid}/plan").status_code == 204
    assert client.get(f"/s/{sid}{PRODUCT}", headers=KEY).status_code == 200
    assert len(fetched) == 2


def test_a_sweep_removes_at_most_its_limit_longest_idle_first(store):
    count = 2 * SWEEP_LIMIT + 7
    for i in range(count):
        store.create_session(f"s{i:04d}", "x", now=float(i))
    store.create_session("fresh", "x", now=10_000.0)
    swept = [store.expire(now=10_000.0, ttl_s=100.0) for _ in range(4)]
    assert [len(s) for s in swept] == [SWEEP_LIMIT, SWEEP_LIMIT, 7, 0]
    assert [i for batch in swept for i in batch] == [f"s{i:04d}" for i in range(count)]
    assert store.session_ids() == ["fresh"]


def test_expired_sessions_go_a_bounded_batch_per_new_session(clock):
    store = memory_store.MemoryStore()
    client = client_of(store, clock, session_ttl_s=60)
    count = 3 * SWEEP_LIMIT + 1
    for _ in range(count):
        client.post("/__faultproof/sessions")
    clock.advance(61)
    remaining = [len(store.session_ids())]
    for _ in range(math.ceil(count / SWEEP_LIMIT)):
        client.post("/__faultproof/sessions")
        remaining.append(len(store.session_ids()))
    created = list(range(1, len(remaining)))
    assert remaining == [count] + [
        max(0, count - n * SWEEP_LIMIT) + n for n in created
    ]  # each POST removes one batch and adds its own session
