"""The jobs (create, verify, restore) and the schedule cron.

Each job records its status in ``backup_jobs`` (running -> completed/failed, with the error) and
reports progress on the ``backup`` WebSocket channel (``backup_progress``). A failure is a
``JobFailed``, which crosses arq's pickling intact. A passphrase travels to the worker encrypted
with the installation's secret box (never in clear through Redis) and is not stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from ipv6wgm.api import INTERNAL_ERROR, RESOURCE_CONFLICT, VALIDATION_ERROR, utcnow
from ipv6wgm.auth.service import sessions_replaced
from ipv6wgm.jobs import JobFailed
from ipv6wgm.runtime import current
from ipv6wgm_backup import archive as arc
from ipv6wgm_backup import catalog, maintenance, service
from ipv6wgm_backup.models import COMPLETED, FAILED, RUNNING, Archive, BackupJob
from ipv6wgm_backup.settings import backup_dir

log = logging.getLogger(__name__)
CHANNEL, MESSAGE = "backup", "backup_progress"


def seal(passphrase: str | None, job_id: str) -> str | None:
    return None if not passphrase else current().secrets.encrypt(passphrase, aad=f"backup-job:{job_id}")


def unseal(sealed: str | None, job_id: str) -> str | None:
    return None if not sealed else current().secrets.decrypt(sealed, aad=f"backup-job:{job_id}")


async def publish(job: BackupJob, **extra: Any) -> None:
    with contextlib.suppress(Exception):  # progress is best effort; the row is the record
        await current().hub.publish(CHANNEL, MESSAGE, {
            "job_id": job.id, "kind": job.kind, "backup_id": job.archive_id, "status": job.status,
            "step": job.step, "progress": job.progress, "error": job.error, **extra})


@contextlib.asynccontextmanager
async def tracked(job_id: str) -> AsyncIterator[BackupJob]:
    """The job's row: running now; completed, or failed with the error, at the end."""
    job = await BackupJob.filter(id=job_id).first()
    if job is None:
        raise JobFailed("start", f"unknown backup job {job_id}", 404, "RESOURCE_NOT_FOUND")
    job.status, job.step, job.progress, job.error = RUNNING, "started", 0, None
    await job.save()
    await publish(job)
    try:
        yield job
    except JobFailed as exc:
        await _finish(job, FAILED, exc.message)
        raise
    except arc.ArchiveError as exc:
        await _finish(job, FAILED, str(exc))
        raise JobFailed(job.step, str(exc), 422, VALIDATION_ERROR) from None
    except Exception as exc:
        log.exception("backup job %s failed", job_id)
        await _finish(job, FAILED, f"{type(exc).__name__}: {exc}")
        raise JobFailed(job.step, f"{type(exc).__name__}: {exc}", 500, INTERNAL_ERROR) from None
    else:
        await _finish(job, COMPLETED, None)


async def _finish(job: BackupJob, status: str, error: str | None) -> None:
    job.status, job.error, job.finished_at = status, error, utcnow()
    if status == COMPLETED:
        job.progress, job.step = 100, "done"
    await job.save()
    await publish(job)


def progress_of(job: BackupJob, *, persist: bool = True):
    async def report(step: str, percent: int) -> None:
        job.step, job.progress = step[:64], max(0, min(100, percent))
        if persist:
            await BackupJob.filter(id=job.id).update(step=job.step, progress=job.progress)
        await publish(job)

    return report


async def create(ctx: dict[str, Any], job_id: str, sealed: str | None = None) -> dict[str, Any]:
    async with tracked(job_id) as job:
        entry = await Archive.get(id=job.archive_id)
        path = backup_dir() / entry.file_name
        try:
            result = await service.create(path, name=entry.name, backup_type=entry.type,
                                          passphrase=unseal(sealed, job_id), metadata=entry.metadata,
                                          progress=progress_of(job))
        except BaseException as exc:
            entry.status, entry.error, entry.completed_at = FAILED, f"{type(exc).__name__}: {exc}"[:2000], utcnow()
            await entry.save()
            raise
        entry.status, entry.checksum, entry.size_bytes = COMPLETED, result["sha256"], result["size"]
        entry.completed_at = utcnow()
        await entry.save()
        job.result = {k: v for k, v in result.items() if k != "sha256"} | {"checksum": result["sha256"]}
        if entry.schedule_id is not None:
            from ipv6wgm_backup.schedules import apply_retention

            await apply_retention(entry.schedule_id)
        return job.result


async def _open_verified(job: BackupJob, sealed: str | None, report: Any) -> tuple[Any, Any]:
    entry = await Archive.filter(id=job.archive_id).first()
    if entry is None or entry.status != COMPLETED:
        raise JobFailed("open", f"backup {job.archive_id} is not a completed backup", 409, RESOURCE_CONFLICT)
    path = catalog.path_of(entry)
    await report("checksum", 2)
    if entry.checksum and await asyncio.to_thread(arc.file_sha256, path) != entry.checksum:
        raise arc.ArchiveError("checksum mismatch: the archive file changed since it was recorded")
    return entry, path


async def verify(ctx: dict[str, Any], job_id: str, sealed: str | None = None) -> dict[str, Any]:
    async with tracked(job_id) as job:
        report = progress_of(job)
        _, path = await _open_verified(job, sealed, report)
        with arc.plain_archive(path, unseal(sealed, job_id), backup_dir()) as plain:
            await report("members", 10)
            manifest = await asyncio.to_thread(service.verify_members, plain)
            await service.check_schema(manifest)
        job.result = summary(manifest)
        return job.result


def summary(manifest: dict[str, Any]) -> dict[str, Any]:
    return {"backup_type": manifest.get("backup_type"), "created_at": manifest.get("created_at"),
            "core_version": manifest.get("core_version"), "plugins": manifest.get("plugins"),
            "tables": len(manifest["tables"]), "rows": sum(t["rows"] for t in manifest["tables"].values()),
            "contributors": manifest["contributors"]}


async def restore(ctx: dict[str, Any], job_id: str, sealed: str | None = None) -> dict[str, Any]:
    async with tracked(job_id) as job:
        report = progress_of(job)
        # The pause covers the whole job, so a second restore is refused from the first moment.
        async with maintenance.paused(job_id):
            _, path = await _open_verified(job, sealed, report)
            with arc.plain_archive(path, unseal(sealed, job_id), backup_dir()) as plain:
                await report("members", 5)
                manifest = await asyncio.to_thread(service.verify_members, plain)
                older = await service.check_schema(manifest)
                await report("replacing tables", 10)
                await maintenance.settled()
                # SQLite: the job's own row cannot be written while the transaction holds the writer.
                result = await service.restore(plain, manifest, older, progress_of(job, persist=False))
        await report("after restore", 92)
        await after_restore(result.pop("contributions"))
        job.result = {**summary(manifest), **result}
        return job.result


async def after_restore(contributions: dict[str, bytes]) -> None:
    """Plugins' own restores, the live config, every process's cached sessions, and the data
    planes of this node reconciled."""
    runtime = current()
    for name, data in contributions.items():
        spec = runtime.registry.backups.get(name)
        if spec is None:
            log.warning("backup contribution %s has no installed contributor; skipped", name)
            continue
        await spec.restore(data)
    await runtime.config.load()
    await runtime.hub.control("config_changed", origin=id(runtime))
    await sessions_replaced()
    ctx = {**runtime.jobs.context, "job_id": "backup-restore", "job_try": 1}
    for spec in runtime.registry.crons.values():
        if spec.scope == "node" and spec.name.endswith(".reconcile"):
            try:
                await spec.func(ctx)
            except JobFailed as exc:
                log.warning("reconcile %s after the restore failed: %s", spec.name, exc)


async def start(kind: str, archive_id: str, *, user_id: int | None, passphrase: str | None = None) -> BackupJob:
    """Record a job and queue it on this node (whose backup directory holds the archive)."""
    import uuid

    job = await BackupJob.create(id=uuid.uuid4().hex, kind=kind, archive_id=archive_id, created_by=user_id)
    await current().jobs.enqueue(f"backup.{kind}", job.id, seal(passphrase, job.id), job_id=f"backup:{job.id}")
    return job


async def new_archive(name: str, backup_type: str, *, origin: str, user_id: int | None, encrypted: bool,
                      metadata: dict[str, Any] | None = None, schedule_id: int | None = None) -> Archive:
    archive_id = catalog.new_id()
    return await Archive.create(id=archive_id, name=name, type=backup_type, origin=origin,
                                file_name=catalog.file_name(archive_id, backup_type, encrypted), encrypted=encrypted,
                                metadata=metadata or {}, schedule_id=schedule_id, created_by=user_id)
