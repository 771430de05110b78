"""Plugin settings (``IPV6WGM_WIREGUARD_*``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ipv6wgm.cron import CronInterval
from ipv6wgm_wireguard import validation


class WireGuardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPV6WGM_WIREGUARD_", extra="ignore")

    backend: Literal["auto", "kernel", "userspace"] = "auto"
    wireguard_go: str = "wireguard-go"
    netns: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                              description="keep the tunnels in this named network namespace (ip netns)")
    endpoint: str | None = Field(None, description="default public host[:port] that client configs point at")
    reconcile_interval: CronInterval = Field(15, ge=1, le=3600)
    stats_interval: CronInterval = Field(10, ge=1, le=3600)
    active_handshake_s: int = Field(180, ge=10, le=86400)
    persistent_keepalive: int = Field(25, ge=0, le=65535)
    apply_timeout: float = Field(30.0, gt=0, le=600)
    traffic_hourly_days: int = Field(35, ge=8, le=3660, description="keep hourly traffic history this long")
    traffic_daily_days: int = Field(800, ge=366, le=36600, description="keep daily traffic history this long")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        """Written into every client config: the same rule as a server's ``endpoint``."""
        return None if value is None else validation.endpoint(value)


@lru_cache(maxsize=1)
def wg_settings() -> WireGuardSettings:
    return WireGuardSettings()
