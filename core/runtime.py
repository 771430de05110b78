"""The per-process runtime: settings, plugins, registry and the shared services.

Tortoise is process-global anyway, so one Runtime per process is made explicit here rather
than hidden in module globals scattered across the code base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ipv6wgm.cache import RedisHandle
    from ipv6wgm.jobs import JobRunner
    from ipv6wgm.plugins import PluginManager
    from ipv6wgm.registry import Registry
    from ipv6wgm.security.ratelimit import RateLimiter
    from ipv6wgm.security.secrets_at_rest import SecretBox
    from ipv6wgm.security.tokens import TokenService
    from ipv6wgm.settings import Settings
    from ipv6wgm.system.config import RuntimeConfig
    from ipv6wgm.ws import Hub


@dataclass
class Runtime:
    settings: Settings
    plugins: PluginManager
    registry: Registry
    secrets: SecretBox
    tokens: TokenService
    config: RuntimeConfig
    limiter: RateLimiter
    hub: Hub
    jobs: JobRunner
    redis: RedisHandle | None = None
    db_reader: Any = None  # SQLite only: see ipv6wgm.db.open_sqlite_reader
    role_permissions: dict[str, frozenset[str]] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    role: str = "server"

    @property
    def services(self) -> dict[str, Any]:
        """Services plugins offer each other (``register_services``), keyed ``<plugin>.<name>``."""
        return self.registry.services


_current: Runtime | None = None


def set_current(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no ipv6wgm runtime in this process (create_app or the worker makes one)")
    return _current
