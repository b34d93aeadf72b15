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

SERVE = [sys.executable, "-m", "faultproof.mocks.cli", "serve", "--providers", "alana"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(*extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([*SERVE, "--port", str(port), *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            if httpx.get(url + "/__faultproof/health", timeout=0.5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("serve did not answer its health check within 15 s")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_and_stops_cleanly(sig):
    proc, url = start("--set", "alana.rate_limit.limit=2")
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
            httpx.get(url + "/alana/api/v1/products/1", headers={"Prefer": "scenario=fault.drop, mode=rst"})
    finally:
        proc.send_signal(sig)
        output = proc.communicate(timeout=15)[0].decode()
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert "Shutting down" in output


def test_serve_binds_loopback_by_default():
    proc, url = start()
    try:
        assert url.startswith("http://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        listening = [
            fields[1] for fields in (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
            if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port  # 0A: LISTEN
        ]
        assert listening == ["0100007F:%04X" % port]  # 127.0.0.1, little-endian hex
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=15)


def test_serve_refuses_bad_input_with_exit_2():
    result = subprocess.run([*SERVE, "--set", "alana.nope=1"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "rate_limit" in result.stderr and "Traceback" not in result.stderr
