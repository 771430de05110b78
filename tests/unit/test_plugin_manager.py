"""The plugin manager's ordering, isolation and namespacing, with in-memory plugin modules."""

from __future__ import annotations

import types

import pytest

from ipv6wgm import core_plugin, hookimpl, hookspecs
from ipv6wgm.plugins import PluginInfo, PluginLoadError, PluginManager


def plugin(name: str, requires: tuple[str, ...] = (), **hooks: object) -> types.ModuleType:
    module = types.ModuleType(f"fake_{name}")
    module.info = PluginInfo(name=name, version="1.0", requires=requires)  # type: ignore[attr-defined]
    for hook, func in hooks.items():
        setattr(module, hook, hookimpl(func))  # type: ignore[arg-type]
    return module


def manager(*modules: types.ModuleType, strict: bool = False) -> PluginManager:
    pm = PluginManager(strict=strict)
    pm._discover = lambda: []  # type: ignore[method-assign] - only the given modules, not installed ones
    pm.load(core_plugin, extra=modules)
    return pm


def test_requires_orders_loading() -> None:
    pm = manager(plugin("cluster", ("wireguard",)), plugin("wireguard"), plugin("bgp"))
    assert pm.order.index("wireguard") < pm.order.index("cluster")
    assert pm.order[0] == "core"


def test_missing_requirement_fails_only_that_plugin() -> None:
    pm = manager(plugin("cluster", ("nothere",)), plugin("bgp"))
    assert pm.records["cluster"].status == "failed" and "nothere" in (pm.records["cluster"].error or "")
    assert pm.records["bgp"].status == "loaded"


def test_strict_mode_raises() -> None:
    with pytest.raises(PluginLoadError):
        manager(plugin("cluster", ("nothere",)), strict=True)


def test_duplicate_job_name_fails_the_second_plugin() -> None:
    def jobs_a(register):
        register("apply", lambda ctx: None)

    pm = manager(plugin("alpha", register_jobs=jobs_a), plugin("beta", register_jobs=jobs_a))
    registry = pm.collect()
    assert {"alpha.apply", "beta.apply"} <= set(registry.jobs)  # namespaced: no clash


def test_duplicate_channel_fails_later_plugin_and_drops_all_its_contributions() -> None:
    def channel(register):
        register("shared", message_type="x", permission="x.read")

    def jobs(register):
        register("only_beta", lambda ctx: None)

    pm = manager(plugin("alpha", register_ws_channels=channel),
                 plugin("beta", register_ws_channels=channel, register_jobs=jobs))
    registry = pm.collect()
    assert pm.records["beta"].status == "failed"
    assert "beta.only_beta" not in registry.jobs and registry.channels["shared"].plugin == "alpha"


def test_permission_must_be_namespaced() -> None:
    def perms(register):
        register("users.write", "steal a core permission", roles=("user",))

    pm = manager(plugin("evil", register_permissions=perms))
    registry = pm.collect()
    assert pm.records["evil"].status == "failed"
    assert registry.permissions["users.write"].plugin == "core"


def test_failing_hook_is_isolated() -> None:
    def boom(register):
        raise RuntimeError("nope")

    pm = manager(plugin("bad", register_blueprints=boom), plugin("good"))
    pm.collect()
    assert pm.records["bad"].status == "failed" and pm.records["good"].status == "loaded"


def test_every_hook_is_documented_and_implemented_by_core_or_sample() -> None:
    import ipv6wgm_sample.plugin as sample

    specs = [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "ipv6wgm_spec")]
    assert len(specs) >= 12
    implemented = {n for mod in (core_plugin, sample) for n in dir(mod) if hasattr(getattr(mod, n), "ipv6wgm_impl")}
    for name in specs:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"
    unexercised = set(specs) - implemented - {"register_commands", "collect_metrics", "backup_contributors",
                                              "startup", "shutdown", "register_services"}
    assert not unexercised, unexercised


def test_services_are_namespaced_and_exclusive() -> None:
    def offer(register):
        register("delegation", object())

    pm = manager(plugin("ipv6", register_services=offer))
    registry = pm.collect()
    assert "ipv6.delegation" in registry.services
