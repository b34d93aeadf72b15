"""Build the Dockerfile with podman and run it as a user would: health, refusal, a provider call.

Usage: python bench/container.py [--out bench/results/container.md] [--base IMAGE]

Loopback only; stops by itself. Needs podman (apt-get install podman). A machine that reaches
no container registry cannot pull ``python:3.12-slim``: then ``--base`` names a local image,
and without one the script makes it, a Debian bookworm with Python 3.11 from ``debootstrap``
(apt-get install debootstrap; Debian's mirror is reachable where apt-get works), imported with
``podman import``. faultproof and its dependencies go in from a wheelhouse this script builds
on the host (``pip wheel``), so the image build needs no network either.

What it checks, recorded with the time each step took:

- the image builds, and its entrypoint refuses to start without a control token (exit 2);
- with a token it answers health with the token (200) and refuses it without (401);
- a provider call from the host through the published port gets the documented 429 with
  ``Retry-After``, and a foreign ``Host`` is refused on the control plane (403);
- with podman-compose (pip install podman-compose): compose.yaml's two replicas on one Redis
  (Debian's redis-server on the same base, as no registry is reachable), on ports 8081 and
  8082: a session made on one is answered by the other, and its journal counts the answer.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "localhost/faultproof:bench"
LOCAL_BASE = "localhost/debian-bookworm-python:bench"
TOKEN = "bench-token"
#: What this machine needed (a Firecracker VM with hybrid cgroups v1 and v2, which crun
#: refuses, and rlimits a container may not raise): build steps chrooted, containers on runc
#: with the cgroupfs manager, open files and processes below the host's limits.
BUILD_FLAGS = ("--isolation=chroot",)
RUNTIME = ("--runtime", "runc", "--cgroup-manager=cgroupfs")
RUN_FLAGS = ("--ulimit", "nofile=4096:4096", "--ulimit", "nproc=1000:1000")


def _run(*args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} ... failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _local_base(work: Path) -> str:
    """A Debian image with Python, made with debootstrap when no registry can be reached."""
    if _run("podman", "image", "exists", LOCAL_BASE, check=False).returncode == 0:
        return LOCAL_BASE
    rootfs = work / "rootfs"
    _run(
        "debootstrap",
        "--variant=minbase",
        "--include=python3,python3-venv,ca-certificates",
        "bookworm",
        str(rootfs),
        "http://deb.debian.org/debian",
        timeout=1800,
    )
    archive = work / "rootfs.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(rootfs, arcname=".")
    _run("podman", "import", str(archive), LOCAL_BASE)
    return LOCAL_BASE


def _context(work: Path) -> Path:
    """The build context: the repository's files that ship, and a wheelhouse for pip."""
    context = work / "context"
    context.mkdir()
    for name in ("pyproject.toml", "README.md", "Dockerfile", ".dockerignore"):
        shutil.copy(ROOT / name, context / name)
    for folder in ("contracts", "mocks", "package"):
        shutil.copytree(
            ROOT / folder, context / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    wheels = str(context / "wheels")
    _run(sys.executable, "-m", "pip", "wheel", "-q", str(context), "-w", wheels)
    # what pip builds faultproof with, inside the image
    # (and async-timeout, which redis needs before Python 3.11.3: Debian 12 has 3.11.2)
    extra = ("setuptools>=69", "wheel", "async-timeout>=4.0.3")
    _run(sys.executable, "-m", "pip", "download", "-q", *extra, "-d", wheels)
    return context


def _wait_health(url: str, headers: dict[str, str], bound_s: float = 60) -> int:
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            return httpx.get(url + "/__faultproof/health", headers=headers, timeout=2).status_code
        except httpx.TransportError:
            time.sleep(0.25)
    raise SystemExit(f"the container did not answer on {url} within {bound_s:.0f} s")


#: The same machine settings for podman-compose, which runs podman without extra flags.
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=4096:4096", "nproc=1000:1000"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""
#: compose.yaml's Redis image cannot be pulled here: Debian's redis-server on the same base.
REDIS_FILE = """FROM {base}
RUN apt-get update -q && apt-get install -y -q --no-install-recommends redis-server \\
 && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["redis-server", "--protected-mode", "no", "--bind", "0.0.0.0"]
"""


def _compose(work: Path, base: str) -> list[tuple[str, str, float]]:
    """compose.yaml's two replicas on one Redis, with the images this script has."""
    import yaml

    folder = work / "compose"
    folder.mkdir()
    (folder / "Containerfile").write_text(REDIS_FILE.format(base=base))
    _run("podman", "build", *BUILD_FLAGS, "-t", "localhost/redis-debian:bench", str(folder))
    spec = yaml.safe_load((ROOT / "compose.yaml").read_text())
    spec.pop("x-mock", None)
    spec["services"]["redis"]["image"] = "localhost/redis-debian:bench"
    for name in ("mock-a", "mock-b"):
        spec["services"][name].pop("build", None)
        spec["services"][name]["image"] = IMAGE
    (folder / "compose.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (folder / "containers.conf").write_text(CONTAINERS_CONF)
    env = {**os.environ, "CONTAINERS_CONF": str(folder / "containers.conf")}
    env["FAULTPROOF_CONTROL_TOKEN"] = TOKEN
    compose = ["podman-compose", "-f", str(folder / "compose.yaml")]
    rows = []
    began = time.monotonic()
    subprocess.run([*compose, "up", "-d"], env=env, check=True, capture_output=True, timeout=300)
    try:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        a, b = "http://127.0.0.1:8081", "http://127.0.0.1:8082"
        assert _wait_health(a, auth) == 200 and _wait_health(b, auth) == 200
        rows.append(("compose up: both replicas healthy", "200, 200", time.monotonic() - began))
        created = httpx.post(a + "/__faultproof/sessions", headers=auth).json()
        limited = httpx.get(
            f"{b}/s/{created['id']}/alana/api/v1/products/42",
            headers={"X-API-Key": "alana_test_key", "Prefer": "code=429"},
        )
        assert limited.status_code == 429, limited.text
        rows.append(("a session made on replica a, called on b", "429", 0.0))
        key = {**auth, "X-Faultproof-Session-Key": created.get("key", "")}
        count = httpx.get(
            f"{a}/__faultproof/sessions/{created['id']}/journal/count?status=429", headers=key
        ).json()["count"]
        assert count == 1, count
        rows.append(("replica a's journal count of b's answer", str(count), 0.0))
    finally:
        subprocess.run([*compose, "down"], env=env, capture_output=True, timeout=300)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/container.md")
    parser.add_argument("--base", help="A local base image with Python (default: made here)")
    args = parser.parse_args()
    rows: list[tuple[str, str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        began = time.monotonic()
        base = args.base or _local_base(work)
        rows.append(("base image", base, time.monotonic() - began))
        began = time.monotonic()
        context = _context(work)
        _run(
            "podman", "build", *BUILD_FLAGS, "-t", IMAGE, "--build-arg", f"BASE={base}",
            "--build-arg", "PIP_ARGS=--no-index --find-links /src/wheels", str(context),
            timeout=1800,
        )  # fmt: skip
        size = _run("podman", "image", "inspect", IMAGE, "--format", "{{.Size}}").stdout.strip()
        rows.append(("image built", f"{int(size) / 1e6:.0f} MB", time.monotonic() - began))
        began = time.monotonic()
        refused = _run(
            "podman", *RUNTIME, "run", *RUN_FLAGS, "--rm", IMAGE, check=False, timeout=120
        )
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "--control-token" in refused.stderr, refused.stderr
        rows.append(("no token: refuses to start", "exit 2", time.monotonic() - began))
        port = _free_port()
        began = time.monotonic()
        container = _run(
            "podman", *RUNTIME, "run", *RUN_FLAGS, "-d", "--rm", "-p", f"127.0.0.1:{port}:8080",
            "-e", f"FAULTPROOF_CONTROL_TOKEN={TOKEN}", IMAGE,
        ).stdout.strip()  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert _wait_health(url, auth) == 200
            rows.append(("health with the token", "200", time.monotonic() - began))
            without = httpx.get(url + "/__faultproof/health", timeout=5).status_code
            assert without == 401, without
            rows.append(("health without the token", str(without), 0.0))
            foreign = httpx.get(
                url + "/__faultproof/health", headers={**auth, "Host": "rebind.example"}
            ).status_code
            assert foreign == 403, foreign
            rows.append(("a foreign Host", str(foreign), 0.0))
            limited = httpx.get(
                url + "/alana/api/v1/products/42",
                headers={"X-API-Key": "alana_test_key", "Prefer": "code=429"},
            )
            assert limited.status_code == 429 and limited.headers["Retry-After"]
            rows.append(("Prefer: code=429 from the host", "429, Retry-After", 0.0))
        finally:
            _run("podman", *RUNTIME, "stop", "-t", "5", container, check=False)
        if shutil.which("podman-compose"):
            rows += _compose(work, base)
        else:
            rows.append(("compose.yaml", "not run: podman-compose not installed", 0.0))
    lines = [
        "# The container image",
        "",
        f"`python bench/container.py` at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{_run('podman', '--version').stdout.strip()}",
        "",
        "| step | result | seconds |",
        "|---|---|---|",
        *[f"| {step} | {result} | {seconds:.1f} |" for step, result, seconds in rows],
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
