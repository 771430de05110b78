"""Request and response models of /system, /status and /plugins."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ipv6wgm.api import StrictBody


class ConfigUpdate(StrictBody):
    """Only these keys are editable; everything else in GET /system/config is read-only."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] | None = None
    max_log_size: int | None = Field(None, ge=1, le=100_000, description="thousands of log entries kept")
    backup_retention: int | None = Field(None, ge=1, le=3650, description="days")
    session_timeout: int | None = Field(None, ge=300, le=30 * 86400, description="access token lifetime, s")
    api_rate_limit: int | None = Field(None, ge=60, le=1_000_000, description="requests per minute per client")
    monitoring_enabled: bool | None = None


class ConfigOut(BaseModel):
    app_name: str
    app_version: str
    debug_mode: bool
    log_level: str
    max_log_size: int
    backup_retention: int
    session_timeout: int
    api_rate_limit: int
    database_pool_size: int
    cache_enabled: bool
    monitoring_enabled: bool
    updated_at: str | None = None


class SystemInfo(BaseModel):
    system: dict[str, Any]
    application: dict[str, Any]
    database: dict[str, Any]


class Health(BaseModel):
    status: str
    service: str
    version: str
    timestamp: str


class DetailedHealth(Health):
    components: dict[str, dict[str, Any]]


class SystemStatus(BaseModel):
    system: dict[str, Any]
    resources: dict[str, Any]
    timestamp: str


class PluginOut(BaseModel):
    name: str
    version: str
    status: str
    error: str | None
    description: str
    requires: list[str]
