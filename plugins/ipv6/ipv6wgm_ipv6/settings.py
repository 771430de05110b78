"""Settings of the ipv6 plugin, from ``IPV6WGM_IPV6_*`` environment variables.

Read lazily (first use, then cached) so importing the plugin has no side effects.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ipv6wgm.cron import CronInterval


class IPv6Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPV6WGM_IPV6_", extra="ignore")

    #: A released prefix waits this long before it can be handed out again, so traffic still
    #: routed to the old holder (caches, stale configs) never reaches a new client.
    quarantine_seconds: int = Field(300, ge=0, le=365 * 86400)
    #: How often the sweeper releases expired allocations and frees finished quarantines.
    sweep_seconds: CronInterval = Field(30, ge=1, le=3600)
    #: Reservation ranges per pool; the allocator consults all of them on every allocation.
    max_reservations: int = Field(64, ge=1, le=1024)


@lru_cache(maxsize=1)
def get_settings() -> IPv6Settings:
    return IPv6Settings()
