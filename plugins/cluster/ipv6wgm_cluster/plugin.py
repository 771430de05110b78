"""Hook implementations of the cluster plugin: one API driving many gateway nodes.

Routes (``/api/v1/cluster``): ``/status``, ``/nodes`` (GET, POST = pre-register),
``/nodes/{id}`` (GET with what is placed on it, DELETE), ``/nodes/{id}/health-check`` (POST),
``/nodes/{id}/drain`` and ``/undrain`` (POST), ``/nodes/{id}/weight`` (PUT),
``/load-balancer`` (GET), ``/load-balancer/weights`` and ``/load-balancer/strategy`` (PUT).

Services:

``services["cluster.leadership"]`` (``ipv6wgm.cron.Leadership``): the core's cron runners ask it
who runs a cluster cron tick (the leader, once); ``ipv6wgm.jobs.fenced(ctx)`` gives a cluster
cron a transaction fenced by its leader epoch.

``services["cluster.placement"]``: ``async choose(kind, *, exclude=None, capability="gateway")
-> str | None``, the node for a new object by the strategy among healthy, undrained nodes with
that capability (None: no candidate; keep your own choice).

Other plugins place objects by offering ``services["<plugin>.placed"]`` (see
``ipv6wgm_cluster.placement.PlacedObjects``): the cluster plugin lists, counts and moves them.

Metrics (leader only, so they are not counted once per node): ``cluster.node.up`` (1 healthy,
0 otherwise) and ``cluster.node.objects_offline`` (objects placed on an offline node), tagged
``node``; ``cluster.leader.epoch``.

Cron ``failover`` (cluster scope, every 5 s, only with ``IPV6WGM_CLUSTER_AUTO_FAILOVER=1``): the
leader drains a node offline for ``IPV6WGM_CLUSTER_FAILOVER_GRACE`` seconds past its TTL.

Settings: ``IPV6WGM_CLUSTER_*`` (``ipv6wgm_cluster.settings``).
"""

from __future__ import annotations

from ipv6wgm import hookimpl
from ipv6wgm.plugins import (
    BlueprintRegistrar,
    CronRegistrar,
    HealthRegistrar,
    MetricEmitter,
    ModelRegistrar,
    PermissionRegistrar,
    PluginInfo,
    Runtime,
    ServiceRegistrar,
)

FAILOVER_EVERY = 5
info = PluginInfo(name="cluster", version="0.1.0",
                  description="Cluster membership, a fenced leader, placement, failover and drain")


@hookimpl
def register_models(register: ModelRegistrar) -> None:
    register("ipv6wgm_cluster.models", migrations="ipv6wgm_cluster.migrations")


@hookimpl
def register_blueprints(register: BlueprintRegistrar) -> None:
    from ipv6wgm_cluster.routes import bp

    register(bp)


@hookimpl
def register_cron(register: CronRegistrar) -> None:
    """Automatic failover (off by default): the leader drains nodes offline past the grace."""
    from ipv6wgm_cluster.service import failover
    from ipv6wgm_cluster.settings import cluster_settings

    if cluster_settings().auto_failover:
        register("failover", failover, every=FAILOVER_EVERY, scope="cluster")


@hookimpl
def register_permissions(register: PermissionRegistrar) -> None:
    register("cluster.read", "See the cluster: nodes, leader, placement strategy", roles=("manager",))
    register("cluster.write", "Register, check, drain and delete nodes; change weights and the strategy", roles=())


@hookimpl
def register_services(register: ServiceRegistrar) -> None:
    from ipv6wgm_cluster.placement import Placement
    from ipv6wgm_cluster.state import LeadershipService

    register("leadership", LeadershipService())
    register("placement", Placement())


@hookimpl
async def startup(runtime: Runtime) -> None:
    """Registers this process's node and starts its heartbeat (and lease) loop."""
    from ipv6wgm_cluster.state import ClusterState

    state = ClusterState(runtime)
    runtime.set_state(info.name, state)
    await state.start()


@hookimpl
async def shutdown(runtime: Runtime) -> None:
    """Stops the heartbeat and hands the lease back, so a clean stop fails over at once."""
    await runtime.close_state(info.name)


@hookimpl
async def collect_metrics(emit: MetricEmitter) -> None:
    from ipv6wgm_cluster.metrics import collect

    await collect(emit)


@hookimpl
def health_components(register: HealthRegistrar) -> None:
    async def check() -> dict:
        from ipv6wgm_cluster.state import plugin_state

        lease = await plugin_state().leadership.current()
        return {"status": "healthy", "leader": lease["leader"], "epoch": lease["epoch"]}

    register("cluster", check)
