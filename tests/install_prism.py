"""Install Prism (tests/mock/test_openapi_prism.py) and GitHub's OpenAPI description
(tests/test_github_import.py) from npm, in bounded time.

Why a script and not a bare ``npm install`` in tox: npm retries each failing fetch with waits
of up to a minute, and Prism has about 200 packages, so a registry that refuses TLS for a while
(seen on a freshly booted machine) kept a plain install busy for over an hour. Here each fetch
gets short retries, the whole install a few attempts with a pause between them, and a registry
that stays unreachable ends the install with a clear message after a few minutes.

Usage: python tests/install_prism.py PREFIX
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

PRISM = "@stoplight/prism-cli@5.16.0"
#: GitHub's official OpenAPI description, imported by tests/test_github_import.py.
GITHUB = "@octokit/openapi@23.0.2"
ATTEMPTS = 4
PAUSE_S = 20
ATTEMPT_TIMEOUT_S = 180


def install(prefix: Path) -> int:
    binary = prefix / "node_modules" / ".bin" / "prism"
    command = [
        "npm",
        "install",
        "--prefix",
        str(prefix),
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--fetch-retries=2",
        "--fetch-retry-mintimeout=1000",
        "--fetch-retry-maxtimeout=5000",
        "--fetch-timeout=30000",
        PRISM,
        GITHUB,
    ]
    for attempt in range(1, ATTEMPTS + 1):
        try:
            done = subprocess.run(command, timeout=ATTEMPT_TIMEOUT_S, check=False)
            github = prefix / "node_modules" / "@octokit" / "openapi" / "package.json"
            ok = done.returncode == 0 and binary.exists() and github.exists()
        except subprocess.TimeoutExpired:
            print(f"install_prism: attempt {attempt} timed out after {ATTEMPT_TIMEOUT_S} s")
            ok = False
        if ok:
            return 0
        if attempt < ATTEMPTS:
            print(f"install_prism: attempt {attempt} of {ATTEMPTS} failed; again in {PAUSE_S} s")
            time.sleep(PAUSE_S)
    print(
        f"install_prism: {PRISM} did not install into {prefix} in {ATTEMPTS} attempts; "
        "the npm registry is unreachable or refuses TLS (npm's own message is above)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/install_prism.py PREFIX")
    sys.exit(install(Path(sys.argv[1])))
