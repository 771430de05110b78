"""Plugin settings (``IPV6WGM_BGP_*``), read from the environment like the core's."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ipv6wgm.cron import CronInterval
from ipv6wgm_bgp import validation


class BgpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPV6WGM_BGP_", extra="ignore")

    router_id: str | None = Field(None, description="BGP router id (IPv4); default derived from the node id")
    local_as: int = Field(65000, ge=1, le=4294967295, description="local AS when a session does not name one")
    bird_binary: str = "bird"
    socket: str | None = Field(None, description="attach to a system BIRD on this control socket instead of "
                                                 "supervising our own")
    netns: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                              description="run the supervised BIRD in this named network namespace "
                                          "(default: the core's IPV6WGM_NETNS)")
    config_dir: Path | None = Field(None, description="default <data dir>/bgp")
    extra_includes: list[str] = Field(default_factory=list, description="operator files included verbatim")
    collect_interval: CronInterval = Field(5, ge=1, le=3600)
    reconcile_interval: CronInterval = Field(30, ge=5, le=86400)
    apply_timeout: float = Field(60.0, gt=0, le=600)

    @field_validator("router_id")
    @classmethod
    def _router_id(cls, value: str | None) -> str | None:
        """Rendered into bird.conf: refused at start-up rather than at the first apply."""
        return None if value is None else validation.router_id(value)

    @field_validator("extra_includes")
    @classmethod
    def _includes(cls, value: list[str]) -> list[str]:
        return [validation.include_path(path) for path in value]


@lru_cache(maxsize=1)
def bgp_settings() -> BgpSettings:
    return BgpSettings()


def router_id(settings: BgpSettings, node_id: str) -> str:
    """A configured id wins; otherwise a stable one from the node id, so two nodes rarely
    collide (a peer refuses an OPEN carrying its own id). Production should set it."""
    if settings.router_id:
        return settings.router_id  # validated above and again by render_main
    digest = hashlib.sha256(node_id.encode()).digest()
    return f"10.{digest[0]}.{digest[1]}.{max(1, digest[2])}"
