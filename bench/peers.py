"""The servers compared by ``bench/compare.py``: faultproof, WireMock and Prism, one workload.

Usage: python bench/peers.py   (installs the peers and checks each answer once, then stops them)

Every server answers ``GET <prefix>/api/v1/products/42`` with ``Prefer: code=429`` by the same
87-byte body and the headers ``Retry-After: 2``, ``X-RateLimit-Limit: 100``,
``X-RateLimit-Remaining: 0`` and ``X-RateLimit-Reset``. faultproof serves it from its catalogue
(prefix ``/alana``); WireMock from a stub mapping matching the header; Prism from an OpenAPI
example, which it picks for ``Prefer: code=429``. The peers' ``X-RateLimit-Reset`` is a fixed
number (faultproof computes a real one): templating would only slow them down.

The peers are npm packages installed into ``bench/.peers/`` (gitignored): ``wiremock`` runs
the standalone jar on this machine's Java, ``@stoplight/prism-cli`` runs on Node.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers"
NPM_PACKAGES = ("wiremock@3.13.2", "@stoplight/prism-cli@5.16.0")
PATH = "/api/v1/products/42"
PREFER = "code=429"
BODY = b'{"error":{"code":"RATE_001","message":"Rate limit exceeded","request_id":"req_abc123"}}'
HEADERS = {"Retry-After": "2", "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}
FIXED_RESET = "1795473681"


def installed_env(cache: Path) -> dict[str, str]:
    """This environment, with Python reading and writing bytecode under ``cache``: faultproof
    starts as a pip-installed package does (pip compiles bytecode at install), even where
    ``PYTHONDONTWRITEBYTECODE`` is set, as on the machines the benches were run on."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(cache)}


@dataclass(frozen=True)
class Server:
    """One server under test: how to start it and where the workload goes.

    Attributes:
        name: Row label in the results.
        command: The command line, with ``{port}`` to fill in.
        prefix: Path prefix before ``/api/v1/products/42``.
        env: The server's environment (``None``: this one).
    """

    name: str
    command: tuple[str, ...]
    prefix: str = ""
    env: dict[str, str] | None = None

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}{self.prefix}{PATH}"

    def start(self, port: int, log: Path | None = None) -> subprocess.Popen[bytes]:
        """Spawn the server in its own process group (so its children stop with it); its stderr
        goes to ``log`` when given (faultproof's banner names the server it started)."""
        with open(log or os.devnull, "wb") as stderr:
            return subprocess.Popen(
                [part.format(port=port) for part in self.command],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
                cwd=PEERS if PEERS.exists() else HERE,
                env=self.env,
            )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL after 10 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


def install() -> None:
    """``npm install`` the peers into bench/.peers/ unless they are there already."""
    bins = PEERS / "node_modules" / ".bin"
    if (bins / "wiremock").exists() and (bins / "prism").exists():
        return
    if shutil.which("npm") is None or shutil.which("java") is None:
        sys.exit(
            "bench/peers.py needs npm (Node.js) and java on PATH to install WireMock and Prism"
        )
    PEERS.mkdir(exist_ok=True)
    (PEERS / "package.json").write_text('{"name": "faultproof-bench-peers", "private": true}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", *NPM_PACKAGES], cwd=PEERS, check=True
    )


def write_wiremock_root() -> Path:
    """A WireMock root directory with one mapping: the 429 for ``Prefer: code=429``."""
    root = PEERS / "wiremock"
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    mapping = {
        "request": {"method": "GET", "url": PATH, "headers": {"Prefer": {"equalTo": PREFER}}},
        "response": {
            "status": 429,
            "body": BODY.decode(),
            "headers": {
                "Content-Type": "application/json",
                **HEADERS,
                "X-RateLimit-Reset": FIXED_RESET,
            },
        },
    }
    (root / "mappings" / "rate_limit.json").write_text(json.dumps(mapping, indent=2))
    return root


def write_prism_document() -> Path:
    """An OpenAPI document whose 429 example is the body and headers above."""
    header_values = {**HEADERS, "X-RateLimit-Reset": FIXED_RESET}
    document = {
        "openapi": "3.0.3",
        "info": {"title": "faultproof bench", "version": "1"},
        "paths": {
            "/api/v1/products/{id}": {
                "get": {
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "a product",
                            "content": {"application/json": {"example": {"id": "42"}}},
                        },
                        "429": {
                            "description": "rate limited",
                            "headers": {
                                name: {"schema": {"type": "integer"}, "example": int(value)}
                                for name, value in header_values.items()
                            },
                            "content": {"application/json": {"example": json.loads(BODY)}},
                        },
                    },
                }
            }
        },
    }
    path = PEERS / "prism.json"
    path.write_text(json.dumps(document, indent=2))
    return path


SERVE = (sys.executable, "-m", "faultproof.mocks.cli", "serve", "--port", "{port}")


def faultproof(*args: str, name: str = "faultproof") -> Server:
    """``faultproof serve`` with ``args`` (none: whatever server it starts by default)."""
    return Server(name, (*SERVE, *args), "/alana", installed_env(PEERS / "pycache"))


def servers(
    faultproof_args: tuple[str, ...] = (), variants: tuple[tuple[str, str], ...] = ()
) -> list[Server]:
    """faultproof (journal on, no server option: its default server), each of ``variants``
    (label, extra ``serve`` options), WireMock with and without its journal, Prism."""
    bins = PEERS / "node_modules" / ".bin"
    prism = (str(bins / "prism"), "mock", str(write_prism_document()), "-p", "{port}")
    wiremock = (
        str(bins / "wiremock"),
        "--port",
        "{port}",
        "--root-dir",
        str(write_wiremock_root()),
    )
    return [
        faultproof(*faultproof_args),
        *(
            faultproof(*faultproof_args, *extra.split(), name=f"faultproof ({label})")
            for label, extra in variants
        ),
        Server("WireMock (defaults)", wiremock),
        Server("WireMock (journal off)", (*wiremock, "--no-request-journal")),
        Server(
            "Prism (-v silent)",
            (*prism, "-h", "127.0.0.1", "-v", "silent"),
        ),
    ]


def check_answer(response: httpx.Response) -> str | None:
    """What is wrong with an answer, or ``None`` when it is the exact 429."""
    if response.status_code != 429:
        return f"status {response.status_code}, expected 429"
    if response.content != BODY:
        return f"body {response.content!r} is not the {len(BODY)}-byte RATE_001 body"
    for name, value in HEADERS.items():
        if response.headers.get(name) != value:
            return f"{name}: {response.headers.get(name)!r}, expected {value!r}"
    if not response.headers.get("X-RateLimit-Reset", "").isdigit():
        return "X-RateLimit-Reset missing or not epoch seconds"
    return None


def first_answer(url: str, started: float, limit_s: float = 60.0) -> float:
    """Seconds from ``started`` to the first exact answer, polling every 5 ms."""
    with httpx.Client(timeout=1) as client:
        while time.perf_counter() - started < limit_s:
            try:
                response = client.get(url, headers={"Prefer": PREFER})
            except httpx.TransportError:
                time.sleep(0.005)
                continue
            problem = check_answer(response)
            if problem is None:
                return time.perf_counter() - started
            raise RuntimeError(f"{url} answered wrongly: {problem}")
    raise RuntimeError(f"{url}: no answer within {limit_s:.0f} s")


def main() -> None:
    install()
    for server in servers():
        port = free_port()
        started = time.perf_counter()
        proc = server.start(port)
        try:
            elapsed = first_answer(server.url(port), started)
            print(f"{server.name}: exact answer after {elapsed:.2f} s")
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
