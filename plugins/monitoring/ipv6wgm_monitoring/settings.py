"""Settings of the monitoring plugin, from ``IPV6WGM_MONITORING_*`` (and ``IPV6WGM_METRICS_TOKEN``).

Read lazily (first use, then cached) so importing the plugin has no side effects. Every interval
that feeds a cron is a ``CronInterval``: arq keeps only divisors of a minute, an hour or a day.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ipv6wgm.cron import CronInterval


class MonitoringSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPV6WGM_MONITORING_", extra="ignore")

    #: Each node samples its host and every plugin's metrics this often (a raw point per series).
    sample_interval: CronInterval = Field(10, ge=1, le=3600)
    #: Alert rules are evaluated this often, once per cluster.
    evaluate_interval: CronInterval = Field(10, ge=1, le=3600)
    #: Rollups and retention run this often, once per cluster.
    rollup_interval: CronInterval = Field(60, ge=1, le=3600)
    raw_retention_hours: int = Field(48, ge=1, le=24 * 31)
    minute_retention_days: int = Field(14, ge=1, le=366)
    hour_retention_days: int = Field(365, ge=1, le=3660)
    #: Resolved alerts older than this are deleted.
    alert_retention_days: int = Field(90, ge=1, le=3660)
    #: Filesystem whose usage is ``system.disk.*`` (default: the data directory, where the database lives).
    disk_path: Path | None = None
    #: Series one node may create; beyond, new series are dropped with a warning (a plugin
    #: emitting an unbounded tag would otherwise fill the database).
    max_series_per_node: int = Field(5000, ge=10, le=1_000_000)
    #: A node whose latest snapshot is older than this many sample intervals counts as silent:
    #: its series have no current value (alerts on them resolve, /metrics leaves them out).
    stale_after_intervals: int = Field(3, ge=2, le=100)
    #: Bearer token for ``GET /metrics``; unset: the endpoint is off (answers 401 to everyone).
    metrics_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("IPV6WGM_METRICS_TOKEN", "IPV6WGM_MONITORING_METRICS_TOKEN"))
    #: Export one WireGuard series per peer (``wireguard_*{public_key=...}``) on ``/metrics``.
    prometheus_per_peer: bool = False
    webhook_timeout: float = Field(5.0, gt=0, le=60)
    #: Delivery attempts of one notification (the first included); waits double from 1 s.
    webhook_attempts: int = Field(4, ge=1, le=10)


@lru_cache(maxsize=1)
def get_settings() -> MonitoringSettings:
    return MonitoringSettings()


def stale_after() -> int:
    """Seconds after which a snapshot no longer counts as current."""
    s = get_settings()
    return max(30, s.stale_after_intervals * s.sample_interval)
