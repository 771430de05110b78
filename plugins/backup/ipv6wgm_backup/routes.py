"""/backup: archives (list, create, detail, delete, verify, restore, download, upload), jobs,
schedules and stats.

Download, upload, restore and delete are for admins only (``backup.admin``, granted to no other
role); listing, creating, verifying and schedules need ``backup.read`` / ``backup.write``.
A wrong passphrase is refused here, before a job starts (the archive's key check).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

from quart import Blueprint, request, send_file
from quart_schema import document_request, document_response, validate_querystring, validate_request
from tortoise.exceptions import IntegrityError

from ipv6wgm.api import (
    BAD_REQUEST,
    ApiError,
    Envelope,
    MessageEnvelope,
    conflict,
    invalid,
    iso,
    not_found,
    ok,
    utcnow,
)
from ipv6wgm.jobs import JobFailed
from ipv6wgm.openapi import file_response, optional_body, shaped_segment
from ipv6wgm.security.rbac import current_principal, require
from ipv6wgm.validation import text
from ipv6wgm_backup import catalog, crypto, jobs, maintenance, schedules
from ipv6wgm_backup.models import COMPLETED, FAILED, RUNNING, Archive, BackupJob, Schedule
from ipv6wgm_backup.schemas import (
    BackupCreate,
    BackupOut,
    JobOut,
    PassphraseBody,
    RestoreQuery,
    ScheduleCreate,
    ScheduleOut,
    ScheduleUpdate,
    Started,
    Stats,
    UploadQuery,
)
from ipv6wgm_backup.settings import backup_dir, get_settings

bp = Blueprint("backup", __name__)
shaped_segment(bp, "backup_id", catalog.ID_PATTERN)
shaped_segment(bp, "job_id", "[0-9a-f]{32}")
UPLOAD_PATH = "/api/v1/backup/backups/upload"


def _name(value: str, field: str = "name") -> str:
    try:
        return text(value, max_len=128, min_len=1, field=field)
    except ValueError as exc:
        raise invalid(field, str(exc)) from None


def job_out(job: BackupJob) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "backup_id": job.archive_id, "status": job.status, "step": job.step,
            "progress": job.progress, "error": job.error, "result": job.result, "created_at": iso(job.created_at),
            "finished_at": iso(job.finished_at)}


async def _queue(kind: str, entry: Archive, passphrase: str | None) -> BackupJob:
    try:
        return await jobs.start(kind, entry.id, user_id=current_principal().id, passphrase=passphrase)
    except ConnectionError as exc:
        raise ApiError(503, "SERVICE_UNAVAILABLE", f"job queue unavailable: {exc}") from None


def _check_passphrase(entry: Archive, passphrase: str | None) -> None:
    """A wrong or missing passphrase is the caller's error: 400, before any job starts."""
    path = catalog.path_of(entry)
    if not crypto.is_encrypted(path):
        return
    if not passphrase:
        raise ApiError(400, BAD_REQUEST, "the backup is encrypted: give its passphrase",
                       {"field": "passphrase", "message": "required for an encrypted backup"})
    try:
        crypto.check_passphrase(path, passphrase)
    except crypto.WrongPassphrase:
        raise ApiError(400, BAD_REQUEST, "wrong passphrase", {"field": "passphrase", "message": "wrong passphrase"}
                       ) from None
    except crypto.NotEncrypted:
        raise ApiError(400, BAD_REQUEST, "the encrypted archive's header is damaged") from None


async def _body(model: type[Any]) -> Any:
    """An optional JSON body: none at all means ``{}``; one that is there must be a valid object
    (``null``, a list or broken JSON is a 400, not silently taken as "no passphrase")."""
    data = await request.get_json(force=True) if request.content_length else {}
    try:
        return model.model_validate(data)
    except Exception as exc:  # pydantic ValidationError
        errors = getattr(exc, "errors", lambda: [])()
        field = ".".join(str(p) for p in errors[0]["loc"]) if errors else "body"
        raise invalid(field or "body", errors[0]["msg"] if errors else "invalid body") from None


# ---- archives ---------------------------------------------------------------------------------


@bp.get("/backups")
@require("backup.read")
@document_response(Envelope[list[BackupOut]])
async def list_backups():
    """Every backup of this installation, newest first; ``checksum`` is the archive's sha256."""
    return ok([catalog.out(e) for e in await Archive.all().order_by("-created_at", "-id")])


@bp.post("/backups/create")
@require("backup.write")
@validate_request(BackupCreate)
@document_response(Envelope[Started])
async def create_backup(data: BackupCreate):
    """Start a backup job (full, database, files or config), optionally encrypted with a passphrase."""
    name = _name(data.name)
    entry = await jobs.new_archive(name, data.backup_type, origin="created", user_id=current_principal().id,
                                   encrypted=bool(data.passphrase), metadata=data.metadata)
    job = await _queue("create", entry, data.passphrase)
    return ok({"message": "备份创建已开始", "name": entry.name, "type": entry.type, "backup_id": entry.id,
               "job_id": job.id}, "backup started")


@bp.get("/backups/<backup_id:backup_id>")
@require("backup.read")
@document_response(Envelope[BackupOut])
async def get_backup(backup_id: str):
    return ok(catalog.out(await catalog.get(backup_id)))


@bp.delete("/backups/<backup_id:backup_id>")
@require("backup.admin")
@document_response(MessageEnvelope)
async def delete_backup(backup_id: str):
    """Remove the archive file and its record (not while a job uses it)."""
    entry = await catalog.get(backup_id)
    if entry.status == RUNNING or await BackupJob.filter(archive_id=entry.id, status=RUNNING).exists():
        raise conflict("the backup is in use by a running job", backup_id=entry.id)
    await catalog.remove(entry)
    return ok(None, "backup deleted")


@bp.post("/backups/<backup_id:backup_id>/verify")
@require("backup.write")
@optional_body
@document_request(PassphraseBody)
@document_response(Envelope[Started])
async def verify_backup(backup_id: str):
    """Check the archive (digest, every member against the manifest, schema) without restoring."""
    entry = await _completed(backup_id)
    body = await _body(PassphraseBody)
    _check_passphrase(entry, body.passphrase)
    job = await _queue("verify", entry, body.passphrase)
    return ok({"message": "备份校验已开始", "backup_id": entry.id, "backup_name": entry.name, "job_id": job.id},
              "verification started")


async def _completed(backup_id: str) -> Archive:
    entry = await catalog.get(backup_id)
    if entry.status != COMPLETED:
        raise conflict(f"the backup is {entry.status}, not completed", backup_id=entry.id)
    catalog.path_of(entry)
    return entry


@bp.post("/backups/<backup_id:backup_id>/restore")
@require("backup.admin")
@optional_body
@document_request(PassphraseBody)
@validate_querystring(RestoreQuery)
@document_response(Envelope[Started])
async def restore_backup(backup_id: str, query_args: RestoreQuery):
    """Replace the whole database with the archive's content, in one transaction. Writes answer
    503 with Retry-After on every API process while it runs; the data planes reconcile after."""
    if query_args.target_dir is not None:
        raise invalid("target_dir", "a restore writes into the database; nothing is extracted to a directory")
    entry = await _completed(backup_id)
    body = await _body(PassphraseBody)
    _check_passphrase(entry, body.passphrase)
    lease = await maintenance.active_lease()
    if lease is not None:
        raise conflict("another restore is running", job_id=lease.job_id)
    # no live pause: a restore still marked running lost its process (killed) before it finished
    await BackupJob.filter(kind="restore", status=RUNNING).update(
        status=FAILED, error="interrupted: its process stopped before the restore finished (nothing was changed)",
        finished_at=utcnow())
    job = await _queue("restore", entry, body.passphrase)
    return ok({"message": "备份恢复已开始", "backup_id": entry.id, "backup_name": entry.name, "job_id": job.id},
              "restore started")


@bp.get("/backups/<backup_id:backup_id>/download")
@require("backup.admin")
@file_response("application/gzip", "application/octet-stream")
async def download_backup(backup_id: str):
    """The archive file: application/gzip (an encrypted one: application/octet-stream)."""
    entry = await _completed(backup_id)
    path = catalog.path_of(entry)
    mimetype = "application/octet-stream" if entry.encrypted else "application/gzip"
    response = await send_file(path, mimetype=mimetype, as_attachment=True, attachment_filename=entry.file_name)
    if entry.checksum:
        response.headers["X-Checksum-SHA256"] = entry.checksum
    return response


@bp.post("/backups/upload")
@require("backup.admin")
@validate_querystring(UploadQuery)
@document_response(Envelope[BackupOut], 201)
async def upload_backup(query_args: UploadQuery):
    """An archive made elsewhere, as the raw request body (plain tar.gz or encrypted); verify
    or restore it afterwards like any other backup."""
    name = _name(query_args.name)
    directory = backup_dir()
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=directory)
    sha, size, head = hashlib.sha256(), 0, b""
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.body:
                if len(head) < len(crypto.MAGIC):
                    head += chunk[: len(crypto.MAGIC)]
                sha.update(chunk)
                size += len(chunk)
                out.write(chunk)
        encrypted = head.startswith(crypto.MAGIC)
        if not encrypted and not head.startswith(b"\x1f\x8b"):
            raise invalid("body", "not a backup archive (neither gzip nor an encrypted archive)")
        entry = await jobs.new_archive(name, query_args.backup_type, origin="uploaded",
                                       user_id=current_principal().id, encrypted=encrypted)
        os.replace(tmp, directory / entry.file_name)
        entry.status, entry.size_bytes, entry.checksum = COMPLETED, size, sha.hexdigest()
        entry.completed_at = entry.created_at
        await entry.save()
    finally:
        if os.path.exists(tmp):  # noqa: ASYNC240 - a local temporary file
            os.unlink(tmp)
    return ok(catalog.out(entry), "backup uploaded", status=201)


# ---- jobs and stats --------------------------------------------------------------------------------


@bp.get("/jobs/<job_id:job_id>")
@require("backup.read")
@document_response(Envelope[JobOut])
async def get_job(job_id: str):
    """A create, verify or restore job: running -> completed/failed (with the error)."""
    job = await BackupJob.filter(id=job_id).first() if len(job_id) == 32 and job_id.isalnum() else None
    if job is None:
        raise not_found("backup job")
    return ok(job_out(job))


@bp.get("/jobs")
@require("backup.read")
@document_response(Envelope[list[JobOut]])
async def list_jobs():
    return ok([job_out(j) for j in await BackupJob.all().order_by("-created_at").limit(100)])


@bp.get("/stats")
@require("backup.read")
@document_response(Envelope[Stats])
async def stats():
    rows = await Archive.all()
    total = sum(e.size_bytes for e in rows if e.status == COMPLETED)
    running = await BackupJob.filter(status=RUNNING).order_by("created_at")
    return ok({
        "total_backups": len(rows),
        "successful_backups": sum(1 for e in rows if e.status == COMPLETED),
        "failed_backups": sum(1 for e in rows if e.status == FAILED),
        "total_size_bytes": total,
        "total_size_mb": round(total / (1024 * 1024), 2),
        "schedules": {s.name: {"type": s.type, "backup_type": s.backup_type, "enabled": s.enabled,
                               "last_run": iso(s.last_run), "cron": s.cron, "retention": s.retention}
                      for s in await Schedule.all().order_by("id")},
        "running_backups": [job_out(j) for j in running],
    })


# ---- schedules -----------------------------------------------------------------------------------


async def _schedule(schedule_id: int) -> Schedule:
    schedule = await Schedule.filter(id=schedule_id).first()
    if schedule is None:
        raise not_found("schedule")
    return schedule


def _expression(kind: str, cron: str | None, at: str | None, weekday: int | None) -> str:
    try:
        return schedules.expression(kind, cron, at, weekday)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise invalid(field, message) from None


@bp.get("/schedules")
@require("backup.read")
@document_response(Envelope[list[ScheduleOut]])
async def list_schedules():
    return ok([schedules.out(s) for s in await Schedule.all().order_by("id")])


@bp.post("/schedules")
@require("backup.write")
@validate_request(ScheduleCreate)
@document_response(Envelope[ScheduleOut], 201)
async def create_schedule(data: ScheduleCreate):
    cron = _expression(data.type, data.cron, data.at, data.weekday)
    try:
        schedule = await Schedule.create(name=data.name, type=data.type, cron=cron, backup_type=data.backup_type,
                                         retention=data.retention, enabled=data.enabled)
    except IntegrityError:
        raise conflict("a schedule with this name exists", name=data.name) from None
    return ok(schedules.out(schedule), "schedule created", status=201)


@bp.get("/schedules/<int:schedule_id>")
@require("backup.read")
@document_response(Envelope[ScheduleOut])
async def get_schedule(schedule_id: int):
    return ok(schedules.out(await _schedule(schedule_id)))


@bp.put("/schedules/<int:schedule_id>")
@require("backup.write")
@validate_request(ScheduleUpdate)
@document_response(Envelope[ScheduleOut])
async def update_schedule(schedule_id: int, data: ScheduleUpdate):
    schedule = await _schedule(schedule_id)
    changes = data.model_dump(exclude_unset=True)
    if {"type", "cron", "at", "weekday"} & set(changes):
        kind = changes.get("type") or schedule.type
        schedule.cron = _expression(kind, changes.get("cron"), changes.get("at"), changes.get("weekday"))
        schedule.type = kind
    for key in ("backup_type", "retention", "enabled"):
        if key in changes and (changes[key] is not None or key == "retention"):
            setattr(schedule, key, changes[key])
    await schedule.save()
    return ok(schedules.out(schedule), "schedule updated")


@bp.delete("/schedules/<int:schedule_id>")
@require("backup.write")
@document_response(MessageEnvelope)
async def delete_schedule(schedule_id: int):
    """The schedule goes; the backups it made stay (delete them one by one)."""
    await (await _schedule(schedule_id)).delete()
    return ok(None, "schedule deleted")


def upload_limit() -> Any:
    from ipv6wgm.maintenance import BodyLimit

    return BodyLimit(UPLOAD_PATH, get_settings().max_upload_bytes)


__all__ = ["bp", "upload_limit", "JobFailed"]
