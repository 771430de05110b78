"""Settings of the backup plugin (``IPV6WGM_BACKUP_*``), read lazily like every plugin's."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ipv6wgm.cron import CronInterval


class BackupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPV6WGM_BACKUP_", extra="ignore")

    #: Where archives live (0700); default ``<data dir>/backups``.
    dir: Path | None = None
    #: How often the cluster cron looks for due schedules.
    schedule_interval: CronInterval = Field(60, ge=1, le=3600)
    #: Caps on what a restore reads from an archive.
    max_members: int = Field(1000, ge=4, le=100_000)
    max_member_bytes: int = Field(2 * 1024**3, ge=1024, le=64 * 1024**3)
    max_total_bytes: int = Field(8 * 1024**3, ge=1024, le=256 * 1024**3)
    max_upload_bytes: int = Field(2 * 1024**3, ge=1024, le=256 * 1024**3)
    #: Lifetime of the maintenance flag a restore holds (refreshed while it runs): a restore
    #: whose process was killed stops blocking writes after this long.
    lock_ttl: int = Field(60, ge=3, le=3600)
    #: Test environments only: a pause (s) after each table inside the restore transaction, so a
    #: test can observe the 503s and kill the worker mid-way.
    test_table_delay: float = Field(0.0, ge=0, le=60)


@lru_cache(maxsize=1)
def get_settings() -> BackupSettings:
    return BackupSettings()


def backup_dir() -> Path:
    """The archive directory, created 0700 (and tightened when it exists looser)."""
    from ipv6wgm.runtime import current

    path = get_settings().dir or current().settings.data_dir / "backups"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path
