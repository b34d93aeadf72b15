"""Concurrent traffic into sessions of a live mock, and the journal's account of it.

Shared by ``test_load_sessions.py`` (CI-sized) and ``bench/hardening_load.py`` (100,000 requests,
recorded). Request ``i`` goes to session ``i % sessions`` and provider ``i % 5`` (its catalogue's
default operation, valid credentials), through ``/s/<id>/<provider>/...``, on one of
``concurrency`` threads that each hold a keep-alive connection. Each session is then asked for
its journal: the entries kept plus the entries dropped must be exactly what it was sent.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from faultproof.contracts import PROVIDERS, default_catalogue


def raised_limits(providers: tuple[str, ...] = PROVIDERS) -> list[str]:
    """``--set`` arguments raising every counted limit, so traffic reaches the happy path."""
    return [
        arg
        for provider in providers
        for name, rule in default_catalogue().provider(provider).rules.items()
        if isinstance(rule.value, dict) and "limit" in rule.value
        for arg in ("--set", f"{provider}.{name}.limit=1000000")
    ]


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None


def _requests() -> list[_Request]:
    found = []
    for provider in PROVIDERS:
        p = default_catalogue().provider(provider)
        op = p.operations[p.default_operation]
        body = None if op.json is None else json.dumps(op.json).encode()
        headers = dict(op.headers) | ({"Content-Type": "application/json"} if body else {})
        found.append(_Request(op.method, f"/{provider}{op.path}", headers, body))
    return found


@dataclass
class LoadResult:
    """What was sent, what came back, and each session's journal afterwards.

    Attributes:
        sent: Requests sent per session id.
        statuses: Answers by HTTP status.
        errors: Transport errors (each one a request whose fate is unknown).
        seconds: Wall time of the traffic alone.
        journals: Per session: entries kept, entries dropped, the bound, first and last seq.
    """

    sent: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    journals: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.sent.values())


def _worker(
    url: str, sessions: list[str], indexes: range, result: LoadResult, lock: threading.Lock
) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    sent: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    catalogue_requests = _requests()
    for i in indexes:
        session = sessions[i % len(sessions)]
        req = catalogue_requests[i % len(catalogue_requests)]
        sent[session] += 1
        try:
            conn.request(req.method, f"/s/{session}{req.path}", req.body, req.headers)
            response = conn.getresponse()
            response.read()
            statuses[response.status] += 1
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"request {i}: {type(exc).__name__}: {exc}")
            conn.close()
    conn.close()
    with lock:
        result.sent.update(sent)
        result.statuses.update(statuses)
        result.errors.extend(errors)


def send(url: str, requests: int, concurrency: int, sessions: int) -> LoadResult:
    """Create ``sessions`` sessions, send ``requests`` requests over ``concurrency`` threads,
    then read every session's journal."""
    with httpx.Client(base_url=f"{url}/__faultproof", timeout=60) as control:
        ids = [control.post("/sessions").json()["id"] for _ in range(sessions)]
        result, lock = LoadResult(), threading.Lock()
        threads = [
            threading.Thread(
                target=_worker, args=(url, ids, range(k, requests, concurrency), result, lock)
            )
            for k in range(concurrency)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result.seconds = time.perf_counter() - started
        for session in ids:
            page = control.get(f"/sessions/{session}/journal").json()
            seqs = [e["seq"] for e in page["entries"]]
            result.journals[session] = {
                "kept": len(seqs),
                "dropped": page["dropped"],
                "limit": page["limit"],
                "first_seq": seqs[0] if seqs else None,
                "last_seq": seqs[-1] if seqs else None,
                "contiguous": seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True,
            }
    return result


def discrepancies(result: LoadResult) -> list[str]:
    """Every way the journals disagree with what was sent; empty when the account is exact."""
    problems = list(result.errors[:5])
    problems += [f"{n} answers with status {s}" for s, n in result.statuses.items() if s >= 500]
    for session, sent in result.sent.items():
        j = result.journals[session]
        expected_kept = min(sent, j["limit"])
        if (j["kept"], j["dropped"]) != (expected_kept, sent - expected_kept):
            problems.append(f"{session}: sent {sent}, kept {j['kept']}, dropped {j['dropped']}")
        if j["last_seq"] != sent or not j["contiguous"]:
            problems.append(f"{session}: seq runs {j['first_seq']}..{j['last_seq']}, sent {sent}")
    return problems
