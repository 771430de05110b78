"""Crons: intervals both runners keep exactly, their arq calendar, and their scope at registration."""

from __future__ import annotations

import types

import pytest
from pydantic import ValidationError

from ipv6wgm import core_plugin, hookimpl
from ipv6wgm.cron import ALLOWED_INTERVALS, arq_cron_name, check_interval, cron_times
from ipv6wgm.plugins import PluginInfo, PluginManager


@pytest.mark.parametrize(("every", "expected"), [
    (5, {"second": set(range(0, 60, 5))}),
    (60, {"minute": set(range(60)), "second": 0}),
    (600, {"minute": set(range(0, 60, 10)), "second": 0}),
    (3600, {"hour": set(range(24)), "minute": 0, "second": 0}),
    (86400, {"hour": {0}, "minute": 0, "second": 0}),
])
def test_cron_times(every: int, expected: dict) -> None:
    assert cron_times(every) == expected


@pytest.mark.parametrize("every", [0, 7, 25, 45, 90, 7000, 90000])
def test_inexact_intervals_are_refused(every: int) -> None:
    with pytest.raises(ValueError, match=rf"got {every} s") as info:
        cron_times(every)
    assert "1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 s" in str(info.value)


def test_every_allowed_interval_fires_at_exactly_that_rate() -> None:
    """What arq runs (ticks per day from its calendar) equals what the embedded loop runs."""
    def count(times: dict, unit: str, unset: int) -> int:
        value = times.get(unit)
        return len(value) if isinstance(value, set) else (unset if value is None else 1)

    for every in ALLOWED_INTERVALS:
        times = cron_times(every)
        per_day = count(times, "hour", 24) * count(times, "minute", 60) * count(times, "second", 60)
        assert per_day * every == 86400, every


def test_arq_names_carry_the_scope() -> None:
    assert arq_cron_name("wireguard.reconcile", "node", prefix="p", node_id="gw1") == "cron:p:gw1:wireguard.reconcile"
    assert arq_cron_name("ipv6.sweep", "cluster", prefix="p", node_id="gw1") == "cron:p:ipv6.sweep"
    with pytest.raises(ValueError, match="scope"):
        arq_cron_name("x.y", "everywhere", prefix="p", node_id="gw1")


def _manager(**cron_kwargs: object) -> PluginManager:
    async def tick(ctx: dict) -> None:
        return None

    module = types.ModuleType("fake_crony")
    module.info = PluginInfo(name="crony", version="1.0")  # type: ignore[attr-defined]
    module.register_cron = hookimpl(lambda register: register("tick", tick, **cron_kwargs))  # type: ignore[attr-defined]
    pm = PluginManager(strict=False)
    pm._discover = lambda: []  # type: ignore[method-assign]
    pm.load(core_plugin, extra=[module])
    return pm


def test_registration_needs_a_scope_and_an_exact_interval() -> None:
    pm = _manager(every=25, scope="node")
    pm.collect()
    assert pm.records["crony"].status == "failed"
    assert "crony.tick" in (pm.records["crony"].error or "") and "got 25 s" in (pm.records["crony"].error or "")
    pm = _manager(every=30)
    pm.collect()
    assert "scope must be 'node' or 'cluster'" in (pm.records["crony"].error or "")
    pm = _manager(every=30, scope="cluster")
    registry = pm.collect()
    assert pm.records["crony"].status == "loaded" and registry.crons["crony.tick"].scope == "cluster"


def test_core_and_plugin_crons_declare_their_scope() -> None:
    pm = PluginManager(strict=True)
    pm.load(core_plugin)
    scopes = {name: spec.scope for name, spec in pm.collect().crons.items()}
    assert scopes["core.system_status"] == "node" and scopes["core.prune_logs"] == "cluster"
    assert scopes["core.purge_log_exports"] == "cluster"
    assert scopes.get("wireguard.reconcile") == "node" and scopes.get("wireguard.collect_stats") == "node"
    assert scopes.get("bgp.collect") == "node" and scopes.get("bgp.reconcile") == "node"
    assert scopes.get("ipv6.sweep") == "cluster"


def test_settings_that_feed_intervals_refuse_inexact_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from ipv6wgm_bgp.settings import BgpSettings
    from ipv6wgm_ipv6.settings import IPv6Settings
    from ipv6wgm_wireguard.settings import WireGuardSettings

    for cls, var in ((WireGuardSettings, "IPV6WGM_WIREGUARD_RECONCILE_INTERVAL"),
                     (WireGuardSettings, "IPV6WGM_WIREGUARD_STATS_INTERVAL"),
                     (IPv6Settings, "IPV6WGM_IPV6_SWEEP_SECONDS"),
                     (BgpSettings, "IPV6WGM_BGP_COLLECT_INTERVAL"),
                     (BgpSettings, "IPV6WGM_BGP_RECONCILE_INTERVAL")):
        monkeypatch.setenv(var, "25")
        with pytest.raises(ValidationError, match="got 25 s"):
            cls()
        monkeypatch.setenv(var, "30")
        cls()
        monkeypatch.delenv(var)
    assert check_interval(15) == 15
