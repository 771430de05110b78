"""The per-process runtime: settings, plugins, registry and the shared services.

Tortoise is process-global anyway, so one Runtime per process is made explicit here rather
than hidden in module globals scattered across the code base. A plugin's own process state
(backends, locks, caches) lives here too: built in its ``startup`` hook, put with
``set_state``, read with ``state`` and closed in its ``shutdown`` hook (``close_state``). Module globals would
outlive the runtime (a second runtime in one process, e.g. a test, would inherit them) and
would never be closed.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

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

T = TypeVar("T")


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
    plugin_states: dict[str, Any] = field(default_factory=dict)

    @property
    def services(self) -> dict[str, Any]:
        """Services plugins offer each other (``register_services``), keyed ``<plugin>.<name>``."""
        return self.registry.services

    def set_state(self, plugin: str, state: object) -> None:
        """Keep ``plugin``'s process state (its ``startup`` hook calls this once)."""
        if plugin in self.plugin_states:
            raise RuntimeError(f"plugin {plugin!r} already has its state in this runtime")
        self.plugin_states[plugin] = state

    def state(self, plugin: str, kind: type[T]) -> T:
        """``plugin``'s process state, typed; raises when its ``startup`` hook has not run here
        (code that needs it runs in a started runtime: server, worker, ``bootstrap.session``)."""
        value = self.plugin_states.get(plugin)
        if not isinstance(value, kind):
            raise RuntimeError(f"plugin {plugin!r} has no state in this runtime: its startup hook has not run "
                               "(start the runtime, or use ipv6wgm.bootstrap.session() in a script)")
        return value

    async def close_state(self, plugin: str) -> None:
        """Take ``plugin``'s state out of the runtime and close it (``await state.close()``, if
        it has one); the plugin's ``shutdown`` hook calls this. A no-op without state."""
        value = self.plugin_states.pop(plugin, None)
        close = getattr(value, "close", None)
        if close is not None:
            result = close()
            if inspect.isawaitable(result):
                await result


_current: Runtime | None = None


def set_current(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no ipv6wgm runtime in this process (create_app or the worker makes one)")
    return _current
