"""Request and response models of the backup routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ipv6wgm.api import StrictBody

BackupType = Literal["full", "database", "files", "config"]
Passphrase = Field(None, min_length=8, max_length=1024)


class BackupCreate(StrictBody):
    name: str = Field(min_length=1, max_length=128)
    backup_type: BackupType = "full"
    metadata: dict[str, Any] = Field(default_factory=dict)
    passphrase: str | None = Passphrase


class PassphraseBody(StrictBody):
    passphrase: str | None = Passphrase


class RestoreQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target_dir: str | None = None


class UploadQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("Uploaded backup", min_length=1, max_length=128)
    backup_type: BackupType = "full"


class ScheduleCreate(StrictBody):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["daily", "weekly", "cron"]
    cron: str | None = Field(None, max_length=128)
    at: str | None = Field(None, max_length=5, description="HH:MM UTC (daily, weekly)")
    weekday: int | None = Field(None, ge=0, le=6, description="0 = Sunday (weekly)")
    backup_type: BackupType = "full"
    retention: int | None = Field(None, ge=1, le=10000, description="backups kept; none: backup_retention days")
    enabled: bool = True


class ScheduleUpdate(StrictBody):
    type: Literal["daily", "weekly", "cron"] | None = None
    cron: str | None = Field(None, max_length=128)
    at: str | None = Field(None, max_length=5)
    weekday: int | None = Field(None, ge=0, le=6)
    backup_type: BackupType | None = None
    retention: int | None = Field(None, ge=1, le=10000)
    enabled: bool | None = None


class BackupOut(BaseModel):
    id: str
    name: str
    type: str
    status: str
    created_at: str | None
    completed_at: str | None
    size_bytes: int
    file_path: str
    checksum: str | None = Field(description="sha256 of the archive file (the spec names it md5)")
    checksum_algorithm: str
    encrypted: bool
    origin: str
    schedule_id: int | None
    error: str | None
    metadata: dict[str, Any]


class JobOut(BaseModel):
    id: str
    kind: str
    backup_id: str
    status: str
    step: str
    progress: int
    error: str | None
    result: dict[str, Any]
    created_at: str | None
    finished_at: str | None


class ScheduleOut(BaseModel):
    id: int
    name: str
    type: str
    cron: str
    backup_type: str
    retention: int | None
    enabled: bool
    last_run: str | None
    next_run: str | None
    created_at: str | None


class Started(BaseModel):
    message: str
    job_id: str
    backup_id: str
    backup_name: str | None = None
    name: str | None = None
    type: str | None = None


class Stats(BaseModel):
    total_backups: int
    successful_backups: int
    failed_backups: int
    total_size_bytes: int
    total_size_mb: float
    schedules: dict[str, Any]
    running_backups: list[Any]
