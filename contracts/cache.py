"""A content-addressed cache of the validated catalogue, so a second start costs milliseconds.

Validation (YAML, the catalogue schema, every body against its envelope schema) runs once per
content: the key hashes every data file and the source of this package, so an edited
catalogue, schema or loader is validated again. The cache lives in ``$FAULTPROOF_CACHE_DIR``
(default ``~/.cache/faultproof``); an unreadable or unwritable cache only costs the
validation time, never a wrong catalogue.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

FORMAT = 1


def directory() -> Path:
    configured = os.environ.get("FAULTPROOF_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "faultproof"


def _files(folder: Traversable, suffix: str) -> list[Traversable]:
    return sorted((p for p in folder.iterdir() if p.name.endswith(suffix)), key=lambda p: p.name)


def key(root: Traversable) -> str:
    """Hash of the data under ``root`` and of the code that turns it into objects."""
    digest = hashlib.sha256(f"{FORMAT}:{sys.version}".encode())
    code = resources.files(__package__)
    sources = [
        root / "faults.yaml",
        *_files(root / "providers", ".yaml"),
        *_files(code / "schemas", ".json"),
        *_files(code, ".py"),
    ]
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load(cache_key: str) -> Any | None:
    try:
        return pickle.loads((directory() / f"catalogue-{cache_key}.pickle").read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None


def store(cache_key: str, value: Any) -> None:
    folder = directory()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".catalogue-{cache_key}.{os.getpid()}.tmp"
        temporary.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        temporary.replace(folder / f"catalogue-{cache_key}.pickle")
    except OSError:
        pass
