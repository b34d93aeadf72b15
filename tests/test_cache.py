"""The catalogue cache can never run code, and is used only where nobody else can write."""

from __future__ import annotations

import os
import pickle
import stat
from importlib import resources

import pytest

from faultproof.contracts import cache
from faultproof.contracts.catalogue import load_catalogue


class _RunsCode:
    """A pickle payload that creates a marker file when unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("FAULTPROOF_CACHE_DIR", str(path))
    return path


def _key() -> str:
    return cache.key(resources.files("faultproof.contracts"))


def test_the_cache_is_json_readable_by_its_owner_only(folder):
    load_catalogue()
    (entry,) = folder.glob("catalogue-*.json")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert cache.load(_key())["providers"][0]["provider"] == "alloy"  # the seeds' order


def test_a_pickle_payload_in_the_cache_never_runs_and_the_cache_is_rebuilt(folder, tmp_path):
    marker = tmp_path / "ran"
    folder.mkdir(mode=0o700)
    payload = pickle.dumps(_RunsCode(str(marker)))
    entry = folder / f"catalogue-{_key()}.json"
    entry.write_bytes(payload)
    (folder / f"catalogue-{_key()}.pickle").write_bytes(payload)
    os.chmod(entry, 0o600)
    fresh = load_catalogue(use_cache=False)
    assert load_catalogue() == fresh
    assert not marker.exists()
    assert cache.load(_key()) is not None  # rebuilt as JSON over the payload


def test_a_corrupt_cache_falls_back_to_the_yaml(folder):
    load_catalogue()
    (entry,) = folder.glob("catalogue-*.json")
    entry.write_bytes(b'{"providers": [{"provider": 1}], "faults": 7}')
    assert load_catalogue() == load_catalogue(use_cache=False)
    entry.write_bytes(b"\x80\x04not json")
    assert len(load_catalogue().scenarios()) == len(load_catalogue(use_cache=False).scenarios())


@pytest.mark.parametrize("mode", [0o770, 0o777, 0o722])
def test_a_folder_others_can_write_is_neither_read_nor_written(folder, mode):
    folder.mkdir(mode=0o700)
    os.chmod(folder, mode)
    cache.store(_key(), {"providers": []})
    assert list(folder.iterdir()) == []
    os.chmod(folder, 0o700)
    cache.store(_key(), {"providers": []})
    os.chmod(folder, mode)
    assert cache.load(_key()) is None
    assert len(load_catalogue().scenarios()) > 100


def test_a_cache_file_others_can_write_is_not_read(folder):
    cache.store(_key(), {"providers": []})
    (entry,) = folder.glob("catalogue-*.json")
    assert cache.load(_key()) == {"providers": []}
    os.chmod(entry, 0o666)
    assert cache.load(_key()) is None


def test_a_symlinked_cache_file_is_not_followed(folder, tmp_path):
    folder.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(b'{"providers": []}')
    (folder / f"catalogue-{_key()}.json").symlink_to(elsewhere)
    assert cache.load(_key()) is None


def test_a_folder_another_user_owns_is_not_used(folder, monkeypatch):
    folder.mkdir(mode=0o700)
    cache.store(_key(), {"providers": []})
    monkeypatch.setattr(os, "getuid", lambda: os.stat(folder).st_uid + 1)
    assert cache.load(_key()) is None
