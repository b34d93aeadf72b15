"""Bad inputs thrown at the control plane of a live ``faultproof serve``, counted (issue 14).

Usage: python bench/probe_control.py [--out bench/results/probe_control.md]

Starts two mocks of its own on free loopback ports (one without a control token, one with a
token), sends each case once and stops them; it talks to nothing else. A case names what it
expects: the status of the refusal (403 foreign Host, cross-site Origin, a session's missing
key; 401 a missing or wrong token; 415 a non-JSON body; 413 a body past 1 MiB; 400 bad JSON,
too many steps, too deep, a refused webhook target; 404 the control plane under a session prefix
or an unknown id; 405 a wrong method; 409 deleting the default session). Prints a Markdown table:
inputs tried, refused with the right status, refused with another 4xx, unplanned 5xx (must be 0),
got through (a 2xx or 3xx, must be 0). Exits 1 if anything got through or answered 5xx.
"""

from __future__ import annotations

import argparse
import platform
import secrets
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

SERVE = [sys.executable, "-m", "faultproof.mocks.cli", "serve", "--providers", "alana,ainative"]
TOKEN = "probe-" + secrets.token_hex(8)
JSON = {"Content-Type": "application/json"}
PLAN = b'{"steps": [{"scenario": "alana.RATE_001"}]}'
MIB = 1024 * 1024
#: Outcomes, in the table's order: the expected status, another 4xx, a 5xx, a 2xx or 3xx.
KINDS = ("right", "other", "5xx", "through")


@dataclass(frozen=True)
class Case:
    """One bad input: what to send (to the mock with a token, or not) and the status it needs."""

    group: str
    method: str
    path: str
    expect: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    token_mock: bool = False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(*extra: str, headers: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [*SERVE, "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/__faultproof/health", headers=headers, timeout=1).is_success:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("faultproof serve did not answer its health check within 20 s")


def _deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def _chunks(size: int) -> Iterator[bytes]:
    yield b'{"steps": ["'
    for _ in range(size // 65536):
        yield b"x" * 65536
    yield b'"]}'


def cases(url: str, sid: str, other: str) -> list[Case]:
    """Every bad input, for a mock at ``url`` with sessions ``sid`` and ``other``."""
    port = url.rpartition(":")[2]
    found: list[Case] = []
    endpoints = [
        ("GET", "/__faultproof/health", None),
        ("GET", "/__faultproof/scenarios", None),
        ("POST", "/__faultproof/sessions", None),
        ("GET", "/__faultproof/sessions", None),
        ("PUT", f"/__faultproof/sessions/{sid}/plan", PLAN),
        ("GET", f"/__faultproof/sessions/{sid}/journal", None),
        ("DELETE", f"/__faultproof/sessions/{sid}", None),
    ]
    hosts = [
        "rebind.attacker.example",
        f"rebind.attacker.example:{port}",
        "localhost.attacker.example",
        "10.0.0.7",
        f"127.0.0.1.nip.io:{port}",
        "[::1",
    ]
    for host in hosts:
        for method, path, body in endpoints:
            found.append(Case("foreign Host", method, path, 403, {"Host": host, **JSON}, body))
    origins = [
        "https://evil.example",
        "null",
        f"http://rebind.attacker.example:{port}",
        "file://",
        "http://localhost.evil.example",
    ]
    for origin in origins:
        for method, path, body in endpoints[2:5]:
            found.append(
                Case("foreign Origin", method, path, 403, {"Origin": origin, **JSON}, body)
            )
    for method, path, body in endpoints:
        found.append(
            Case("Sec-Fetch-Site", method, path, 403, {"Sec-Fetch-Site": "cross-site"}, body)
        )
    simple_types = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
    for content_type in simple_types:
        for path, body in (
            (f"/__faultproof/sessions/{sid}/plan", PLAN),
            (f"/__faultproof/sessions/{sid}/webhooks", b'{"url": "http://127.0.0.1:9/"}'),
            ("/__faultproof/sessions", b"{}"),
        ):
            method = "PUT" if path.endswith("/plan") else "POST"
            found.append(
                Case(
                    "cross-site simple body",
                    method,
                    path,
                    415,
                    {"Content-Type": content_type},
                    body,
                )
            )
    found.append(
        Case("cross-site simple body", "PUT", f"/__faultproof/sessions/{sid}/plan", 415, {}, PLAN)
    )
    webhook = f"/__faultproof/sessions/{sid}/webhooks"
    targets = [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://10.0.0.1/hook",
        "http://192.168.0.1/hook",
        "http://0.0.0.0:80/hook",
        "http://[::]:80/hook",
        "http://224.0.0.1/hook",
        f"{url}/__faultproof/health",
        f"{url}/__faultproof/sessions",
        f"{url}/__faultproof/sessions/{other}/journal",
        f"http://localhost:{port}/__FAULTPROOF/health",
        f"{url}/%5F%5Ffaultproof/health",
        f"{url}/%255F%255Ffaultproof/health",
        f"{url}/s/{other}/__faultproof/health",
        f"http://user:pw@127.0.0.1:{port}/hook",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "ftp://127.0.0.1/",
        f"http://127.0.0.1:{port}99/hook",
        "http://unresolvable.invalid/hook",
    ]
    for target in targets:
        found.append(Case("webhook SSRF", "POST", webhook, 400, JSON, {"url": target}))
    for rest in (
        f"/__faultproof/sessions/{other}/journal",
        f"/__faultproof/sessions/{other}",
        "/__faultproof/health",
        "/__faultproof/sessions",
        f"/__faultproof/sessions/{other}/plan",
    ):
        for method in ("GET", "DELETE"):
            found.append(Case("control under /s/<id>/", method, f"/s/{sid}{rest}", 404))
    found += [
        Case("oversized", "PUT", f"/__faultproof/sessions/{sid}/plan", 413, JSON, b" " * (2 * MIB)),
        Case("oversized", "POST", webhook, 413, JSON, b" " * (10 * MIB)),
        Case("oversized", "PUT", f"/__faultproof/sessions/{sid}/plan", 413, JSON, _chunks(2 * MIB)),
        Case("oversized", "POST", "/__faultproof/sessions", 413, JSON, b"{}" + b" " * (2 * MIB)),
        Case(
            "too many steps",
            "PUT",
            f"/__faultproof/sessions/{sid}/plan",
            400,
            JSON,
            {"steps": [{"scenario": "alana.RATE_001"}] * 10_001},
        ),
    ]
    for levels in (40, 300, 2000):
        found.append(
            Case(
                "deep nesting",
                "PUT",
                f"/__faultproof/sessions/{sid}/plan",
                400,
                JSON,
                _deep(levels),
            )
        )
        found.append(
            Case(
                "deep nesting",
                "POST",
                webhook,
                400,
                JSON,
                b'{"url": "http://127.0.0.1:9/", "data": ' + _deep(levels) + b"}",
            )
        )
    for bad in ("nope", "x" * 65, "..", "%2e%2e", "a%2Fb", "\u00e9t\u00e9", "default2", " "):
        found.append(Case("bad id", "GET", f"/__faultproof/sessions/{bad}/journal", 404))
    found.append(Case("default session", "DELETE", "/__faultproof/sessions/default", 409))
    for method, path in (
        ("PATCH", "/__faultproof/sessions"),
        ("PUT", "/__faultproof/health"),
        ("DELETE", "/__faultproof/scenarios"),
        ("POST", f"/__faultproof/sessions/{sid}/journal"),
        ("POST", f"/__faultproof/sessions/{sid}"),
        ("GET", webhook),
    ):
        found.append(Case("wrong method", method, path, 405))
    for raw in (
        b"{",
        b"[]",
        b"null",
        b"\x00",
        b"\xef\xbb\xbf{}",
        b"NaN",
        b'{"steps": 1e999}',
        b"{} x",
        b'"s"',
    ):
        found.append(Case("bad JSON", "PUT", f"/__faultproof/sessions/{sid}/plan", 400, JSON, raw))
    for body in (
        [],
        {"url": 1},
        {"url": "http://127.0.0.1:9/", "colour": 1},
        {"url": "http://127.0.0.1:9/", "timeout_s": 1e9},
    ):
        found.append(Case("bad webhook", "POST", webhook, 400, JSON, body))
    return found


def token_cases(sid: str) -> list[Case]:
    """Against the mock with a token: every peer needs it, and a session needs its key."""
    found = []
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"X-Faultproof-Token": TOKEN[:-1]},
        {"X-Faultproof-Token": ""},
    ):
        for method, path in (
            ("GET", "/__faultproof/health"),
            ("POST", "/__faultproof/sessions"),
            ("GET", "/__faultproof/sessions"),
            ("GET", f"/__faultproof/sessions/{sid}/journal"),
        ):
            found.append(
                Case(
                    "token missing or wrong (loopback)", method, path, 401, headers, token_mock=True
                )
            )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for key in (None, "0" * 32, "not-a-key"):
        headers = {**auth, **({"X-Faultproof-Session-Key": key} if key else {})}
        for method, path in (
            ("GET", f"/__faultproof/sessions/{sid}"),
            ("GET", f"/__faultproof/sessions/{sid}/journal"),
            ("DELETE", f"/__faultproof/sessions/{sid}"),
        ):
            found.append(
                Case("session key missing or wrong", method, path, 403, headers, token_mock=True)
            )
    return found


def send(client: httpx.Client, case: Case) -> int:
    if isinstance(case.body, (dict, list)):
        content: Any = orjson.dumps(case.body)
    else:
        content = case.body
    return client.request(case.method, case.path, headers=case.headers, content=content).status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    plain, url = _start()
    guarded, token_url = _start("--control-token", TOKEN, headers=auth)
    outcomes: Counter[tuple[str, str]] = Counter()
    surprises: list[str] = []
    try:
        with (
            httpx.Client(base_url=url, timeout=30) as client,
            httpx.Client(base_url=token_url, timeout=30) as tokened,
        ):
            sid = client.post("/__faultproof/sessions").json()["id"]
            other = client.post("/__faultproof/sessions").json()["id"]
            guarded_sid = tokened.post("/__faultproof/sessions", headers=auth).json()["id"]
            tried = cases(url, sid, other) + token_cases(guarded_sid)
            for case in tried:
                status = send(tokened if case.token_mock else client, case)
                kind = (
                    "right"
                    if status == case.expect
                    else "5xx"
                    if status >= 500
                    else "through"
                    if status < 400
                    else "other"
                )
                outcomes[(case.group, kind)] += 1
                if kind != "right":
                    surprises.append(
                        f"{case.group}: {case.method} {case.path[:80]} -> {status} "
                        f"(expected {case.expect})"
                    )
            intact = client.get(f"/__faultproof/sessions/{sid}").json()["plan"] is None
            journal_kept = client.get(f"/__faultproof/sessions/{other}/journal").status_code == 200
    finally:
        for proc in (plain, guarded):
            proc.terminate()
            proc.wait(timeout=15)
    groups = list(dict.fromkeys(g for g, _ in outcomes))
    rows = [
        f"| {g} | {sum(outcomes[(g, k)] for k in KINDS)} | "
        + " | ".join(str(outcomes[(g, k)]) for k in KINDS)
        + " |"
        for g in groups
    ]
    total = {k: sum(outcomes[(g, k)] for g in groups) for k in KINDS}
    text = "\n".join(
        [
            "# Bad inputs at the control plane of a live `faultproof serve`",
            "",
            "Command: `python bench/probe_control.py --out bench/results/probe_control.md`  ",
            f"Machine: {platform.platform()}, Python {platform.python_version()}",
            "",
            "| inputs | tried | refused with the right status | refused, other 4xx "
            "| unplanned 5xx | got through |",
            "|---|---|---|---|---|---|",
            *rows,
            f"| **all** | **{sum(total.values())}** | "
            + " | ".join(f"**{total[k]}**" for k in KINDS)
            + " |",
            "",
            f"After the run: the plans refused left the session without a plan: {intact}; "
            f"the other session's journal is still there: {journal_kept}.",
            *(["", "Not as expected:", *(f"- {s}" for s in surprises)] if surprises else []),
            "",
        ]
    )
    print(text)
    if options.out:
        options.out.write_text(text)
    sys.exit(1 if total["5xx"] or total["through"] else 0)


if __name__ == "__main__":
    main()
