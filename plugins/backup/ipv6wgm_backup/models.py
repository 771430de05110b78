"""Tables of the backup plugin.

``Archive`` is the catalogue of archive files in this installation's backup directory, ``BackupJob``
the status of each create/verify/restore job, ``Maintenance`` the flag a restore holds (with an
expiry) so every API process pauses writes, and ``Schedule`` the periodic backups.

The first three describe this host's files and running jobs, so a restore neither carries nor
replaces them (``dump.LOCAL_TABLES``); schedules are configuration and travel with the archive.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

TYPES = ("full", "database", "files", "config")
RUNNING, COMPLETED, FAILED = "running", "completed", "failed"


class Archive(Model):
    id = fields.CharField(max_length=64, primary_key=True)
    name = fields.CharField(max_length=128)
    type = fields.CharField(max_length=16)
    status = fields.CharField(max_length=16, default=RUNNING)
    origin = fields.CharField(max_length=16, default="created")  # created / uploaded / scheduled
    file_name = fields.CharField(max_length=128)
    size_bytes = fields.BigIntField(default=0)
    checksum = fields.CharField(max_length=64, null=True)  # sha256 of the archive file
    encrypted = fields.BooleanField(default=False)
    error = fields.TextField(null=True)
    metadata = fields.JSONField(default=dict)
    schedule_id = fields.IntField(null=True, db_index=True)
    created_by = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    completed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "backup_archives"


class BackupJob(Model):
    id = fields.CharField(max_length=32, primary_key=True)
    kind = fields.CharField(max_length=16)  # create / verify / restore
    archive_id = fields.CharField(max_length=64, db_index=True)
    status = fields.CharField(max_length=16, default=RUNNING)
    step = fields.CharField(max_length=64, default="queued")
    progress = fields.IntField(default=0)  # percent
    error = fields.TextField(null=True)
    result = fields.JSONField(default=dict)
    created_by = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "backup_jobs"


class Maintenance(Model):
    """One row per active pause, ignored once it expired."""

    id = fields.CharField(max_length=32, primary_key=True)
    job_id = fields.CharField(max_length=32)
    reason = fields.CharField(max_length=255)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "backup_maintenance"


class Schedule(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    type = fields.CharField(max_length=8)  # daily / weekly / cron
    cron = fields.CharField(max_length=128)  # the effective 5-field expression (UTC)
    backup_type = fields.CharField(max_length=16, default="full")
    retention = fields.IntField(null=True)  # backups of this schedule kept; null: backup_retention days
    enabled = fields.BooleanField(default=True)
    last_run = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "backup_schedules"
