"""Hook implementations of the monitoring plugin: the consumer of every plugin's ``collect_metrics``.

Routes (``/api/v1/monitoring``): ``/dashboard``, ``/metrics/system?hours=``,
``/metrics?name=&tags=&from=&to=&step=``, ``/metrics/names``, ``/alerts`` (history with filters),
``/alerts/active``, ``/alerts/{id}/acknowledge``, ``/alerts/{id}/resolve``, ``/alerts/rules``
(GET, POST), ``/alerts/rules/{id}`` (GET, PUT, DELETE), ``/notifiers`` (admins: webhooks and
apprise targets). ``GET /metrics`` at the root: Prometheus text format, bearer
``IPV6WGM_METRICS_TOKEN``.

Crons: ``sample`` (node: host metrics with psutil and the metrics every plugin emits for this
node), ``sample_cluster`` (cluster: the metrics of shared rows, emitted without a ``node`` tag),
``evaluate`` (cluster: alert rules), ``rollup`` (cluster: minute and hour rollups, retention).

How emitted metrics are owned: a metric whose tags carry ``node`` belongs to that node and is
stored only by that node's sampler (the tag becomes the series' node); one without is
cluster-wide and stored once, by ``sample_cluster``. Metrics named ``wireguard.peer.*`` (per-peer
counters, tags ``interface``, ``public_key``, ``allowed_ips``, ``friendly_name``) are never
stored as history (the WireGuard plugin keeps per-client traffic itself); they reach ``/metrics``
when ``IPV6WGM_MONITORING_PROMETHEUS_PER_PEER`` is on.

WebSocket channel ``monitoring`` (permission ``monitoring.read``, stream ``/ws/monitoring/alerts``):
``monitoring_alert`` messages on every alert transition.

Service ``monitoring.query`` (``async (name, tags, start, end, step) -> dict``): the stored
series, for plugins that chart their own metrics.
"""

from __future__ import annotations

from ipv6wgm import hookimpl
from ipv6wgm.plugins import (
    BlueprintRegistrar,
    ChannelRegistrar,
    CronRegistrar,
    HealthRegistrar,
    JobRegistrar,
    ModelRegistrar,
    PermissionRegistrar,
    PluginInfo,
    Runtime,
    ServiceRegistrar,
)

info = PluginInfo(name="monitoring", version="0.1.0",
                  description="Metric history, alert rules with notifications, Prometheus /metrics")


@hookimpl
def register_models(register: ModelRegistrar) -> None:
    register("ipv6wgm_monitoring.models", migrations="ipv6wgm_monitoring.migrations")


@hookimpl
def register_blueprints(register: BlueprintRegistrar) -> None:
    from ipv6wgm_monitoring.prometheus import bp as prometheus_bp
    from ipv6wgm_monitoring.routes.alerts import bp as alerts_bp
    from ipv6wgm_monitoring.routes.metrics import bp as metrics_bp
    from ipv6wgm_monitoring.routes.notifiers import bp as notifiers_bp

    register(metrics_bp)
    register(alerts_bp)
    register(notifiers_bp)
    register(prometheus_bp, url_prefix="/")


@hookimpl
def register_jobs(register: JobRegistrar) -> None:
    from ipv6wgm_monitoring import jobs
    from ipv6wgm_monitoring.settings import get_settings

    settings = get_settings()
    attempts = settings.webhook_attempts
    register("notify", jobs.notify, timeout=settings.webhook_timeout * 3 + 10, max_tries=attempts)


@hookimpl
def register_cron(register: CronRegistrar) -> None:
    from ipv6wgm_monitoring import jobs
    from ipv6wgm_monitoring.settings import get_settings

    settings = get_settings()
    register("sample", jobs.sample_node, every=settings.sample_interval, scope="node", run_at_startup=True)
    register("sample_cluster", jobs.sample_cluster, every=settings.sample_interval, scope="cluster")
    register("evaluate", jobs.evaluate, every=settings.evaluate_interval, scope="cluster")
    register("rollup", jobs.rollup, every=settings.rollup_interval, scope="cluster")


@hookimpl
def register_ws_channels(register: ChannelRegistrar) -> None:
    register("monitoring", message_type="monitoring_alert", permission="monitoring.read",
             stream_path="/ws/monitoring/alerts")


@hookimpl
def register_permissions(register: PermissionRegistrar) -> None:
    register("monitoring.read", "See metrics, the dashboard, alerts and alert rules", roles=("manager",))
    register("monitoring.write", "Create, change and delete alert rules; acknowledge and resolve alerts",
             roles=("manager",))
    register("monitoring.notifiers", "Configure webhooks and other alert targets")  # admins only


@hookimpl
def register_services(register: ServiceRegistrar) -> None:
    from ipv6wgm_monitoring.store import query_service

    register("query", query_service)


@hookimpl
def startup(runtime: Runtime) -> None:
    """The process state (the sampler's previous reading, the series cache): see ``state``."""
    from ipv6wgm_monitoring.state import MonitoringState

    runtime.set_state(info.name, MonitoringState())


@hookimpl
async def shutdown(runtime: Runtime) -> None:
    await runtime.close_state(info.name)


@hookimpl
def health_components(register: HealthRegistrar) -> None:
    from ipv6wgm_monitoring.sampling import health

    register("monitoring", health)
