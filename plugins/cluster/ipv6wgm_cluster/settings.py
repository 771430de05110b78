"""Settings of the cluster plugin, from ``IPV6WGM_CLUSTER_*`` environment variables.

Every period is configurable (tests make them short). The lease TTL bounds how long a dead
leader keeps its role; the heartbeat TTL how long a silent node counts as alive. Clocks of the
nodes must agree to well within these periods (NTP), as the lease expiry is wall-clock time.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ClusterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPV6WGM_CLUSTER_", extra="ignore")

    #: How often every server and worker process writes its node's heartbeat (and renews or
    #: tries to take the leader lease).
    heartbeat_interval: float = Field(5.0, gt=0, le=300)
    #: A node whose last heartbeat is older than this is offline.
    heartbeat_ttl: float = Field(15.0, gt=0, le=3600)
    #: The leader lease: a leader that stops renewing loses the role after this long.
    lease_ttl: float = Field(15.0, gt=0, le=3600)
    #: Bound of an active health check (connect + answer).
    health_timeout: float = Field(3.0, gt=0, le=60)
    #: A failed active health check marks a node unhealthy for this long (or until a good one).
    health_hold: float = Field(60.0, gt=0, le=86400)
    #: Optional automatic failover: the leader drains a node that stayed offline this long.
    auto_failover: bool = False
    failover_grace: float = Field(120.0, gt=0, le=86400)

    @model_validator(mode="after")
    def _periods(self) -> ClusterSettings:
        if self.heartbeat_ttl <= self.heartbeat_interval or self.lease_ttl <= self.heartbeat_interval:
            raise ValueError("IPV6WGM_CLUSTER_HEARTBEAT_TTL and IPV6WGM_CLUSTER_LEASE_TTL must be longer than "
                             "IPV6WGM_CLUSTER_HEARTBEAT_INTERVAL")
        return self


@lru_cache(maxsize=1)
def cluster_settings() -> ClusterSettings:
    return ClusterSettings()
