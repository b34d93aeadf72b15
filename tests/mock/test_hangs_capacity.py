"""200 hung connections on `faultproof serve` with its defaults: the control plane still answers,
and every hang ends (its thread free, its socket closed) once its client leaves.

Timing is not asserted here (bench/hang_capacity.py records how fast health answers); the
health request only has a generous time limit, so a server whose threads are all hung fails.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import httpx
import pytest

HANGS = 200
HANG_REQUEST = (
    b"GET /alana/api/v1/products/1 HTTP/1.1\r\nHost: mock\r\nPrefer: scenario=fault.hang\r\n\r\n"
)


def _worker(arbiter: int) -> int:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == arbiter:
                return int(entry)
    raise AssertionError(f"gunicorn arbiter {arbiter} has no worker")


def _sockets(pid: int) -> int:
    """Open sockets of a process (listening, connected and gunicorn's wake-up pair)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


def _until(condition, limit_s: float, what: str) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {limit_s:.0f} s")
        time.sleep(0.05)


def _journal(url: str) -> dict:
    return httpx.get(url + "/__faultproof/sessions/default/journal").json()


def test_health_answers_while_200_hangs_are_held_and_hangs_end_when_clients_leave(start):
    proc, url = start("--providers", "alana")
    worker = _worker(proc.pid)
    host, port = url.removeprefix("http://").split(":")
    baseline = _sockets(worker)
    clients = [socket.create_connection((host, int(port))) for _ in range(HANGS)]
    try:
        for client in clients:
            client.sendall(HANG_REQUEST)
        _until(lambda: _sockets(worker) >= baseline + HANGS, 30, "200 connections accepted")
        # Every hang is in the app (a thread each, sleeping), journaled in flight, none answered.
        _until(lambda: len(os.listdir(f"/proc/{worker}/task")) > HANGS, 30, "200 hang threads")
        _until(lambda: _journal(url)["in_flight"] == HANGS, 30, "200 hangs journaled in flight")
        health = httpx.get(url + "/__faultproof/health", timeout=5)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        held = _journal(url)["entries"]
        assert {(e["in_flight"], e["status"], e["responded_at"]) for e in held} == {
            (True, None, None)
        }
        for client in clients:
            client.setblocking(False)
            with pytest.raises(BlockingIOError):  # nothing sent and not closed: the hang holds
                client.recv(1)
    finally:
        for client in clients:
            client.close()
    # Each hang notices its client left, ends (completed in place, no status), frees its socket.
    _until(lambda: _journal(url)["in_flight"] == 0, 30, "every hang ended after its client left")
    ended = _journal(url)["entries"]
    assert [e["seq"] for e in ended] == [e["seq"] for e in held]
    assert {(e["scenario"], e["status"], "in_flight" in e) for e in ended} == {
        ("fault.hang", None, False)
    }
    assert all(e["responded_at"] >= e["received_at"] for e in ended)
    _until(lambda: _sockets(worker) <= baseline, 30, "the hung connections closed")
