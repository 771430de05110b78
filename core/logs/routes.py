"""/logs: search, detail, export and download."""

from __future__ import annotations

import re
from typing import Any

from quart import Blueprint, Response
from quart_schema import document_response, validate_querystring

from ipv6wgm.api import Envelope, iso, not_found, ok, paginate, utcnow
from ipv6wgm.logs import export
from ipv6wgm.logs.models import LogEntry, LogExport, LogExportChunk
from ipv6wgm.logs.schemas import ExportOut, ExportQuery, LogFilter, LogList, LogOut, LogQuery
from ipv6wgm.logs.service import serialize
from ipv6wgm.security.rbac import current_principal, require

bp = Blueprint("logs", __name__, url_prefix="/api/v1/logs")
EXPORT_NAME_RE = re.compile(r"export_\d{8}_\d{6}_[0-9a-f]{32}\.(json|csv|txt)")
MIMETYPES = {"json": "application/json", "csv": "text/csv", "txt": "text/plain"}


def _filtered(f: LogFilter | ExportQuery) -> Any:
    qs = LogEntry.all()
    if f.level:
        qs = qs.filter(level=f.level)
    if f.start_time:
        qs = qs.filter(timestamp__gte=f.start_time)
    if f.end_time:
        qs = qs.filter(timestamp__lte=f.end_time)
    if f.search:
        qs = qs.filter(message__icontains=f.search)
    if isinstance(f, LogFilter):
        if f.module:
            qs = qs.filter(module=f.module)
        if f.user_id:
            qs = qs.filter(user_id=f.user_id)
    return qs


@bp.get("")
@require("logs.read")
@validate_querystring(LogQuery)
@document_response(Envelope[LogList])
async def list_logs(query_args: LogQuery):
    """Application and audit log, newest first."""
    rows, page = await paginate(_filtered(query_args).order_by("-id"), query_args)
    return ok({"logs": [serialize(r) for r in rows], "pagination": page})


@bp.get("/<int:log_id>")
@require("logs.read")
@document_response(Envelope[LogOut])
async def get_log(log_id: int):
    """One log entry, with its stack trace if it has one."""
    entry = await LogEntry.filter(id=log_id).first()
    if entry is None:
        raise not_found("log entry")
    return ok(serialize(entry, full=True))


@bp.get("/export")
@require("logs.read")
@validate_querystring(ExportQuery)
@document_response(Envelope[ExportOut])
async def export_logs(query_args: ExportQuery):
    """Write the matching entries (at most 100,000, newest first) to a file; returns its URL.

    ``download_url`` is relative to the API base URL (``/api/v1``), as in the spec.
    """
    rows = await _filtered(query_args).order_by("-id").limit(export.MAX_EXPORT_ROWS)
    item, count = await export.create_export(rows, query_args.format, current_principal().id)
    return ok({
        "download_url": f"/logs/export/download/{item.name}",
        "file_size": item.file_size,
        "expires_at": iso(item.expires_at),
        "format": item.format,
        "entries": count,
    })


@bp.get("/export/download/<string:name>")
@require("logs.read")
async def download_export(name: str):
    """Download an export until it expires: only its exporter or an admin (others get 404)."""
    principal = current_principal()
    if not EXPORT_NAME_RE.fullmatch(name):
        raise not_found("export")
    item = await LogExport.filter(name=name, expires_at__gt=utcnow()).first()
    if item is None or (item.user_id != principal.id and principal.role != "admin"):
        raise not_found("export")
    if not await LogExportChunk.filter(export_id=name).exists():  # written by an older version
        raise not_found("export")
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Length": str(item.file_size),
        "Cache-Control": "no-store",
    }
    return Response(export.stream(name), status=200, mimetype=MIMETYPES[item.format], headers=headers)
