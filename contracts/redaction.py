"""Secrets out of recorded traffic: one redaction for the mock's journal and the judge's captures.

What is secret is said in two places. Generic rules, by name: any header, query parameter or
body key (JSON at any depth, or form-encoded), case-insensitive, whose name looks like a
credential (``authorization``, ``cookie``, ``*token*``, ``*secret*``, ``password``,
``api_key``, ``access_key``...). And each provider's catalogue ``secrets`` (``providers/*.yaml``):
body keys or JSON pointers, query parameters, headers and path segments the names do not give
away, some only on some paths (AIronClaw's 2FA ``code``). A secret becomes
``[redacted:<first 8 hex of its SHA-256>]``: equal secrets, equal fingerprints, so a judge still
sees a token changed after a refresh, never the token. ``Idempotency-Key`` is not a secret.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

_FINGERPRINT = re.compile(r"\[redacted:[0-9a-f]{8}\]")
#: Names (lower case, ``-`` as ``_``) of credentials; ``*tokens`` (``max_tokens``) is a count.
_SECRET_NAME = re.compile(
    r"authorization|cookie|secret|passw(?:or)?d|passphrase|token(?!s$)"
    r"|(?:^|_)(?:api|access|secret|private|client|auth|session|signing|encryption|master)_?key$"
)
#: A cheap look at a body before parsing it: could any key in it be a secret?
_HINT = re.compile(rb"author|cookie|secret|passw|passphrase|token|key", re.IGNORECASE)
_PAIR = re.compile(rb'"([^"\\]{1,100})"\s*:\s*"((?:[^"\\]|\\.)*)"')
_Pointers = frozenset[tuple[str, ...]]
_SCHEMES = ("bearer", "basic", "token", "digest")


@lru_cache(maxsize=4096)  # hashing per request shows in the profile; clients resend a few
def fingerprint(secret: str) -> str:
    """``[redacted:<first 8 hex of its SHA-256>]``; a fingerprint already is one is kept."""
    if _FINGERPRINT.fullmatch(secret):
        return secret
    return f"[redacted:{hashlib.sha256(secret.encode()).hexdigest()[:8]}]"


@lru_cache(maxsize=4096)
def secret_name(name: str) -> bool:
    """Whether a header, parameter or key of this name holds a credential (generic rule)."""
    return bool(_SECRET_NAME.search(name.lower().replace("-", "_")))


def redact_header(name: str, value: str) -> str:
    """A secret header's value as scheme plus fingerprint (``Bearer [redacted:1a2b3c4d]``);
    a ``Cookie`` keeps its cookie names."""
    lowered = name.lower()
    if lowered == "cookie":
        pairs = (p.strip().partition("=") for p in value.split(";") if p.strip())
        return "; ".join(f"{k}={fingerprint(v)}" if eq else fingerprint(k) for k, eq, v in pairs)
    scheme, space, rest = value.partition(" ")
    if space and scheme.lower() in _SCHEMES:
        return f"{scheme} {fingerprint(rest)}"
    return fingerprint(value)


@dataclass(frozen=True, slots=True)
class Secret:
    """One place a provider's requests carry a secret (an item of a catalogue's ``secrets``).

    Attributes:
        where: ``body``, ``query``, ``header`` or ``path``.
        name: A body key (any depth), query parameter or header name, any case.
        pointer: A JSON Pointer into the body: everything under it is secret.
        segments: Path segments from the start (``mcp``, ``*``, ``{secret}``), any case.
        paths: Request-path globs it applies to; every path when empty.
    """

    where: str
    name: str | None = None
    pointer: tuple[str, ...] | None = None
    segments: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Secret:
        pointer = data.get("pointer")
        return cls(
            where=data["in"],
            name=data["name"].lower() if data.get("name") else None,
            pointer=_tokens(pointer) if pointer else None,
            segments=tuple(s.lower() for s in data.get("segments", ())),
            paths=tuple(data.get("paths", ())),
        )

    def applies(self, segments: Sequence[str]) -> bool:
        path = "/" + "/".join(segments)
        return not self.paths or any(fnmatchcase(path, glob.lower()) for glob in self.paths)


def _tokens(pointer: str) -> tuple[str, ...]:
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:])


def _resolved(path: str) -> list[tuple[int, str]]:
    """(index in ``path.split('/')``, lower-case segment) of the path as a server reads it:
    empty and ``.`` segments dropped, ``..`` going up (``//MCP/./s/t`` is ``mcp/s/t``)."""
    kept: list[tuple[int, str]] = []
    for index, part in enumerate(path.split("/")):
        if part in ("", "."):
            continue
        if part == "..":
            if kept:
                kept.pop()
            continue
        kept.append((index, part.lower()))
    return kept


@dataclass(frozen=True, slots=True)
class Redaction:
    """The generic rules plus one provider's ``secrets``; ``Redaction()`` is the generic only."""

    secrets: tuple[Secret, ...] = ()

    @classmethod
    def from_data(cls, items: Sequence[Mapping[str, Any]]) -> Redaction:
        return cls(tuple(Secret.from_data(item) for item in items))

    def _named(self, where: str, segments: Sequence[str]) -> frozenset[str]:
        if not self.secrets:
            return frozenset()
        return frozenset(
            s.name for s in self.secrets if s.where == where and s.name and s.applies(segments)
        )

    def path(self, path: str) -> str:
        """``path`` with each secret segment a fingerprint, however it is spelled."""
        rules = [s for s in self.secrets if s.where == "path"]
        if not rules:
            return path
        parts, resolved = path.split("/"), _resolved(path)
        for rule in rules:
            if len(resolved) < len(rule.segments):
                continue
            pairs = list(zip(rule.segments, resolved, strict=False))
            if all(want in ("*", "{secret}") or want == got for want, (_, got) in pairs):
                for want, (index, _) in pairs:
                    if want == "{secret}":
                        parts[index] = fingerprint(parts[index])
        return "/".join(parts)

    def headers(self, headers: Mapping[str, str], path: str = "/") -> dict[str, str]:
        named = self._named("header", [s for _, s in _resolved(path)])
        return {
            k: redact_header(k, str(v)) if secret_name(k) or k.lower() in named else v
            for k, v in headers.items()
        }

    def query(self, query: Mapping[str, str], path: str = "/") -> dict[str, str]:
        named = self._named("query", [s for _, s in _resolved(path)])
        return {
            k: fingerprint(str(v)) if secret_name(k) or k.lower() in named else v
            for k, v in query.items()
        }

    def body(self, raw: bytes, path: str = "/") -> bytes:
        """A JSON or form-encoded body with its secrets as fingerprints (the bytes unchanged
        when it holds none)."""
        segments = [s for _, s in _resolved(path)]
        body_rules = [s for s in self.secrets if s.where == "body" and s.applies(segments)]
        if not raw or not (body_rules or _HINT.search(raw)):
            return raw
        names = frozenset(s.name for s in body_rules if s.name)
        pointers = frozenset(s.pointer for s in body_rules if s.pointer is not None)
        if raw.lstrip()[:1] in (b"{", b"["):
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError:
                return _text(raw, names)
            walked = _walk(data, (), names, pointers)
            return raw if walked == data else orjson.dumps(walked)
        return _form(raw, names, pointers)

    def entry(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """A journal-shaped entry (captured elsewhere) with its secrets as fingerprints."""
        path = str(entry.get("path") or "/")
        body = entry.get("body")
        return {
            **entry,
            "path": self.path(path),
            "query": self.query(entry.get("query") or {}, path),
            "headers": self.headers(entry.get("headers") or {}, path),
            "body": self.body(body.encode(), path).decode() if isinstance(body, str) else body,
        }


def _walk(value: Any, at: tuple[str, ...], names: frozenset[str], pointers: _Pointers) -> Any:
    if at in pointers:
        return _all(value, numbers=True)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if lowered in names:
                out[key] = _all(item, numbers=True)
            elif secret_name(lowered):
                out[key] = _all(item, numbers=False)
            else:
                out[key] = _walk(item, (*at, str(key)), names, pointers)
        return out
    if isinstance(value, list):
        return [_walk(item, (*at, str(i)), names, pointers) for i, item in enumerate(value)]
    return value


def _all(value: Any, *, numbers: bool) -> Any:
    """Every string leaf (and number, for a field the catalogue names) as a fingerprint."""
    if isinstance(value, str):
        return fingerprint(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and numbers:
        return fingerprint(str(value))
    if isinstance(value, dict):
        return {k: _all(v, numbers=numbers) for k, v in value.items()}
    if isinstance(value, list):
        return [_all(v, numbers=numbers) for v in value]
    return value


def _form(raw: bytes, names: frozenset[str], pointers: _Pointers) -> bytes:
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return raw
    top = {p[0] for p in pointers if len(p) == 1}
    hidden = [
        (k, fingerprint(v) if secret_name(k) or k.lower() in names or k in top else v)
        for k, v in pairs
    ]
    return raw if hidden == pairs else urlencode(hidden, safe="[]:").encode()


def _text(raw: bytes, names: frozenset[str]) -> bytes:
    """JSON that does not parse (cut short, broken): its ``"key": "value"`` pairs, by name."""

    def hide(match: re.Match[bytes]) -> bytes:
        key = match.group(1).decode("utf-8", "replace")
        if not (secret_name(key) or key.lower() in names):
            return match.group(0)
        value = fingerprint(match.group(2).decode("utf-8", "replace"))
        return match.group(0)[: match.start(2) - match.start(0)] + value.encode() + b'"'

    return _PAIR.sub(hide, raw)


GENERIC = Redaction()

__all__ = ["GENERIC", "Redaction", "Secret", "fingerprint", "redact_header", "secret_name"]
