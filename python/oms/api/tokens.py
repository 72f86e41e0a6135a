"""Bearer tokens: who may call the API, and for what (scopes ``read``, ``trade``, ``admin``).

A token is 32 random bytes (``oms_`` + URL-safe base64), shown once when created; the
store keeps only its SHA-256. A fast hash is right here: the token is a random key, not
a password, so there is nothing to brute-force that a slow hash would protect. The
file (``tokens.json``, mode 0600) is re-read when it changes, so ``oms token create``
and ``revoke`` work against a running server (a revoked token fails its next call).
Writers take ``tokens.json.lock`` and replace the file whole, so concurrent creates
lose nothing and a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec

from oms.errors import InvalidInput

log = logging.getLogger(__name__)
SCOPES = ("read", "trade", "admin")
PREFIX = "oms_"


class TokenInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    scopes: tuple[str, ...]
    sha256: str
    created_ns: int
    rate_per_s: float | None = None  # this client's request rate; None: the server's default
    burst: float | None = None


class _File(msgspec.Struct):
    tokens: list[TokenInfo] = msgspec.field(default_factory=list)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Tokens in ``path``; ``verify`` is a stat() and a dict lookup."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._by_digest: dict[str, TokenInfo] = {}
        self._version: tuple[int, int, int] | None = None  # (inode, mtime, size) loaded
        self._load()

    def create(
        self,
        name: str,
        scopes: list[str] | tuple[str, ...],
        *,
        rate_per_s: float | None = None,
        burst: float | None = None,
    ) -> str:
        """A new token with these scopes (replacing any of the same name), with its own
        request rate if given; returns it (the only time it is seen)."""
        bad = sorted(set(scopes) - set(SCOPES))
        if bad or not scopes:
            raise InvalidInput(f"scopes: {bad or 'none'} (choose from {', '.join(SCOPES)})", field="scopes")
        if not name or len(name) > 64:
            raise InvalidInput("name: 1 to 64 characters", field="name")
        if (rate_per_s is not None and rate_per_s <= 0) or (burst is not None and burst < 1):
            raise InvalidInput("rate_per_s must be > 0 and burst >= 1", field="rate_per_s")
        token = PREFIX + secrets.token_urlsafe(32)
        info = TokenInfo(
            name=name,
            scopes=tuple(s for s in SCOPES if s in scopes),
            sha256=digest(token),
            created_ns=time.time_ns(),
            rate_per_s=rate_per_s,
            burst=burst,
        )
        with self._locked():
            self._load(strict=True)
            self._write([t for t in self._by_digest.values() if t.name != name] + [info])
        return token

    def revoke(self, name: str) -> bool:
        with self._locked():
            self._load(strict=True)
            records = [t for t in self._by_digest.values() if t.name != name]
            removed = len(records) != len(self._by_digest)
            self._write(records)
        return removed

    def verify(self, token: str) -> TokenInfo | None:
        """The token's record, from the file as it is now: one stat() per call, cheap
        beside the TLS and RPC it came with, so that a revocation holds at once."""
        if self._changed():
            self._load()
        return self._by_digest.get(digest(token))

    def names(self) -> list[TokenInfo]:
        self._load()
        return sorted(self._by_digest.values(), key=lambda t: t.name)

    def _changed(self) -> bool:
        """By inode as well as mtime: every write is a new file, and mtimes move in
        coarse ticks (two writes in one tick keep the same mtime)."""
        try:
            return _version(self.path.stat()) != self._version
        except FileNotFoundError:
            return False

    def _load(self, *, strict: bool = False) -> None:
        """Read the file if there is one. A file that does not parse keeps the tokens
        loaded before (a bad hand edit must not open or close the door); ``strict``
        raises instead, for writers, which would otherwise overwrite it."""
        try:
            with self.path.open("rb") as file:
                version, raw = _version(os.fstat(file.fileno())), file.read()
        except FileNotFoundError:
            return
        try:
            records = msgspec.json.decode(raw, type=_File).tokens
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            self._version = version  # not again until the file changes
            if strict:
                raise InvalidInput(f"{self.path}: not a token file ({err}); fix or remove it") from None
            log.error("%s is not a valid token file (%s): keeping the tokens loaded before", self.path, err)
            return
        self._by_digest = {t.sha256: t for t in records}
        self._version = version

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time, across processes: each rewrites what it has just read."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _write(self, records: list[TokenInfo]) -> None:
        """A new file (mode 0600, a name of its own) renamed over the old one."""
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(msgspec.json.format(msgspec.json.encode(_File(records)), indent=2))
                out.flush()
                version = _version(os.fstat(out.fileno()))
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._by_digest = {t.sha256: t for t in records}
        self._version = version


def _version(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_ino, st.st_mtime_ns, st.st_size)
