"""Several `faultproof serve` processes (and workers) on one shared store share one session:
a Redis, or a SQLite file on this host."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from faultproof.mocks.cli import cli

KEY = {"X-API-Key": "alana_test_key"}


@pytest.fixture(params=["redis", "sqlite"])
def shared_url(request, tmp_path) -> str:
    """An empty shared store's ``--state`` value."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'state.db'}"
    import redis

    url = request.getfixturevalue("redis_url")
    redis.Redis.from_url(url).flushdb()
    return url


def test_two_servers_one_session(start, shared_url):
    _, first = start("--providers", "alana", "--state", shared_url)
    _, second = start(
        "--providers", "alana", "--state", shared_url, "--workers", "2", "--threads", "8"
    )
    session = httpx.post(first + "/__faultproof/sessions").json()
    sid = session["id"]
    steps = [
        {"scenario": s}
        for s in (
            "alana.RATE_001",
            "alana.SERVER_001",
            "alana.SERVER_002",
            "alana.RATE_002",
            "alana.SERVER_001",
            "alana.RATE_001",
        )
    ]
    assert (
        httpx.put(f"{second}/__faultproof/sessions/{sid}/plan", json={"steps": steps}).status_code
        == 200
    )
    answered = []
    for index in range(10):
        base = (first, second)[index % 2]
        response = httpx.get(f"{base}/s/{sid}/alana/api/v1/products/42", headers=KEY)
        answered.append(response.headers.get("X-Faultproof-Scenario"))
    assert answered == [s["scenario"] for s in steps] + [None] * 4
    created = httpx.post(
        f"{first}/s/{sid}/alana/api/v1/products",
        headers=KEY,
        json={"id": "shared", "name": "Seen everywhere", "price": 2.0},
    )
    assert created.status_code == 201
    assert (
        httpx.get(f"{second}/s/{sid}/alana/api/v1/products/shared", headers=KEY).status_code == 200
    )
    for base in (first, second):
        journal = httpx.get(f"{base}/__faultproof/sessions/{sid}/journal").json()
        assert [e["seq"] for e in journal["entries"]] == list(range(1, 13))
        assert [e["scenario"] for e in journal["entries"][:6]] == answered[:6]
    assert httpx.delete(f"{second}/__faultproof/sessions/{sid}").status_code == 204
    assert httpx.get(f"{first}/s/{sid}/alana/api/v1/products/42", headers=KEY).status_code == 404


def test_rate_limit_counters_are_shared(start, shared_url):
    limit = ("--set", "alana.rate_limit.limit=3", "--set", "alana.rate_limit.window_s=3600")
    _, first = start("--providers", "alana", "--state", shared_url, *limit)
    _, second = start("--providers", "alana", "--state", shared_url, *limit)
    sid = httpx.post(first + "/__faultproof/sessions").json()["id"]
    statuses = [
        httpx.get(
            f"{(first, second)[i % 2]}/s/{sid}/alana/api/v1/products/42", headers=KEY
        ).status_code
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_several_workers_need_a_shared_store_and_the_error_names_them():
    refused = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    assert refused.exit_code == 2
    for option in ("sqlite:///PATH", "sqlite://", "redis://HOST:PORT/DB"):
        assert option in refused.output
    unknown = CliRunner().invoke(cli, ["serve", "--state", "postgres://x"])
    assert unknown.exit_code == 2
    assert "expected 'memory', sqlite:///PATH, sqlite:// or redis://" in unknown.output
    unusable = CliRunner().invoke(cli, ["serve", "--state", "sqlite:///no/such/folder/x.db"])
    assert unusable.exit_code == 2
    assert "cannot use SQLite at sqlite:///no/such/folder/x.db" in unusable.output


def test_a_file_that_is_not_a_faultproof_store_is_refused(tmp_path):
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    refused = CliRunner().invoke(cli, ["serve", "--state", f"sqlite://{other}"])
    assert refused.exit_code == 2
    assert "holds another database" in refused.output
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, just some text that is long enough " * 20)
    refused = CliRunner().invoke(cli, ["serve", "--state", f"sqlite://{text}"])
    assert refused.exit_code == 2
    assert "file is not a database" in refused.output


def test_a_fresh_sqlite_file_is_removed_when_its_process_exits():
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "from faultproof.mocks.sqlite_store import SqliteStore\n"
            "store = SqliteStore.from_url('sqlite://')\n"
            "store.create_session('x', 's', now=0.0)\n"
            "print(store.path)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    path = Path(made.stdout.strip())
    assert path.name == "state.db"
    assert not path.parent.exists()
