"""`faultproof serve` as a user runs it: a subprocess on a free loopback port, stopped by signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.needs import missing


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_and_stops_cleanly(sig, start):
    proc, url = start("--providers", "alana", "--set", "alana.rate_limit.limit=2")
    try:
        key = {"X-API-Key": "alana_test_key"}
        assert httpx.get(url + "/alana/api/v1/products/42", headers=key).json()["id"] == "42"
        assert httpx.get(url + "/alana/api/v1/products/42", headers=key).status_code == 200
        limited = httpx.get(url + "/alana/api/v1/products/42", headers=key)
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "RATE_001"
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(url + "/alana/api/v1/products/1", headers={"Prefer": "scenario=fault.drop"})
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            httpx.get(
                url + "/alana/api/v1/products/1",
                headers={"Prefer": "scenario=fault.drop, mode=rst"},
            )
    finally:
        proc.send_signal(sig)
        output = proc.communicate(timeout=15)[0].decode()
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert "Shutting down" in output


def test_a_hang_held_at_stop_is_cut_not_answered(start):
    """Stopped with a hang in flight: once the grace period is over the client's connection
    closes with no byte (a server's own 500 must never stand in for the fault), and serve still
    exits 0 with no traceback."""
    proc, url = start("--providers", "alana")
    host, port = url.removeprefix("http://").split(":")
    client = socket.create_connection((host, int(port)), timeout=30)
    try:
        client.sendall(
            b"GET /alana/api/v1/products/1 HTTP/1.1\r\nHost: mock\r\n"
            b"Prefer: scenario=fault.hang, max_s=60\r\n\r\n"
        )
        deadline = time.monotonic() + 30
        journal = url + "/__faultproof/sessions/default/journal"
        while httpx.get(journal).json()["in_flight"] != 1:
            assert time.monotonic() < deadline, "the hang was never journaled in flight"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0].decode()
        received = client.recv(65536)
    finally:
        client.close()
    assert received == b"", received[:200]
    assert proc.returncode == 0, output
    assert "Traceback" not in output, output


def test_long_request_lines_and_headers_reach_the_mock(start):
    """A server's own 414/431 pages never stand in for the provider (schemathesis found
    gunicorn's, the server before this one)."""
    proc, url = start("--providers", "alana")
    try:
        long_query = {"q": "x" * 6000}
        answer = httpx.get(
            url + "/alana/api/v1/products",
            params=long_query,
            headers={"X-API-Key": "alana_test_key", "X-Long": "y" * 9000},
        )
        assert answer.status_code == 200, answer.text[:200]
        assert answer.headers["content-type"].startswith("application/json")
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=15)


def test_serve_binds_loopback_by_default(start):
    proc, url = start("--providers", "alana")
    try:
        assert url.startswith("http://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        listening = [
            fields[1]
            for fields in (
                line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
            )
            if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port  # 0A: LISTEN
        ]
        assert listening == [f"0100007F:{port:04X}"]  # 127.0.0.1, little-endian hex
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=15)


def test_the_access_log_says_how_each_fault_ended(start):
    """uvicorn logs a head it sends; a drop or a hang sends none, and must still leave a line."""
    proc, url = start("--providers", "alana", "--access-log")
    path = url + "/alana/api/v1/products/1"
    try:
        for prefer in ("scenario=fault.drop", "scenario=fault.drop, mode=rst"):
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
                httpx.get(path, headers={"Prefer": prefer})
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(path, headers={"Prefer": "scenario=fault.hang"}, timeout=0.5)
        httpx.get(path, headers={"Prefer": "code=429"})
    finally:  # the hang's line comes when the mock sees the client go, or at shutdown at last
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=15)[0].decode()
    lines = [line for line in output.splitlines() if '"GET /alana/api/v1/products/1' in line]
    assert any("fault.drop: no answer, connection closed (FIN)" in line for line in lines), output
    assert any("fault.drop: no answer, connection closed (RST)" in line for line in lines), output
    assert any("fault.hang: no answer, held" in line for line in lines), output
    assert any('HTTP/1.1" 429' in line for line in lines), output
    assert not any(" 200 " in line for line in lines), output


def test_serve_refuses_bad_input_with_exit_2():
    from conftest import SERVE

    result = subprocess.run(
        [*SERVE, "--providers", "alana", "--set", "alana.nope=1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "rate_limit" in result.stderr and "Traceback" not in result.stderr


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_end_when_their_supervisor_is_killed(start, tmp_path):
    """A CI job's timeout SIGKILLs `faultproof serve`: its workers must not outlive it, holding
    the port and a journal nobody can reach any more."""
    if not sys.platform.startswith("linux"):  # the test reads /proc
        missing("a Linux /proc, to find the workers of faultproof serve")
    proc, url = start(
        "--providers", "alana", "--workers", "2", "--state", f"sqlite:///{tmp_path / 'state.db'}"
    )
    deadline = time.monotonic() + 30
    while len(workers := _children(proc.pid)) < 2:
        assert time.monotonic() < deadline, f"two workers never started: {workers}"
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=15)  # not communicate: a surviving worker would hold its stdout open
    try:
        deadline = time.monotonic() + 30
        while left := {pid for pid in workers if _alive(pid)}:
            assert time.monotonic() < deadline, f"workers {left} outlived their supervisor"
            time.sleep(0.05)
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/__faultproof/health", timeout=2)
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.stdout is not None:
            proc.stdout.close()


def test_port_0_banner_names_the_port_really_bound():
    from conftest import SERVE

    proc = subprocess.Popen(
        [*SERVE, "--port", "0", "--providers", "alana"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = proc.stderr.readline()  # printed once the socket is bound
        port = int(banner.split("http://127.0.0.1:", 1)[1].split(" ", 1)[0])
        assert port != 0
        deadline = time.monotonic() + 30  # a start-up allowance, not a measurement
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/__faultproof/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, banner
                time.sleep(0.05)
        assert health.status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def test_a_busy_port_is_a_usage_error_with_a_hint():
    from conftest import SERVE

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = subprocess.run(
            [*SERVE, "--port", str(port), "--providers", "alana"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "--port 0" in result.stderr and "Traceback" not in result.stderr
    assert "serving" not in result.stderr  # no banner for a server that never ran
