"""Writing the audit and application log, with secrets redacted before anything is stored.

Audit entries (who did what, from where, with what result) are written in the request that
caused them, so none is lost; application log records (warnings and errors from any module)
go through a queue and are written in batches so logging never blocks a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import traceback
from typing import Any

from quart import has_request_context, request

from ipv6wgm.api import iso

log = logging.getLogger(__name__)
SECRET_KEY_RE = re.compile(r"pass|secret|token|private|key|psk|authorization|cookie", re.I)
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if SECRET_KEY_RE.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def serialize(entry: Any, *, full: bool = False) -> dict[str, Any]:
    details = dict(entry.details or {})
    if entry.user_agent:
        details.setdefault("user_agent", entry.user_agent)
    if entry.username:
        details.setdefault("username", entry.username)
    data = {
        "id": entry.id,
        "level": entry.level,
        "message": entry.message,
        "module": entry.module,
        "action": entry.action,
        "user_id": entry.user_id,
        "ip_address": entry.ip_address,
        "method": entry.method,
        "path": entry.path,
        "status_code": entry.status_code,
        "timestamp": iso(entry.timestamp),
        "details": details,
    }
    if full:
        data["stack_trace"] = entry.stack_trace
        data["node_id"] = entry.node_id
    return data


def _request_facts() -> dict[str, Any]:
    if not has_request_context():
        return {}
    return {
        "ip_address": (request.remote_addr or "")[:64] or None,
        "user_agent": (request.headers.get("User-Agent") or "")[:255] or None,
        "method": request.method,
        "path": request.path[:255],
    }


async def audit(
    message: str,
    *,
    action: str,
    level: str = "INFO",
    module: str = "audit",
    user_id: int | None = None,
    username: str | None = None,
    status_code: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    from ipv6wgm.logs.models import LogEntry
    from ipv6wgm.runtime import current

    rt = current()
    entry = await LogEntry.create(
        level=level,
        module=module[:64],
        message=message[:1024],
        action=action[:64],
        user_id=user_id,
        username=(username or "")[:64] or None,
        status_code=status_code,
        node_id=rt.settings.node_id,
        details=redact(details) if details else None,
        **_request_facts(),
    )
    await rt.hub.publish("logs", "log_entry", serialize(entry))


class DatabaseLogHandler(logging.Handler):
    """Queues application log records; ``run()`` writes them in batches."""

    def __init__(self, node_id: str, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.node_id = node_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(10_000)
        self._task: asyncio.Task[None] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("tortoise", "aiomysql", "asyncio")) and record.levelno < logging.ERROR:
            return
        try:
            stack = "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else None
            self.queue.put_nowait(
                {
                    "level": record.levelname[:10],
                    "module": record.name[:64],
                    "message": record.getMessage()[:1024],
                    "stack_trace": stack,
                    "node_id": self.node_id,
                }
            )
        except (asyncio.QueueFull, RuntimeError):
            pass

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="db-log-writer")

    async def stop(self) -> None:
        if self._task is not None:
            await self._flush()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            first = await self.queue.get()
            await asyncio.sleep(0.5)
            await self._flush([first])

    async def _flush(self, batch: list[dict[str, Any]] | None = None) -> None:
        from ipv6wgm.logs.models import LogEntry

        batch = batch or []
        while not self.queue.empty() and len(batch) < 500:
            batch.append(self.queue.get_nowait())
        if not batch:
            return
        try:
            await LogEntry.bulk_create([LogEntry(**row) for row in batch])
        except Exception as exc:  # noqa: BLE001 - logging must never take the server down
            print(f"ipv6wgm: could not store {len(batch)} log records: {exc}")  # noqa: T201
