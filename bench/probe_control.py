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
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
from probe_control_cases import TOKEN, Case, cases, token_cases

SERVE = [sys.executable, "-m", "faultproof.mocks.cli", "serve", "--providers", "alana,ainative"]
#: Outcomes, in the table's order: the expected status, another 4xx, a 5xx, a 2xx or 3xx.
KINDS = ("right", "other", "5xx", "through")


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
