"""Log exports: stored in the database, downloadable from any API process until they expire.

The content is zlib-compressed and split into rows of at most ``CHUNK_BYTES`` (base64 text, so
a chunk stays far below MariaDB's default ``max_allowed_packet``), written in one transaction
with its metadata row so a half-written export is never served. Downloads stream the chunks
back one at a time. The name carries 128 random bits, and only the exporter or an admin may
download it, so guessing names is not a way in.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import secrets
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from tortoise.transactions import in_transaction

from ipv6wgm.api import utcnow
from ipv6wgm.logs.models import LogExport, LogExportChunk
from ipv6wgm.logs.service import serialize
from ipv6wgm.runtime import current

MAX_EXPORT_ROWS = 100_000
CHUNK_BYTES = 256 * 1024
CSV_FIELDS = ("id", "timestamp", "level", "module", "action", "user_id", "ip_address", "method", "path",
              "status_code", "message")


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


def _packed(rows: list[Any], fmt: str) -> tuple[int, list[str]]:
    """Render and compress (CPU work: run in a thread, not in the event loop)."""
    content = render(rows, fmt)
    packed = zlib.compress(content, 6)
    slices = [packed[i:i + CHUNK_BYTES] for i in range(0, len(packed), CHUNK_BYTES)]
    return len(content), [base64.b64encode(s).decode("ascii") for s in slices]


async def create_export(rows: list[Any], fmt: str, user_id: int) -> tuple[LogExport, int]:
    stamp = utcnow().strftime("%Y%m%d_%H%M%S")
    name = f"export_{stamp}_{secrets.token_hex(16)}.{fmt}"
    size, chunks = await asyncio.to_thread(_packed, rows, fmt)
    async with in_transaction():
        export = await LogExport.create(
            name=name, user_id=user_id, format=fmt, file_size=size,
            expires_at=utcnow() + timedelta(seconds=current().settings.log_export_ttl),
        )
        for seq, data in enumerate(chunks):  # one row per statement: each stays one small packet
            await LogExportChunk.create(export_id=name, seq=seq, data=data)
    return export, len(rows)


async def stream(name: str) -> AsyncIterator[bytes]:
    """The export's content, decompressed chunk by chunk (memory stays at about one chunk)."""
    ids = await LogExportChunk.filter(export_id=name).order_by("seq").values_list("id", flat=True)
    inflate = zlib.decompressobj()
    for chunk_id in ids:
        rows = await LogExportChunk.filter(id=chunk_id).values_list("data", flat=True)
        if rows:
            yield inflate.decompress(base64.b64decode(rows[0]))
    yield inflate.flush()


async def purge_expired(ctx: dict[str, Any] | None = None) -> int:
    """Cron: remove expired exports (their chunks first: SQLite may run without foreign keys)."""
    names = list(await LogExport.filter(expires_at__lt=utcnow()).values_list("name", flat=True))
    if names:
        async with in_transaction():
            await LogExportChunk.filter(export_id__in=names).delete()
            await LogExport.filter(name__in=names).delete()
    _purge_legacy_files()
    return len(names)


def _purge_legacy_files() -> None:
    """Exports used to be files under ``<data dir>/exports``; remove what an older version left."""
    legacy = current().settings.data_dir / "exports"
    if legacy.is_dir():
        for path in legacy.glob("export_*"):
            path.unlink(missing_ok=True)
        try:
            legacy.rmdir()
        except OSError:
            pass
