"""What plugins contribute, collected once at start-up into plain typed records.

Everything is namespaced by the contributing plugin's name; a duplicate is a start-up error,
never a silent overwrite.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from quart import Blueprint

JobFunc = Callable[..., Awaitable[Any]]
HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
SnapshotFunc = Callable[[Any], Awaitable[Any]]


class RegistryError(RuntimeError):
    """A plugin contributed something whose name is already taken or malformed."""


@dataclass(frozen=True)
class ModelApp:
    label: str
    modules: tuple[str, ...]
    migrations: str | None


@dataclass(frozen=True)
class BlueprintSpec:
    plugin: str
    blueprint: Blueprint
    url_prefix: str


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: JobFunc
    timeout: float = 300.0
    max_tries: int = 3


@dataclass(frozen=True)
class CronSpec:
    """A periodic job; ``scope`` is ``node`` (every node runs it) or ``cluster`` (one run per
    tick across the cluster), see ``ipv6wgm.cron``."""

    name: str
    func: JobFunc
    every: int
    scope: str
    run_at_startup: bool = False

    @property
    def timeout(self) -> float:
        return float(max(self.every * 5, 60))


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    message_type: str
    permission: str
    stream_path: str | None = None
    snapshot: SnapshotFunc | None = None
    plugin: str = "core"


@dataclass(frozen=True)
class PermissionSpec:
    name: str
    description: str
    roles: tuple[str, ...]
    plugin: str


@dataclass(frozen=True)
class CommandSpec:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], Any]


@dataclass(frozen=True)
class HealthSpec:
    name: str
    check: HealthCheck


@dataclass(frozen=True)
class BackupSpec:
    name: str
    dump: Callable[..., Awaitable[Any]]
    restore: Callable[..., Awaitable[Any]]


UiView = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class UiPage:
    """A web UI page: ``view(ctx, **url_args)`` at ``path`` (a werkzeug rule)."""

    plugin: str
    name: str
    path: str
    view: UiView
    methods: tuple[str, ...] = ("GET",)
    permission: str | None = None
    requires: str | None = None


@dataclass(frozen=True)
class UiNav:
    plugin: str
    label: str
    path: str
    permission: str | None = None
    requires: str | None = None
    order: int = 100


@dataclass(frozen=True)
class UiCard:
    """A dashboard card: ``render(ctx)`` returns its HTML (already escaped by its template)."""

    plugin: str
    name: str
    render: UiView
    permission: str | None = None
    requires: str | None = None
    order: int = 100


@dataclass
class Registry:
    """The union of the core's and every loaded plugin's contributions."""

    models: dict[str, ModelApp] = field(default_factory=dict)
    blueprints: list[BlueprintSpec] = field(default_factory=list)
    jobs: dict[str, JobSpec] = field(default_factory=dict)
    crons: dict[str, CronSpec] = field(default_factory=dict)
    channels: dict[str, ChannelSpec] = field(default_factory=dict)
    permissions: dict[str, PermissionSpec] = field(default_factory=dict)
    commands: dict[str, CommandSpec] = field(default_factory=dict)
    health: dict[str, HealthSpec] = field(default_factory=dict)
    backups: dict[str, BackupSpec] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)
    ui_pages: dict[str, UiPage] = field(default_factory=dict)  # keyed by path
    ui_nav: list[UiNav] = field(default_factory=list)
    ui_cards: dict[str, UiCard] = field(default_factory=dict)  # keyed by <plugin>.<name>
    ui_templates: dict[str, tuple[str, str]] = field(default_factory=dict)  # plugin -> (package, folder)

    def add(self, kind: str, key: str, value: Any) -> None:
        table: dict[str, Any] = getattr(self, kind)
        if key in table:
            raise RegistryError(f"duplicate {kind[:-1] if kind.endswith('s') else kind} name {key!r}")
        table[key] = value


class ModelRegistrar(Protocol):
    def __call__(self, *modules: str, migrations: str | None = None) -> None: ...


class BlueprintRegistrar(Protocol):
    def __call__(self, blueprint: Blueprint, url_prefix: str | None = None) -> None: ...


class JobRegistrar(Protocol):
    def __call__(self, name: str, func: JobFunc, *, timeout: float = 300.0, max_tries: int = 3) -> None: ...


class CronRegistrar(Protocol):
    def __call__(
        self, name: str, func: JobFunc, *, every: int, scope: Literal["node", "cluster"], run_at_startup: bool = False
    ) -> None: ...


class ChannelRegistrar(Protocol):
    def __call__(
        self,
        name: str,
        *,
        message_type: str,
        permission: str,
        stream_path: str | None = None,
        snapshot: SnapshotFunc | None = None,
    ) -> None: ...


class PermissionRegistrar(Protocol):
    def __call__(self, name: str, description: str, roles: tuple[str, ...] = ()) -> None: ...


class CommandRegistrar(Protocol):
    def __call__(
        self,
        name: str,
        help: str,
        configure: Callable[[argparse.ArgumentParser], None],
        handler: Callable[[argparse.Namespace], Any],
    ) -> None: ...


class MetricEmitter(Protocol):
    def __call__(
        self, name: str, value: float, *, tags: dict[str, str] | None = None, unit: str | None = None
    ) -> None: ...


class HealthRegistrar(Protocol):
    def __call__(self, name: str, check: HealthCheck) -> None: ...


class ServiceRegistrar(Protocol):
    def __call__(self, name: str, service: Any) -> None: ...


class BackupRegistrar(Protocol):
    def __call__(
        self, name: str, dump: Callable[..., Awaitable[Any]], restore: Callable[..., Awaitable[Any]]
    ) -> None: ...


class UiRegistrar(Protocol):
    """What ``register_ui`` receives: one method per kind of contribution."""

    def page(self, path: str, view: UiView, *, name: str, methods: tuple[str, ...] = ("GET",),
             permission: str | None = None, requires: str | None = None) -> None: ...

    def nav(self, label: str, path: str, *, permission: str | None = None, requires: str | None = None,
            order: int = 100) -> None: ...

    def card(self, name: str, render: UiView, *, permission: str | None = None, requires: str | None = None,
             order: int = 100) -> None: ...

    def templates(self, package: str, folder: str = "templates") -> None: ...
