"""Live-editable configuration: defaults from settings, overrides in the database.

A change is persisted, applied to this process at once, and announced over the hub's control
channel so every other process reloads it too.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

EDITABLE = (
    "log_level",
    "max_log_size",
    "backup_retention",
    "session_timeout",
    "api_rate_limit",
    "monitoring_enabled",
)


@dataclass
class RuntimeConfig:
    log_level: str = "INFO"
    max_log_size: int = 100
    backup_retention: int = 30
    session_timeout: int = 3600
    api_rate_limit: int = 1000
    monitoring_enabled: bool = True

    @classmethod
    def from_settings(cls, settings: Any) -> RuntimeConfig:
        return cls(
            log_level=settings.log_level,
            session_timeout=settings.session_timeout,
            api_rate_limit=settings.api_rate_limit,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def apply(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key in EDITABLE:
                setattr(self, key, value)
        logging.getLogger().setLevel(self.log_level)
        logging.getLogger("ipv6wgm").setLevel(self.log_level)

    async def load(self) -> None:
        from ipv6wgm.system.models import ConfigEntry

        rows = await ConfigEntry.filter(key__in=list(EDITABLE))
        self.apply({row.key: row.value["v"] for row in rows if isinstance(row.value, dict) and "v" in row.value})

    async def save(self, values: dict[str, Any], user_id: int | None) -> None:
        from tortoise.transactions import in_transaction

        from ipv6wgm.system.models import ConfigEntry

        async with in_transaction():
            for key, value in values.items():
                # Wrapped: Tortoise stores a bare str in a JSONField as if it were JSON text already.
                await ConfigEntry.update_or_create(key=key, defaults={"value": {"v": value}, "updated_by": user_id})
        self.apply(values)
