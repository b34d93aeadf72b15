"""Cold start of `faultproof serve`: launch to the first correct answer, over N runs.

Usage: python bench/cold_start.py [--runs 10] [--providers alana|all]
                                  [--out bench/results/cold_start.md]

"Correct" means GET /alana/api/v1/products/42 with `Prefer: code=429` answered 429 with the
documented RATE_001 body, polled every 5 ms from the moment the process is spawned.
"""

from __future__ import annotations

import argparse
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_run(providers: str) -> float:
    port = free_port()
    command = [sys.executable, "-m", "faultproof.mocks.cli", "serve", "--port", str(port)]
    if providers != "all":
        command += ["--providers", providers]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    one_run(options.providers)  # warm the OS page cache, as a developer's second start is
    times = [one_run(options.providers) for _ in range(options.runs)]
    command = "python bench/cold_start.py " + " ".join(sys.argv[1:])
    report = (
        f"# Cold start of `faultproof serve` (providers: {options.providers})\n\n"
        f"Command: `{command}`  \n"
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{options.runs} runs\n\n"
        "| min | median | max |\n|---|---|---|\n"
        f"| {min(times):.3f} s | {statistics.median(times):.3f} s | {max(times):.3f} s |\n"
    )
    print(report)
    if options.out:
        options.out.write_text(report)


if __name__ == "__main__":
    main()
