"""The plugin manager's ordering, isolation and namespacing, with in-memory plugin modules."""

from __future__ import annotations

import types

import pytest

from ipv6wgm import core_plugin, hookimpl
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


def test_two_plugins_may_each_have_a_job_named_apply() -> None:
    """Job names are namespaced by plugin: ``alpha.apply`` and ``beta.apply`` do not clash."""
    def jobs_a(register):
        register("apply", lambda ctx: None)

    pm = manager(plugin("alpha", register_jobs=jobs_a), plugin("beta", register_jobs=jobs_a))
    registry = pm.collect()
    assert {"alpha.apply", "beta.apply"} <= set(registry.jobs)
    assert pm.records["alpha"].status == pm.records["beta"].status == "loaded"


def test_duplicate_job_name_fails_the_plugin() -> None:
    """The real duplicate: one plugin registering ``apply`` twice fails, contributes nothing,
    and leaves the others alone."""
    def twice(register):
        register("apply", lambda ctx: None)
        register("apply", lambda ctx: None)

    def once(register):
        register("apply", lambda ctx: None)

    pm = manager(plugin("alpha", register_jobs=twice), plugin("beta", register_jobs=once))
    registry = pm.collect()
    assert pm.records["alpha"].status == "failed" and "alpha.apply" in (pm.records["alpha"].error or "")
    assert "alpha.apply" not in registry.jobs and "beta.apply" in registry.jobs
    assert pm.records["beta"].status == "loaded"
    with pytest.raises(PluginLoadError, match="alpha.apply"):
        manager(plugin("alpha", register_jobs=twice), strict=True).collect()


def test_duplicate_plugin_name_fails_every_module_claiming_it() -> None:
    """Two modules claiming one plugin name: neither gets the namespace (which one was meant
    cannot be told), the failure is listed, other plugins load."""
    first, second = plugin("twin"), plugin("twin")
    second.__name__ = "other_twin"
    pm = manager(first, second, plugin("bgp"))
    assert "twin" not in pm.order and pm.records["twin"].status == "failed"
    assert "fake_twin, other_twin" in (pm.records["twin"].error or "")
    assert pm.records["bgp"].status == "loaded"
    with pytest.raises(PluginLoadError, match="duplicate plugin name 'twin'"):
        manager(plugin("twin"), plugin("twin"), strict=True)


def test_a_plugin_named_core_cannot_take_the_cores_place() -> None:
    pm = manager(plugin("core"))
    assert pm.records["core"].status == "loaded" and pm.order[0] == "core"
    assert pm.records["fake_core"].status == "failed"


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


def test_services_are_namespaced_and_exclusive() -> None:
    def offer(register):
        register("delegation", object())

    pm = manager(plugin("ipv6", register_services=offer))
    registry = pm.collect()
    assert "ipv6.delegation" in registry.services
