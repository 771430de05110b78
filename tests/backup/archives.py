"""Hand-made archives for the hostile tests: any member list, any member type."""

from __future__ import annotations

import io
import tarfile
from typing import Any


def build(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, **extra: Any
           ) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    for key, value in extra.items():
        setattr(info, key, value)
    return info, data if kind == tarfile.REGTYPE else None


def members_of(archive: bytes) -> list[tuple[str, bytes]]:
    """The (name, bytes) of a genuine archive, in order (test-side reading of our own output)."""
    out = []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            out.append((info.name, handle.read() if handle else b""))
    return out


def rebuild(pairs: list[tuple[str, bytes]]) -> bytes:
    return build([member(name, data) for name, data in pairs])
