"""The bad inputs of ``probe_control.py``: what each sends and the status its refusal needs.

Data more than code, kept apart so that the probe itself stays short: one ``Case`` per input,
grouped as the probe's table counts them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

TOKEN = "probe-" + secrets.token_hex(8)
JSON = {"Content-Type": "application/json"}
PLAN = b'{"steps": [{"scenario": "alana.RATE_001"}]}'
MIB = 1024 * 1024


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
