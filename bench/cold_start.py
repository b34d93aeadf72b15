"""Cold start of `faultproof serve`: launch to the first correct answer, over N runs.

Usage: python bench/cold_start.py [--runs 10] [--providers alana|all]
                                  [--out bench/results/cold_start.md]

"Correct" means GET /alana/api/v1/products/42 with `Prefer: code=429` answered 429 with the
documented RATE_001 body, polled every 5 ms from the moment the process is spawned.

Two ways of starting are measured. *Installed*: Python reads compiled bytecode, as it does for
a package pip installed (pip compiles it) or after a first start; here the bytecode goes to a
temporary ``PYTHONPYCACHEPREFIX`` that the warm-up run fills. *From source*: faultproof's
own modules are compiled again at each start, as with an editable install where
``PYTHONDONTWRITEBYTECODE=1`` forbids writing bytecode (this machine's set-up). The 0.3 s
goal is for the first.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import peers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_run(providers: str, env: dict[str, str]) -> float:
    port = free_port()
    command = [sys.executable, "-m", "faultproof.mocks.cli", "serve", "--port", str(port)]
    if providers != "all":
        command += ["--providers", providers]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}/alana/api/v1/products/42"
    try:
        while time.perf_counter() - started < 30:
            try:
                response = httpx.get(url, headers={"Prefer": "code=429"}, timeout=1)
                if response.status_code == 429 and response.json()["error"]["code"] == "RATE_001":
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.005)
        raise RuntimeError("no correct answer within 30 s")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--providers", default="all")
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        modes = {
            "installed (bytecode)": peers.installed_env(Path(cache)),
            "from source": {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        }
        for mode, env in modes.items():
            one_run(options.providers, env)  # warm the page cache (and, installed, the bytecode)
            times = [one_run(options.providers, env) for _ in range(options.runs)]
            rows.append(
                f"| {mode} | {min(times):.3f} s | {statistics.median(times):.3f} s "
                f"| {max(times):.3f} s |"
            )
    command = "python bench/cold_start.py " + " ".join(sys.argv[1:])
    report = (
        f"# Cold start of `faultproof serve` (providers: {options.providers})\n\n"
        f"Command: `{command}`  \n"
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{options.runs} runs per mode, load average {os.getloadavg()[0]:.2f} at the end\n\n"
        "| start | min | median | max |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    print(report)
    if options.out:
        options.out.write_text(report)


if __name__ == "__main__":
    main()
