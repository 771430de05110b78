"""The catalogue: archive ids, their files (confined to the backup directory) and their rows."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from ipv6wgm.api import iso, not_found, utcnow
from ipv6wgm_backup.models import Archive
from ipv6wgm_backup.settings import backup_dir

ID_RE = re.compile(r"backup_[0-9]{8}_[0-9]{6}_[0-9a-f]{6}")
FILE_RE = re.compile(r"(backup_[0-9]{8}_[0-9]{6}_[0-9a-f]{6})_(full|database|files|config)\.tar\.gz(\.enc)?")


ID_PATTERN = "backup_[0-9]{8}_[0-9]{6}(?:_[0-9a-f]{6})?"  # the spec shows ids without the suffix


def new_id(now: datetime | None = None) -> str:
    return f"backup_{(now or utcnow()).strftime('%Y%m%d_%H%M%S')}_{secrets.token_hex(3)}"


def file_name(archive_id: str, backup_type: str, encrypted: bool) -> str:
    return f"{archive_id}_{backup_type}.tar.gz{'.enc' if encrypted else ''}"


def path_of(entry: Archive) -> Path:
    """The archive's file, which must be a plain file directly inside the backup directory."""
    if not FILE_RE.fullmatch(entry.file_name):
        raise not_found("backup file")
    base = backup_dir()
    path = base / entry.file_name
    if path.parent.resolve() != base.resolve() or path.is_symlink() or not path.is_file():
        raise not_found("backup file")
    return path


async def get(archive_id: str) -> Archive:
    """The catalogue row; 404 for an id that is not well-formed or not there."""
    if not isinstance(archive_id, str) or not ID_RE.fullmatch(archive_id):
        raise not_found("backup")
    entry = await Archive.filter(id=archive_id).first()
    if entry is None:
        raise not_found("backup")
    return entry


def out(entry: Archive) -> dict[str, Any]:
    return {"id": entry.id, "name": entry.name, "type": entry.type, "status": entry.status,
            "created_at": iso(entry.created_at), "completed_at": iso(entry.completed_at),
            "size_bytes": entry.size_bytes, "file_path": str(backup_dir() / entry.file_name),
            "checksum": entry.checksum, "checksum_algorithm": "sha256", "encrypted": entry.encrypted,
            "origin": entry.origin, "schedule_id": entry.schedule_id, "error": entry.error,
            "metadata": entry.metadata}


async def remove(entry: Archive) -> None:
    """The row and its file (a missing file is no error: the row goes anyway)."""
    if FILE_RE.fullmatch(entry.file_name):
        (backup_dir() / entry.file_name).unlink(missing_ok=True)
    await entry.delete()
