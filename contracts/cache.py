"""A content-addressed cache of the validated catalogue data, so a second start costs milliseconds.

Validation (YAML, the catalogue schema, every body against its envelope schema) runs once per
content: the key hashes every data file and the source of this package, so an edited
catalogue, schema or loader is validated again. What is cached is the parsed data of the files
as JSON (orjson), a format that cannot run code when read, unlike a pickle. The cache lives in
``$FAULTPROOF_CACHE_DIR`` (default ``~/.cache/faultproof``), created ``0700`` with files
``0600``; a folder or file that another user owns or that group or others can write is never
read nor written, since whoever can write there chooses the catalogue. An unusable cache only
costs the validation time, never a wrong catalogue.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Sequence
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import orjson

FORMAT = 2
_FOREIGN_WRITE = stat.S_IWGRP | stat.S_IWOTH


def directory() -> Path:
    """Where the cache lives (``$FAULTPROOF_CACHE_DIR``, else the XDG cache folder)."""
    configured = os.environ.get("FAULTPROOF_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "faultproof"


def _files(folder: Traversable, suffix: str) -> list[Traversable]:
    return sorted((p for p in folder.iterdir() if p.name.endswith(suffix)), key=lambda p: p.name)


def key(root: Traversable, extra: Sequence[Path] = ()) -> str:
    """Hash of the data under ``root`` and in the user catalogue folders ``extra``, and of the
    code that turns it into objects."""
    digest = hashlib.sha256(f"{FORMAT}:{sys.version}".encode())
    code = resources.files(__package__)
    sources = [
        root / "faults.yaml",
        *_files(root / "providers", ".yaml"),
        *_files(code / "schemas", ".json"),
        *_files(code, ".py"),
    ]
    for folder in extra:
        digest.update(str(folder.resolve()).encode() + b"\0")
        sources += _files(folder / "providers", ".yaml")
        if (folder / "schemas").is_dir():
            sources += _files(folder / "schemas", ".json")
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def trusted(info: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else: nobody else chose its content."""
    owner = os.getuid() if hasattr(os, "getuid") else info.st_uid
    return info.st_uid == owner and not info.st_mode & _FOREIGN_WRITE


def _folder(create: bool) -> Path | None:
    folder = directory()
    try:
        if create:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    return folder if stat.S_ISDIR(info.st_mode) and trusted(info) else None


def _name(cache_key: str) -> str:
    return f"catalogue-{cache_key}.json"


def load(cache_key: str) -> Any | None:
    """The data stored under ``cache_key``, or None when absent, unsafe or unreadable."""
    folder = _folder(create=False)
    if folder is None:
        return None
    try:
        fd = os.open(folder / _name(cache_key), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as file:
            if not trusted(os.fstat(file.fileno())):
                return None
            return orjson.loads(file.read())
    except (OSError, orjson.JSONDecodeError):
        return None


def store(cache_key: str, value: Any) -> None:
    """Write ``value`` as JSON, atomically, readable by this user only (when the folder is safe)."""
    folder = _folder(create=True)
    if folder is None:
        return
    temporary = folder / f".{_name(cache_key)}.{os.getpid()}.tmp"
    try:
        blob = orjson.dumps(value)
        if orjson.loads(blob) != value:  # a YAML date or int key would come back changed
            return
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(blob)
        temporary.replace(folder / _name(cache_key))
    except (OSError, TypeError):
        temporary.unlink(missing_ok=True)
