"""BGP plugin: sessions and announcements kept in the database, applied to BIRD 2.

Services: ``bgp.refresh`` (``async () -> None``) queues a re-apply; the IPv6 plugin calls it
when an announced pool changes. We read ``ipv6.announcements`` (``async prefixes()``) when
rendering, if it is there. Permissions ``bgp.sessions.*`` / ``bgp.announcements.*`` belong to
managers (and admins); users get none.
"""

from __future__ import annotations

from typing import Any

from ipv6wgm import hookimpl
from ipv6wgm.plugins import (
    BlueprintRegistrar,
    ChannelRegistrar,
    CronRegistrar,
    HealthRegistrar,
    JobRegistrar,
    MetricEmitter,
    ModelRegistrar,
    PermissionRegistrar,
    PluginInfo,
    Runtime,
    ServiceRegistrar,
)
from ipv6wgm.system import tools
from ipv6wgm_bgp.settings import bgp_settings

info = PluginInfo(name="bgp", version="0.1.0",
                  description="BGP sessions and announcements applied to a supervised BIRD 2")


@hookimpl
def register_models(register: ModelRegistrar) -> None:
    register("ipv6wgm_bgp.models", migrations="ipv6wgm_bgp.migrations")


@hookimpl
def register_blueprints(register: BlueprintRegistrar) -> None:
    from ipv6wgm_bgp.routes.announcements import bp as announcements_bp
    from ipv6wgm_bgp.routes.sessions import bp as sessions_bp

    register(sessions_bp)
    register(announcements_bp)


@hookimpl
def register_jobs(register: JobRegistrar) -> None:
    from ipv6wgm_bgp import jobs

    timeout = bgp_settings().apply_timeout * 2
    register("check", jobs.check, timeout=timeout, max_tries=1)
    register("apply", jobs.apply, timeout=timeout, max_tries=1)
    register("apply_files", jobs.apply_files, timeout=timeout, max_tries=1)
    register("routes", jobs.routes, timeout=timeout, max_tries=1)
    register("collect_state", jobs.collect_state, timeout=timeout, max_tries=1)


@hookimpl
def register_cron(register: CronRegistrar) -> None:
    from ipv6wgm_bgp import jobs

    settings = bgp_settings()
    register("collect", jobs.collect_state, every=settings.collect_interval, scope="node", run_at_startup=True)
    register("reconcile", jobs.reconcile, every=settings.reconcile_interval, scope="node")


@hookimpl
def register_ws_channels(register: ChannelRegistrar) -> None:
    from ipv6wgm_bgp.service.views import status_snapshot

    async def snapshot(principal: Any) -> dict[str, Any]:
        return await status_snapshot()

    register("bgp", message_type="bgp_status", permission="bgp.sessions.read", stream_path="/ws/bgp/status",
             snapshot=snapshot)


@hookimpl
def register_permissions(register: PermissionRegistrar) -> None:
    register("bgp.sessions.read", "List BGP sessions, their state and received routes", roles=("manager",))
    register("bgp.sessions.write", "Create, change, start, stop and delete BGP sessions", roles=("manager",))
    register("bgp.announcements.read", "List BGP announcements", roles=("manager",))
    register("bgp.announcements.write", "Create, change and withdraw BGP announcements", roles=("manager",))


@hookimpl
def register_services(register: ServiceRegistrar) -> None:
    from ipv6wgm_bgp.jobs import refresh
    from ipv6wgm_bgp.placement import PlacedSessions

    register("refresh", refresh)
    register("placed", PlacedSessions())  # sessions per node, for the cluster plugin


@hookimpl
async def startup(runtime: Runtime) -> None:
    """This process's state; BIRD is started only where the data plane is (see ``owner``)."""
    from ipv6wgm_bgp.service import owner

    await owner.start(runtime)


@hookimpl
async def shutdown(runtime: Runtime) -> None:
    """Stops the BIRD this process supervises, if any (see ``service.owner``)."""
    await runtime.close_state(info.name)


@hookimpl
async def collect_metrics(emit: MetricEmitter) -> None:
    from ipv6wgm_bgp.models import BgpAnnouncement, BgpSession

    for row in await BgpSession.all().order_by("id").limit(1000):
        tags = {"session": row.name, "neighbor": row.neighbor, "remote_as": str(row.remote_as)}
        if row.enabled:  # a disabled session is not "down"
            emit("bgp.session.established", 1 if row.status == "established" else 0, tags=tags, unit="bool")
        emit("bgp.session.routes_received", int(row.routes_received), tags=tags, unit="count")
        emit("bgp.session.routes_advertised", int(row.routes_advertised), tags=tags, unit="count")
    emit("bgp.announcements", await BgpAnnouncement.filter(enabled=True).count(), unit="count")


@hookimpl
def health_components(register: HealthRegistrar) -> None:
    async def check() -> dict[str, Any]:
        """Healthy while BIRD answered the last collection; sessions that are down are
        reported in numbers (a peer being down is not this node being unhealthy)."""
        from datetime import timedelta

        from ipv6wgm.api import utcnow
        from ipv6wgm.runtime import current
        from ipv6wgm_bgp.models import BgpNode, BgpSession
        from ipv6wgm_bgp.service.views import aware

        rows = await BgpSession.all().values_list("status", "enabled")
        node = await BgpNode.filter(node_id=current().settings.node_id).first()
        stale = timedelta(seconds=max(30, 3 * bgp_settings().collect_interval))
        out: dict[str, Any] = {
            "sessions": len(rows), "established": sum(1 for s, _ in rows if s == "established"),
            "down": sum(1 for s, enabled in rows if enabled and s != "established"),
            "bird_reachable": None if node is None else bool(node.bird_ok),
        }
        absent = await tools.report("bgp")
        if absent:
            out["missing_tools"] = absent
            lacks = "; ".join(f"node {n} lacks {', '.join(names)}" for n, names in absent.items())
            return {"status": "unhealthy", "error": f"{lacks} (Debian: apt-get install bird2)", **out}
        if node is None:  # no observation yet (just started)
            return {"status": "healthy", **out}
        if not node.bird_ok or utcnow() - (aware(node.last_seen) or utcnow()) > stale:
            out["bird_reachable"] = False
            return {"status": "unhealthy", "error": node.error or "no recent observation of BIRD", **out}
        return {"status": "healthy", **out}

    register("bgp", check)
