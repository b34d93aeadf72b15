"""The mock's answers while its store fails, and the cost of long plans and expiry sweeps.

Usage: python bench/store_faults.py [--out bench/results/store_faults.md] [--load-threads 4]

Loopback only; stops by itself (about a minute). Starts its own ``faultproof serve`` (the
default server) and its own ``redis-server`` on free ports, and for each fault:

- Redis SIGKILL, then a restart on the same port (append-only file, so sessions survive);
- Redis SIGSTOP for ``--stall`` seconds, then SIGCONT;
- SQLite file deleted; SQLite file made read-only (chmod 0444) for ``--stall`` seconds;

drives ``--load-threads`` clients at one session's provider API and sorts every answer:
503 marked ``X-Faultproof-Error: store``, other 5xx without the mark, 5xx in the provider's
envelope (``X-Faultproof-Scenario`` or no mark), no answer; recovery is the time from the store's
return to the first 2xx of the provider API and 200 of health; entries lost are the requests the
clients saw refused, counted is what the session's journal reports as ``lost`` afterwards.
Then a 100,000-step plan in one session (in process: the control plane takes at most 10,000
steps) and the worst latency of requests in another session meanwhile; and 10,000 expired
sessions on memory (in process), 2,000 and 5,000 on Redis (a real serve): the worst
``POST /sessions`` (each sweeps at most ``SWEEP_LIMIT``), how many it took to sweep them all,
and the Redis TTL of a session's keys. A SQLite file that is deleted is made again, empty:
its sessions and their entries go with it, uncounted (the table says "session gone").
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_servers import KEY, Load, Redis, serve, wait_for

PRODUCT = "/alana/api/v1/products/42"


def outage(
    url: str, threads: int, fault: Callable[[], None], back: Callable[[], None], stall: float
) -> dict[str, object]:
    """One fault under load: answers sorted, recovery after ``back``, entries lost vs counted."""
    control = url + "/__faultproof"
    sid = httpx.post(control + "/sessions").json()["id"]
    with Load(f"{url}/s/{sid}{PRODUCT}", threads) as load:
        time.sleep(0.5)
        fault()
        time.sleep(stall)
        health_down = httpx.get(control + "/health", timeout=15).status_code
        back()
        returned = time.monotonic()
        wait_for(lambda: httpx.get(control + "/health").status_code == 200)
        health_s = time.monotonic() - returned
        wait_for(lambda: httpx.get(url + PRODUCT, headers=KEY).status_code == 200)
        api_s = time.monotonic() - returned
        time.sleep(0.3)
    journal = httpx.get(f"{control}/sessions/{sid}/journal")
    counted = journal.json().get("lost") if journal.status_code == 200 else "session gone"
    return {
        **dict(load.seen),
        "health_down": health_down,
        "recovery_s": max(health_s, api_s),
        "lost": load.seen["503 marked"],
        "counted": counted,
        "worst_s": load.worst_s,
    }


def long_plan_probe(steps: int = 100_000, requests: int = 300) -> float:
    """Worst latency of a request in session B while session A, with a ``steps``-step plan,
    is hammered by four threads (in process: WSGI test clients, no socket)."""
    from faultproof.mocks.app import create_app
    from faultproof.mocks.config import MockConfig

    app = create_app(MockConfig(providers=("alana",)))
    first = app.test_client()
    long_one, other = (first.post("/__faultproof/sessions").get_json()["id"] for _ in range(2))
    plan = {"steps": [{"scenario": "alana.RATE_001", "params": {}}] * steps, "after": "ok"}
    app.extensions["faultproof"].store.set_plan(long_one, {**plan, "match": {}})
    stop = threading.Event()

    def hammer() -> None:
        client = app.test_client()
        while not stop.is_set():
            client.get(f"/s/{long_one}{PRODUCT}", headers=KEY)

    hammers = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in hammers:
        thread.start()
    worst = 0.0
    try:
        for _ in range(requests):
            started = time.monotonic()
            answer = first.get(f"/s/{other}{PRODUCT}", headers=KEY)  # 200, or 429 past the limit
            worst = max(worst, time.monotonic() - started)
            assert answer.status_code in (200, 429), answer.status_code
    finally:
        stop.set()
        for thread in hammers:
            thread.join()
    return worst


def sweep_probe(count: int, redis_url: str | None) -> dict[str, object]:
    """``count`` sessions idle for two hours (the default ``--session-ttl`` is one), written
    straight into the store, then new sessions until the expired are all swept: the worst
    ``POST /sessions`` and how many it took. Memory: in process, the store and clock at hand;
    Redis: a real ``faultproof serve --state redis://...``, the sessions written by this bench."""
    idle_since = time.time() - 7200
    if redis_url is None:
        from faultproof.mocks.app import create_app
        from faultproof.mocks.config import MockConfig

        app = create_app(MockConfig(providers=("alana",)))
        store = app.extensions["faultproof"].store
        for i in range(count):
            store.create_session(f"idle{i}", "s", now=idle_since)
        client = app.test_client()
        return _sweep(lambda: client.post("/__faultproof/sessions"), store.session_ids, count)
    from faultproof.mocks.redis_store import RedisStore

    direct = RedisStore.from_url(redis_url)
    for i in range(count):
        direct.create_session(f"idle{i}", "s", now=idle_since)
    with serve("--state", redis_url) as url, httpx.Client() as client:
        found = _sweep(
            lambda: client.post(url + "/__faultproof/sessions"), direct.session_ids, count
        )
    ttl = direct.redis.ttl(direct._keys(direct.session_ids()[0])[0])
    return {**found, "redis_ttl_s": ttl}


def _sweep(
    post: Callable[[], object], ids: Callable[[], list[str]], count: int
) -> dict[str, object]:
    worst, posts = 0.0, 0
    while len(ids()) > posts and posts <= count:
        started = time.monotonic()
        post()
        worst = max(worst, time.monotonic() - started)
        posts += 1
    return {"worst_post_s": worst, "posts_to_sweep": posts, "left": len(ids()) - posts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/store_faults.md")
    parser.add_argument("--load-threads", type=int, default=4)
    parser.add_argument("--stall", type=float, default=2.0)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="faultproof-bench-")
    rows: list[tuple[str, dict[str, object]]] = []
    store = Redis(folder)
    store.start()
    try:
        with serve("--state", store.url) as url:
            rows.append(
                (
                    "Redis SIGKILL, restart",
                    outage(
                        url,
                        args.load_threads,
                        lambda: store.signal(signal.SIGKILL),
                        store.start,
                        args.stall,
                    ),
                )
            )
            rows.append(
                (
                    "Redis SIGSTOP, SIGCONT",
                    outage(
                        url,
                        args.load_threads,
                        lambda: store.signal(signal.SIGSTOP),
                        lambda: store.signal(signal.SIGCONT),
                        args.stall,
                    ),
                )
            )
        database = os.path.join(folder, "state.db")
        with serve("--state", f"sqlite://{database}") as url:
            rows.append(
                (
                    "SQLite file deleted",
                    outage(url, args.load_threads, lambda: os.remove(database), lambda: None, 0.5),
                )
            )
            rows.append(
                (
                    "SQLite file chmod 0444",
                    outage(
                        url,
                        args.load_threads,
                        lambda: os.chmod(database, 0o444),
                        lambda: os.chmod(database, 0o644),
                        args.stall,
                    ),
                )
            )
        plan_worst = long_plan_probe()
        sweeps = [("memory", 10_000, {**sweep_probe(10_000, None), "redis_ttl_s": None})]
        for count in (2_000, 5_000):
            redis.Redis.from_url(store.url).flushdb()
            sweeps.append(("redis", count, sweep_probe(count, store.url)))
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
    write(args, rows, plan_worst, sweeps)


def write(
    args: argparse.Namespace,
    rows: list[tuple[str, dict[str, object]]],
    plan_worst: float,
    sweeps: list[tuple[str, int, dict[str, object]]],
) -> None:
    kinds = ["ok", "4xx", "503 marked", "unmarked 5xx", "provider envelope", "no answer"]
    lines = [
        "# Store faults",
        "",
        f"`python bench/store_faults.py --load-threads {args.load_threads} --stall {args.stall}`"
        f" at {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}"  # noqa: E501
        f", {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.2f}",
        "",
        "| fault | " + " | ".join(kinds) + " | health during | recovery s | lost | counted "
        "| worst latency s |",
        "|---" * (len(kinds) + 6) + "|",
    ]
    for name, row in rows:
        print(name, row, file=sys.stderr)
        cells = [str(row.get(k, 0)) for k in kinds]
        lines.append(
            f"| {name} | {' | '.join(cells)} | {row['health_down']} | {row['recovery_s']:.2f} "
            f"| {row['lost']} | {row['counted']} | {row['worst_s']:.2f} |"
        )
    lines += [
        "",
        f"100,000-step plan in session A under 4 threads: worst latency of 300 requests in "
        f"session B {plan_worst * 1000:.1f} ms",
        "",
        "| store | expired sessions | worst POST /sessions s | POSTs to sweep them all | left "
        "| Redis TTL s of a new session |",
        "|---|---|---|---|---|---|",
    ]
    for state, count, found in sweeps:
        lines.append(
            f"| {state} | {count:,} | {found['worst_post_s']:.3f} | {found['posts_to_sweep']} "
            f"| {found['left']} "
            f"| {found['redis_ttl_s'] if found['redis_ttl_s'] is not None else '-'} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
