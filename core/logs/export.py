"""Log exports: written to a file under the data dir, downloadable until they expire.

The file name carries 128 random bits and the metadata row lives in the database, so any
process can serve the download and guessing names is not a way in.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from ipv6wgm.api import utcnow
from ipv6wgm.logs.models import LogExport
from ipv6wgm.logs.service import serialize
from ipv6wgm.runtime import current

MAX_EXPORT_ROWS = 100_000
CSV_FIELDS = ("id", "timestamp", "level", "module", "action", "user_id", "ip_address", "method", "path",
              "status_code", "message")


def export_dir() -> Path:
    path = current().settings.data_dir / "exports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _safe_cell(value: Any) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in exported cells."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render(rows: list[Any], fmt: str) -> bytes:
    items = [serialize(r) for r in rows]
    if fmt == "json":
        return json.dumps(items, ensure_ascii=False, indent=1).encode()
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_FIELDS)
        for item in items:
            writer.writerow([_safe_cell(item.get(f)) for f in CSV_FIELDS])
        return buf.getvalue().encode()
    lines = [
        f"{i['timestamp']} {i['level']:<8} [{i['module']}] {i['message']}".replace("\n", " ")
        for i in items
    ]
    return ("\n".join(lines) + "\n").encode()


async def create_export(rows: list[Any], fmt: str, user_id: int) -> tuple[LogExport, int]:
    stamp = utcnow().strftime("%Y%m%d_%H%M%S")
    name = f"export_{stamp}_{secrets.token_hex(16)}.{fmt}"
    content = render(rows, fmt)
    (export_dir() / name).write_bytes(content)
    export = await LogExport.create(
        name=name, user_id=user_id, format=fmt, file_size=len(content),
        expires_at=utcnow() + timedelta(seconds=current().settings.log_export_ttl),
    )
    return export, len(rows)


async def purge_expired(ctx: dict[str, Any] | None = None) -> int:
    """Cron: remove expired export files and rows."""
    expired = await LogExport.filter(expires_at__lt=utcnow())
    for export in expired:
        (export_dir() / export.name).unlink(missing_ok=True)
    await LogExport.filter(name__in=[e.name for e in expired]).delete()
    return len(expired)
