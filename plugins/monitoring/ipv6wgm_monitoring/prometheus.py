"""``GET /metrics``: the Prometheus text format, through prometheus-client, over the snapshots.

A custom collector turns the latest snapshot of every node into metric families, so a scrape
reads one row per node and never walks peers, points or plugin tables.

Names: the WireGuard series use prometheus_wireguard_exporter's names so existing Grafana
dashboards work: ``wireguard_sent_bytes_total``, ``wireguard_received_bytes_total`` and
``wireguard_latest_handshake_seconds``. By default they are per interface (labels ``interface``,
``server``, ``node``); with ``IPV6WGM_MONITORING_PROMETHEUS_PER_PEER=1`` they are per peer (labels
``interface``, ``public_key``, ``allowed_ips``, ``friendly_name``, ``node``) from the
``wireguard.peer.*`` metrics. Everything else is ``ipv6wgm_<metric name>`` with the unit as
suffix (``ipv6wgm_system_cpu_usage_percent``, ``ipv6wgm_system_memory_total_bytes``), counters
ending in ``_total``; node-owned series carry a ``node`` label. Per node:
``ipv6wgm_node_up`` and ``ipv6wgm_node_last_sample_timestamp_seconds``; per level:
``ipv6wgm_alerts_active``.

Access: ``Authorization: Bearer <IPV6WGM_METRICS_TOKEN>``; a missing or wrong token answers 401.
Without a configured token the endpoint is off: every request answers 401 (saying so), since no
token can be right.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from quart import Blueprint, Response, request

from ipv6wgm.api import INVALID_CREDENTIALS, ApiError
from ipv6wgm.openapi import file_response
from ipv6wgm_monitoring import alerts, sampling
from ipv6wgm_monitoring.models import CLUSTER
from ipv6wgm_monitoring.settings import get_settings, stale_after

bp = Blueprint("monitoring_prometheus", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Emitted metrics that only ever grow (exported as counters, ``_total``).
COUNTERS = frozenset({
    "system.network.bytes_sent", "system.network.bytes_recv", "system.network.packets_sent",
    "system.network.packets_recv", "wireguard.bytes_sent", "wireguard.bytes_received",
    "wireguard.peer.sent_bytes", "wireguard.peer.received_bytes",
})
#: Our metric -> prometheus_wireguard_exporter's family, per interface (per-peer export off) ...
WG_INTERFACE = {"wireguard.bytes_sent": "wireguard_sent_bytes", "wireguard.bytes_received": "wireguard_received_bytes",
                "wireguard.latest_handshake": "wireguard_latest_handshake_seconds"}
#: ... and per peer (on).
WG_PEER = {"wireguard.peer.sent_bytes": "wireguard_sent_bytes",
           "wireguard.peer.received_bytes": "wireguard_received_bytes",
           "wireguard.peer.latest_handshake": "wireguard_latest_handshake_seconds"}
SUFFIX = {"bytes": "_bytes", "seconds": "_seconds", "percent": "_percent", "bytes_per_second": "_bytes_per_second"}
BAD = re.compile(r"[^a-zA-Z0-9_]")


def family_name(name: str, unit: str) -> str:
    """``ipv6wgm_`` + the dotted name with the unit as suffix (without ``_total``)."""
    base = "ipv6wgm_" + BAD.sub("_", name)
    suffix = SUFFIX.get(unit, "")
    if suffix and not base.endswith(suffix) and not (suffix == "_bytes" and "bytes" in base):
        base += suffix
    return base


class SnapshotCollector:
    """prometheus-client collector over already loaded snapshots (no I/O in ``collect``)."""

    def __init__(self, snaps: list[sampling.NodeSnapshot], alert_counts: dict[str, int], per_peer: bool) -> None:
        self.snaps, self.alert_counts, self.per_peer = snaps, alert_counts, per_peer

    def _family(self, families: dict[str, Metric], name: str, kind: str, doc: str) -> Metric:
        fam = families.get(name)
        if fam is None:
            fam = families[name] = Metric(name, doc, kind)
        return fam

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        now = time.time()
        cutoff = now - stale_after()
        wg_aliases = WG_PEER if self.per_peer else WG_INTERFACE
        up = self._family(families, "ipv6wgm_node_up", "gauge", "1 while the node samples (fresh snapshot)")
        last = self._family(families, "ipv6wgm_node_last_sample_timestamp_seconds", "gauge",
                            "When the node last sampled (epoch seconds)")
        for snap in self.snaps:
            node_label = {} if snap.node == CLUSTER else {"node": snap.node}
            if snap.node != CLUSTER:
                up.add_sample("ipv6wgm_node_up", node_label, 1.0 if snap.taken_at >= cutoff else 0.0)
                last.add_sample("ipv6wgm_node_last_sample_timestamp_seconds", node_label, float(snap.taken_at))
            if snap.taken_at < cutoff:
                continue  # a silent node's last values are not current values
            for name, tags, value, unit, _key in snap.samples:
                counter = name in COUNTERS
                labels = {**tags, **node_label}
                alias = wg_aliases.get(name)
                if alias is not None:
                    self._add(families, alias, counter, labels, value, f"WireGuard {name} (exporter-compatible)")
                if name.startswith(sampling.PER_PEER_PREFIX):
                    continue
                self._add(families, family_name(name, unit), counter, labels, value, f"{name} ({unit or 'value'})")
        active = self._family(families, "ipv6wgm_alerts_active", "gauge", "Active (firing) alerts by level")
        for level in ("critical", "error", "warning", "info"):
            active.add_sample("ipv6wgm_alerts_active", {"level": level}, float(self.alert_counts.get(level, 0)))
        yield from families.values()

    def _add(self, families: dict[str, Metric], base: str, counter: bool, labels: dict[str, str], value: float,
             doc: str) -> None:
        base = base.removesuffix("_total")
        fam = self._family(families, base, "counter" if counter else "gauge", doc)
        fam.add_sample(f"{base}_total" if counter else base, labels, float(value))


def _check_token() -> None:
    token = get_settings().metrics_token
    if token is None or not token.get_secret_value():  # no token can be right: off
        raise ApiError(401, INVALID_CREDENTIALS, "the metrics endpoint is disabled: set IPV6WGM_METRICS_TOKEN",
                       headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
        raise ApiError(401, INVALID_CREDENTIALS, "a valid metrics bearer token is required",
                       headers={"WWW-Authenticate": 'Bearer realm="metrics"'})


def render(snaps: list[sampling.NodeSnapshot], alert_counts: dict[str, int], per_peer: bool) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snaps, alert_counts, per_peer))  # type: ignore[arg-type]
    return generate_latest(registry)


@bp.get("/metrics")
@file_response("text/plain")
async def metrics() -> Any:
    """Prometheus exposition of the latest snapshot of every node. Bearer ``IPV6WGM_METRICS_TOKEN``;
    401 without the right one, and always while no token is configured (the endpoint is off)."""
    _check_token()
    snaps = await sampling.snapshots(fresh_only=False)
    counts = await alerts.counts()
    per_peer = get_settings().prometheus_per_peer
    size = sum(len(s.samples) for s in snaps)
    if size > 2000:  # rendering is CPU work proportional to the samples: keep the loop free
        body = await asyncio.to_thread(render, snaps, counts, per_peer)
    else:
        body = render(snaps, counts, per_peer)
    return Response(body, status=200, content_type=CONTENT_TYPE)
