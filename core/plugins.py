"""The one plugin manager: discovery through entry points, ordering, isolation, collection.

pluggy gives discovery-free hook calling and nothing else we need, so this module adds what
tox and datasette taught: a typed facade, ``requires`` ordering (pluggy only knows LIFO),
``check_pending()`` after loading, and per-plugin isolation so one broken plugin is listed as
failed instead of taking the server down (unless ``IPV6WGM_STRICT_PLUGINS=1``).

It is also what a plugin imports: ``PluginInfo`` and the types of every hook's argument
(``JobRegistrar``, ``MetricEmitter``, ``AccountEvent``, ``Runtime`` …), so hook
implementations are typed the way the core calls them::

    from ipv6wgm import hookimpl
    from ipv6wgm.plugins import JobRegistrar, PluginInfo

    @hookimpl
    def register_jobs(register: JobRegistrar) -> None: ...
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from ipv6wgm import PROJECT_NAME, hookspecs
from ipv6wgm.accounts import AccountEvent
from ipv6wgm.cron import check_interval, check_scope
from ipv6wgm.registry import (
    BackupRegistrar,
    BackupSpec,
    BlueprintRegistrar,
    BlueprintSpec,
    ChannelRegistrar,
    ChannelSpec,
    CommandRegistrar,
    CommandSpec,
    CronRegistrar,
    CronSpec,
    HealthRegistrar,
    HealthSpec,
    JobRegistrar,
    JobSpec,
    MetricEmitter,
    ModelApp,
    ModelRegistrar,
    PermissionRegistrar,
    PermissionSpec,
    Registry,
    RegistryError,
    ServiceRegistrar,
    UiCard,
    UiNav,
    UiPage,
    UiRegistrar,
)
from ipv6wgm.runtime import Runtime

__all__ = [
    "AccountEvent",
    "BackupRegistrar",
    "BlueprintRegistrar",
    "ChannelRegistrar",
    "CommandRegistrar",
    "CronRegistrar",
    "HealthRegistrar",
    "JobRegistrar",
    "MetricEmitter",
    "ModelRegistrar",
    "PermissionRegistrar",
    "PluginInfo",
    "PluginLoadError",
    "PluginManager",
    "Runtime",
    "ServiceRegistrar",
    "UiRegistrar",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = PROJECT_NAME
PLUGIN_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
JOB_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
UI_PATH_RE = re.compile(r"/(?!api/|ws/|static/)[a-z0-9_/<>:.,()-]{0,200}")


class PluginLoadError(RuntimeError):
    """Raised in strict mode when any plugin fails; otherwise failures are only recorded."""


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin module declares as ``info``; ``requires`` orders loading."""

    name: str
    version: str
    requires: tuple[str, ...] = ()
    description: str = ""
    hookspecs: ModuleType | None = None


@dataclass
class PluginRecord:
    name: str
    version: str = "?"
    status: str = "loaded"
    error: str | None = None
    description: str = ""
    requires: tuple[str, ...] = ()
    module: ModuleType | None = field(default=None, repr=False)

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "description": self.description,
            "requires": list(self.requires),
        }


class PluginManager:
    """Typed facade over ``pluggy.PluginManager``."""

    def __init__(self, *, strict: bool = False, disabled: Iterable[str] = ()) -> None:
        self.strict = strict
        self.disabled = set(disabled)
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.order: list[str] = []

    # ---- loading -------------------------------------------------------------------------

    def load(self, core_module: ModuleType, extra: Iterable[ModuleType] = ()) -> None:
        """Register the core's own hooks, then every installed plugin in ``requires`` order."""
        self._register(core_module, PluginInfo(name="core", version=_core_version()))
        candidates: dict[str, tuple[ModuleType, PluginInfo]] = {}
        claimed: dict[str, list[str]] = {}  # plugin name -> the modules that claim it
        for module in [*self._discover(), *extra]:
            info = getattr(module, "info", None)
            name = getattr(info, "name", getattr(module, "__name__", "?"))
            try:
                if not isinstance(info, PluginInfo):
                    raise PluginLoadError(f"{module.__name__} has no PluginInfo named 'info'")
                if not PLUGIN_NAME_RE.fullmatch(info.name) or info.name == "core":
                    name = module.__name__  # recorded under its module: never mistaken for the core
                    raise PluginLoadError(f"invalid plugin name {info.name!r}")
                claimed.setdefault(info.name, []).append(module.__name__)
                if len(claimed[info.name]) > 1:
                    # Everything is namespaced by this name: neither module may have it, and
                    # which one is meant cannot be guessed from the installation order.
                    candidates.pop(info.name, None)
                    raise PluginLoadError(f"duplicate plugin name {info.name!r}, claimed by "
                                          f"{', '.join(claimed[info.name])}")
            except PluginLoadError as exc:
                self._fail(name, exc)
                continue
            if info.name in self.disabled:
                self.records[info.name] = PluginRecord(
                    info.name, info.version, "disabled", None, info.description, info.requires
                )
                continue
            candidates[info.name] = (module, info)
        for name in self._ordered(candidates):
            module, info = candidates[name]
            missing = [r for r in info.requires if r not in self.order]
            if missing:
                self._fail(name, PluginLoadError(f"requires missing or failed plugin(s): {missing}"))
                continue
            try:
                self._register(module, info)
            except Exception as exc:  # noqa: BLE001 - isolation is the point
                self._fail(name, exc)
        self._check_pending()

    def _discover(self) -> list[ModuleType]:
        modules: list[ModuleType] = []
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                modules.append(ep.load())
            except Exception as exc:  # noqa: BLE001
                self._fail(ep.name, exc)
        return modules

    @staticmethod
    def _ordered(candidates: dict[str, tuple[ModuleType, PluginInfo]]) -> list[str]:
        """Topological order by ``requires``; unknown requirements are left for the caller."""
        done: list[str] = []
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name in done or name not in candidates or name in visiting:
                return
            visiting.add(name)
            for dep in candidates[name][1].requires:
                visit(dep)
            visiting.discard(name)
            done.append(name)

        for name in sorted(candidates):
            visit(name)
        return done

    def _register(self, module: ModuleType, info: PluginInfo) -> None:
        if info.hookspecs is not None:
            self.pm.add_hookspecs(info.hookspecs)
        self.pm.register(module, name=info.name)
        self.records[info.name] = PluginRecord(
            info.name, info.version, "loaded", None, info.description, info.requires, module
        )
        self.order.append(info.name)

    def _check_pending(self) -> None:
        while True:
            try:
                self.pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                name = self.pm.get_name(exc.plugin) or "?"
                if name == "core":
                    raise
                self._fail(name, exc)

    def _fail(self, name: str, exc: BaseException) -> None:
        if self.strict:
            raise PluginLoadError(f"plugin {name!r} failed: {exc}") from exc
        log.error("plugin %s failed and is skipped: %s", name, exc, exc_info=exc)
        record = self.records.get(name) or PluginRecord(name)
        record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"
        self.records[name] = record
        if name in self.order:
            self.order.remove(name)
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)

    # ---- calling ---------------------------------------------------------------------------

    def implementations(self, hook: str) -> list[tuple[str, Callable[..., Any], list[str]]]:
        """(plugin, function, argnames) in load order, for hooks that must be called per plugin."""
        impls = {impl.plugin_name: impl for impl in getattr(self.pm.hook, hook).get_hookimpls()}
        return [(n, impls[n].function, list(impls[n].argnames)) for n in self.order if n in impls]

    def call_each(self, hook: str, kwargs_for: Callable[[str], dict[str, Any]]) -> list[tuple[str, Any]]:
        """Call ``hook`` once per plugin, isolating failures; returns (plugin, result) pairs."""
        results: list[tuple[str, Any]] = []
        for name, func, argnames in self.implementations(hook):
            kwargs = {k: v for k, v in kwargs_for(name).items() if k in argnames}
            try:
                results.append((name, func(**kwargs)))
            except Exception as exc:  # noqa: BLE001
                if name == "core":
                    raise
                self._fail(name, exc)
        return results

    async def call_each_async(self, hook: str, **kwargs: Any) -> None:
        """Call a lifecycle hook that may be a coroutine function, isolating failures."""
        for name, func, argnames in self.implementations(hook):
            try:
                result = func(**{k: v for k, v in kwargs.items() if k in argnames})
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # noqa: BLE001
                if name == "core":
                    raise
                self._fail(name, exc)

    async def notify(self, hook: str, **kwargs: Any) -> list[tuple[str, BaseException]]:
        """Call a runtime event hook on every plugin; failures are returned, not isolated.

        An event (an account was deactivated) is not a reason to disable the plugin that could
        not handle it; the caller decides what a failure means.
        """
        failures: list[tuple[str, BaseException]] = []
        for name, func, argnames in self.implementations(hook):
            try:
                result = func(**{k: v for k, v in kwargs.items() if k in argnames})
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                failures.append((name, exc))
        return failures

    # ---- collection ------------------------------------------------------------------------

    def collect(self) -> Registry:
        """Collect every plugin's contributions; a plugin that fails contributes nothing."""
        registry = Registry()
        for name in list(self.order):
            staged = Registry()
            try:
                self._collect_one(name, staged)
                for kind in ("models", "jobs", "crons", "channels", "permissions", "commands",
                             "health", "backups", "services", "ui_pages", "ui_cards"):
                    for key in getattr(staged, kind):
                        if key in getattr(registry, kind):
                            raise RegistryError(f"{kind}: {key!r} is already registered")
            except Exception as exc:  # noqa: BLE001
                if name == "core":
                    raise
                self._fail(name, exc)
                continue
            for kind in ("models", "jobs", "crons", "channels", "permissions", "commands",
                         "health", "backups", "services", "ui_pages", "ui_cards", "ui_templates"):
                getattr(registry, kind).update(getattr(staged, kind))
            registry.blueprints.extend(staged.blueprints)
            registry.ui_nav.extend(staged.ui_nav)
        return registry

    def _collect_one(self, plugin: str, reg: Registry) -> None:
        impls = {n: (f, a) for n, f, a in self._impls_for(plugin)}

        def call(hook: str, register: Callable[..., None]) -> None:
            if hook in impls:
                func, argnames = impls[hook]
                func(**{k: v for k, v in {"register": register}.items() if k in argnames})

        def models(*modules: str, migrations: str | None = None) -> None:
            previous = reg.models.get(plugin)
            mods = (previous.modules if previous else ()) + modules
            reg.models[plugin] = ModelApp(plugin, mods, migrations or (previous and previous.migrations))

        def blueprint(bp: Any, url_prefix: str | None = None) -> None:
            reg.blueprints.append(BlueprintSpec(plugin, bp, url_prefix or f"/api/v1/{plugin}"))

        def job(name: str, func: Any, *, timeout: float = 300.0, max_tries: int = 3) -> None:
            _check_name(name)
            reg.add("jobs", f"{plugin}.{name}", JobSpec(f"{plugin}.{name}", func, timeout, max_tries))

        def cron(name: str, func: Any, *, every: int, scope: Any = None, run_at_startup: bool = False) -> None:
            _check_name(name)
            try:
                check_interval(every)
                check_scope(scope)
            except ValueError as exc:
                raise RegistryError(f"cron {plugin}.{name}: {exc}") from None
            reg.add("crons", f"{plugin}.{name}", CronSpec(f"{plugin}.{name}", func, every, scope, run_at_startup))

        def channel(name: str, *, message_type: str, permission: str, stream_path: str | None = None,
                    snapshot: Any = None) -> None:
            reg.add("channels", name, ChannelSpec(name, message_type, permission, stream_path, snapshot, plugin))

        def permission(name: str, description: str, roles: tuple[str, ...] = ()) -> None:
            if plugin != "core" and not name.startswith(f"{plugin}."):
                raise RegistryError(f"permission {name!r} must start with '{plugin}.'")
            reg.add("permissions", name, PermissionSpec(name, description, tuple(roles), plugin))

        def command(name: str, help: str, configure: Any, handler: Any) -> None:
            reg.add("commands", name, CommandSpec(name, help, configure, handler))

        def health(name: str, check: Any) -> None:
            reg.add("health", name, HealthSpec(name, check))

        def backup(name: str, dump: Any, restore: Any) -> None:
            _check_name(name)
            reg.add("backups", f"{plugin}.{name}", BackupSpec(f"{plugin}.{name}", dump, restore))

        def service(name: str, obj: Any) -> None:
            _check_name(name)
            reg.add("services", f"{plugin}.{name}", obj)

        call("register_models", models)
        call("register_blueprints", blueprint)
        call("register_jobs", job)
        call("register_cron", cron)
        call("register_ws_channels", channel)
        call("register_permissions", permission)
        call("register_commands", command)
        call("health_components", health)
        call("backup_contributors", backup)
        call("register_services", service)
        call("register_ui", _UiCollector(plugin, reg))

    def _impls_for(self, plugin: str) -> list[tuple[str, Callable[..., Any], list[str]]]:
        out = []
        for hook_name in dir(self.pm.hook):
            if hook_name.startswith("_"):
                continue
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin_name == plugin:
                    out.append((hook_name, impl.function, list(impl.argnames)))
        return out

    def public(self) -> list[dict[str, Any]]:
        return [r.public() for r in self.records.values()]


class _UiCollector(UiRegistrar):
    """``register_ui``'s registrar, bound to one plugin."""

    def __init__(self, plugin: str, reg: Registry) -> None:
        self._plugin, self._reg = plugin, reg

    def page(self, path: str, view: Any, *, name: str, methods: tuple[str, ...] = ("GET",),
             permission: str | None = None, requires: str | None = None) -> None:
        _check_name(name)
        if not UI_PATH_RE.fullmatch(path):
            raise RegistryError(f"ui page {self._plugin}.{name}: invalid path {path!r}")
        self._reg.add("ui_pages", path, UiPage(self._plugin, f"{self._plugin}.{name}", path, view,
                                               tuple(m.upper() for m in methods), permission, requires))

    def nav(self, label: str, path: str, *, permission: str | None = None, requires: str | None = None,
            order: int = 100) -> None:
        self._reg.ui_nav.append(UiNav(self._plugin, label, path, permission, requires, order))

    def card(self, name: str, render: Any, *, permission: str | None = None, requires: str | None = None,
             order: int = 100) -> None:
        _check_name(name)
        self._reg.add("ui_cards", f"{self._plugin}.{name}",
                      UiCard(self._plugin, f"{self._plugin}.{name}", render, permission, requires, order))

    def templates(self, package: str, folder: str = "templates") -> None:
        self._reg.ui_templates[self._plugin] = (package, folder)


def _check_name(name: str) -> None:
    if not JOB_NAME_RE.fullmatch(name):
        raise RegistryError(f"invalid job name {name!r}")


def _core_version() -> str:
    from ipv6wgm import __version__

    return __version__
