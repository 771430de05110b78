"""Request and response models of /logs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ipv6wgm.api import IsoDatetime, PageQuery, Pagination

Level = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class LogFilter(BaseModel):
    level: Level | None = None
    start_time: IsoDatetime | None = None
    end_time: IsoDatetime | None = None
    search: str | None = Field(None, max_length=128)
    module: str | None = Field(None, max_length=64)
    user_id: int | None = Field(None, ge=1, le=2**31 - 1)


class LogQuery(PageQuery, LogFilter):
    model_config = ConfigDict(extra="forbid")


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["json", "csv", "txt"] = "json"
    level: Level | None = None
    start_time: IsoDatetime | None = None
    end_time: IsoDatetime | None = None
    search: str | None = Field(None, max_length=128)


class LogOut(BaseModel):
    id: int
    level: str
    message: str
    module: str
    action: str | None
    user_id: int | None
    ip_address: str | None
    method: str | None
    path: str | None
    status_code: int | None
    timestamp: str | None
    details: dict[str, Any]
    stack_trace: str | None = None
    node_id: str | None = None


class LogList(BaseModel):
    logs: list[LogOut]
    pagination: Pagination


class ExportOut(BaseModel):
    download_url: str
    file_size: int
    expires_at: str
    format: str
    entries: int
