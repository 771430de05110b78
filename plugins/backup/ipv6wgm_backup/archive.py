"""Reading and writing archive files: a tar.gz of named members, optionally encrypted whole.

Writing streams (``w|gz``) through an optional ``EncryptingWriter`` and a hashing writer, so the
archive's sha256 is known when the file is closed. Reading never extracts anything to disk and
does not rely on ``tarfile``'s extraction filters (Python 3.11.7's ``filter="data"`` has known
bypasses): it walks the members in stream mode (``r|`` over a ``GzipFile``, which checks the
gzip CRC) and reads, with ``extractfile``, only regular files whose name is on the whitelist,
within a member count and size caps. Links, devices, directories, absolute paths, ``..`` and
duplicate names are refused.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import re
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from ipv6wgm_backup import crypto

MEMBER_RE = re.compile(r"manifest\.json|config\.json|tables/[A-Za-z0-9_]{1,64}\.jsonl|contrib/[A-Za-z0-9_.-]{1,128}")
MANIFEST_MAX = 16 * 1024 * 1024
#: What reading a damaged gzip stream or tar raises.
DAMAGE = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError)
FORMAT = 1
CHUNK = 1024 * 1024


class ArchiveError(ValueError):
    """The archive is refused; the message says why, in words for the operator."""


@dataclass(frozen=True)
class Limits:
    max_members: int
    max_member_bytes: int
    max_total_bytes: int


class _Counter:
    """What the crypto layer writes, hashed: the archive file's own digest."""

    def __init__(self, out: BinaryIO) -> None:
        self.out, self.sha, self.size = out, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()


class ArchiveWriter:
    """``add(name, fileobj_or_bytes)`` members, then ``close()`` -> (sha256 hex, size).

    Each member's sha256 and size are recorded in ``members`` for the manifest, which the
    caller adds last.
    """

    def __init__(self, path: Path, passphrase: str | None = None) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._counter = _Counter(self._file)
        self._crypt = crypto.EncryptingWriter(self._counter, passphrase) if passphrase else None  # type: ignore[arg-type]
        # gzip level 1: on the tables' JSONL within 3 % of level 3's size (and 5 % of level 6's)
        # at 1.6 times its speed; the compression of the last tables is what a backup waits for
        self._gz = gzip.GzipFile(fileobj=self._crypt or self._counter, mode="wb", compresslevel=1, mtime=0)  # type: ignore[arg-type]
        self._tar = tarfile.open(fileobj=self._gz, mode="w|", format=tarfile.PAX_FORMAT)
        self.members: dict[str, dict[str, Any]] = {}

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add_file(name, io.BytesIO(data), len(data), hashlib.sha256(data).hexdigest())

    def add_file(self, name: str, fileobj: IO[bytes], size: int, sha256: str) -> None:
        if not MEMBER_RE.fullmatch(name) or name in self.members:
            raise ValueError(f"bad or duplicate member name {name!r}")
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(time.time())
        self._tar.addfile(info, fileobj)
        self.members[name] = {"sha256": sha256, "size": size}

    def close(self) -> tuple[str, int]:
        self._tar.close()
        self._gz.close()
        if self._crypt is not None:
            self._crypt.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self._counter.sha.hexdigest(), self._counter.size

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._tar.close()
            self._gz.close()
        self._file.close()


class SpoolMember:
    """A member written in pieces (a table dump) before its size is known: spooled in memory,
    then in an unnamed temporary file in the backup directory."""

    def __init__(self, directory: Path) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024, dir=directory)  # noqa: SIM115
        self.sha, self.size = hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.sha.update(data)
        self.size += len(data)

    def rewind(self) -> IO[bytes]:
        self.file.seek(0)
        return self.file  # type: ignore[return-value]

    def close(self) -> None:
        self.file.close()


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


@contextlib.contextmanager
def plain_archive(path: Path, passphrase: str | None, workdir: Path) -> Iterator[Path]:
    """The archive as a plain tar.gz path: itself, or (encrypted) its decryption into a 0600
    temporary file in ``workdir``, removed afterwards. Wrong passphrase: ``ArchiveError``."""
    if not crypto.is_encrypted(path):
        yield path
        return
    if not passphrase:
        raise ArchiveError("the archive is encrypted: a passphrase is needed")
    fd, name = tempfile.mkstemp(prefix=".restore-", suffix=".tar.gz", dir=workdir)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                crypto.decrypt_to(path, passphrase, out)
            except crypto.WrongPassphrase as exc:
                raise ArchiveError(f"{exc}") from None
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def check_member(member: tarfile.TarInfo, seen: set[str], limits: Limits, total: int) -> None:
    name = member.name
    if name.startswith("/") or name.startswith("\\") or re.match(r"^[A-Za-z]:", name):
        raise ArchiveError(f"member {name!r}: absolute paths are refused")
    if ".." in re.split(r"[/\\]", name):
        raise ArchiveError(f"member {name!r}: '..' in a path is refused")
    if member.issym() or member.islnk():
        raise ArchiveError(f"member {name!r}: links are refused")
    if member.isdev() or member.ischr() or member.isblk() or member.isfifo():
        raise ArchiveError(f"member {name!r}: devices and fifos are refused")
    if not member.isreg() or member.issparse():
        raise ArchiveError(f"member {name!r}: only regular files are accepted")
    if not MEMBER_RE.fullmatch(name):
        raise ArchiveError(f"member {name!r} is not part of the archive format")
    if name in seen:
        raise ArchiveError(f"member {name!r} appears twice")
    if len(seen) >= limits.max_members:
        raise ArchiveError(f"more than {limits.max_members} members")
    if member.size > limits.max_member_bytes:
        raise ArchiveError(f"member {name!r} is {member.size} bytes, more than the cap of "
                           f"{limits.max_member_bytes}")
    if total + member.size > limits.max_total_bytes:
        raise ArchiveError(f"the archive's members exceed {limits.max_total_bytes} bytes in all")


def iter_members(path: Path, limits: Limits) -> Iterator[tuple[str, IO[bytes]]]:
    """Yield ``(name, file object)`` for each checked member, in archive order; the file object
    is valid until the next member. Every refusal and any damage is an ``ArchiveError``."""
    seen: set[str] = set()
    total = 0
    try:
        with open(path, "rb") as raw:
            if raw.read(2) != b"\x1f\x8b":
                raise ArchiveError("not a gzip file (nor an encrypted archive)")
            raw.seek(0)
            # gzip.GzipFile, not tarfile's "r|gz": tarfile never checks the gzip trailer, so
            # damage that still inflates would pass; GzipFile checks CRC and length at the end
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz, tarfile.open(fileobj=gz, mode="r|") as tar:
                try:
                    for member in tar:
                        check_member(member, seen, limits, total)
                        seen.add(member.name)
                        total += member.size
                        handle = tar.extractfile(member)
                        if handle is None:
                            raise ArchiveError(f"member {member.name!r} cannot be read")
                        yield member.name, _Bounded(handle, member.size)
                except ArchiveError:
                    _refuse_damage(gz, limits.max_total_bytes)  # a damaged stream says so first
                    raise
                # tarfile stops quietly at a damaged header after the first member: read the
                # gzip stream to its end, so its CRC and length are checked too
                while tar.fileobj.read(CHUNK):  # type: ignore[union-attr]
                    pass
    except ArchiveError:
        raise
    except DAMAGE as exc:
        raise ArchiveError(f"the archive is corrupted or truncated: {exc}") from None
    if not seen:
        raise ArchiveError("the archive is empty")


def _refuse_damage(gz: IO[bytes], cap: int) -> None:
    """Read the rest of the gzip stream (at most ``cap`` bytes): a header refused because the
    stream is damaged is reported as damage, as its CRC shows."""
    left = cap
    try:
        while left > 0 and (chunk := gz.read(min(CHUNK, left))):
            left -= len(chunk)
    except DAMAGE as exc:
        raise ArchiveError(f"the archive is corrupted or truncated: {exc}") from None


class _Bounded(io.RawIOBase):
    """Reads at most ``size`` bytes (a member's header could lie about nothing else)."""

    def __init__(self, inner: IO[bytes], size: int) -> None:
        self.inner, self.left = inner, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), self.left)]
        try:
            data = self.inner.read(len(view))
        except DAMAGE as exc:
            raise ArchiveError(f"the archive is corrupted or truncated: {exc}") from None
        if not data and len(view):
            raise ArchiveError("the archive is corrupted or truncated: a member ends early")
        view[: len(data)] = data
        self.left -= len(data)
        return len(data)


def read_all(handle: IO[bytes], cap: int) -> bytes:
    data = handle.read(cap + 1)
    if len(data) > cap:
        raise ArchiveError(f"a member is larger than {cap} bytes")
    return data


def iter_lines(handle: IO[bytes], sha: Any) -> Iterator[bytes]:
    """Lines of a JSONL member, hashing every byte read."""
    pending = b""
    while chunk := handle.read(CHUNK):
        sha.update(chunk)
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from lines
    if pending:
        yield pending
