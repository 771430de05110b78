"""Sampling: host metrics and every plugin's ``collect_metrics``, stored as points and a snapshot.

Two crons share this code. ``sample`` runs on every node: its host, and the metrics plugins emit
with ``node`` = this node (WireGuard interfaces, read in this node's namespace). ``sample_cluster``
runs once per tick: the metrics emitted without a ``node`` tag (pools, sessions: shared rows),
stored under the pseudo-node ``*``. So each series has exactly one writer, whatever the number of
nodes, and a sum over nodes never counts anything twice.

The snapshot (one row per node, the latest value of each of its series) is what ``/metrics``,
the dashboard and the alert engine read: a scrape costs one small read, however many points or
peers there are.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any

import orjson
from tortoise.exceptions import IntegrityError

from ipv6wgm.runtime import current
from ipv6wgm.validation import unsafe_char
from ipv6wgm_monitoring import host, store
from ipv6wgm_monitoring.models import CLUSTER, Snapshot
from ipv6wgm_monitoring.settings import get_settings, stale_after
from ipv6wgm_monitoring.state import plugin_state

log = logging.getLogger(__name__)
METRIC_NAME = re.compile(r"[a-z][a-z0-9_]{0,40}(\.[a-z0-9_]{1,40}){0,6}")
TAG_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
UNIT = re.compile(r"[a-z_]{0,16}")
MAX_TAGS = 16
PER_PEER_PREFIX = "wireguard.peer."
COLLECT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Sample:
    name: str
    tags: dict[str, str]
    value: float
    unit: str

    def row(self, key: str | None) -> list[Any]:
        return [self.name, self.tags, self.value, self.unit, key]


def clean(name: Any, value: Any, tags: Any, unit: Any) -> Sample | None:
    """An emitted metric in canonical form, or None if any part is malformed."""
    if not isinstance(name, str) or METRIC_NAME.fullmatch(name) is None:
        return None
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    out: dict[str, str] = {}
    for key, raw in (tags or {}).items() if isinstance(tags, dict) else ():
        text = str(raw)
        if not isinstance(key, str) or TAG_KEY.fullmatch(key) is None or len(text) > 255 or unsafe_char(text):
            return None
        out[key] = text
    unit = unit or ""
    if len(out) > MAX_TAGS or not isinstance(unit, str) or UNIT.fullmatch(unit) is None:
        return None
    return Sample(name, out, float(value), unit)


async def collect_emitted() -> list[Sample]:
    """Every plugin's ``collect_metrics``, each isolated: a failing plugin costs only its metrics."""
    samples: list[Sample] = []
    dropped = 0
    per_peer = get_settings().prometheus_per_peer
    for plugin, func, argnames in current().plugins.implementations("collect_metrics"):
        if "emit" not in argnames:
            continue

        def emit(name: str, value: float, *, tags: dict[str, str] | None = None, unit: str | None = None) -> None:
            nonlocal dropped
            if not per_peer and isinstance(name, str) and name.startswith(PER_PEER_PREFIX):
                return  # not stored (see record): at 10,000 peers, checking them cost seconds every interval
            sample = clean(name, value, tags, unit)
            if sample is None:
                dropped += 1
            else:
                samples.append(sample)

        try:
            result = func(emit=emit)
            if inspect.isawaitable(result):
                await asyncio.wait_for(result, COLLECT_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - one plugin's failure is not the sampler's
            log.warning("collect_metrics of plugin %s failed: %s", plugin, exc)
    if dropped:
        log.debug("monitoring: dropped %d malformed metrics", dropped)
    return samples


def owned(samples: list[Sample], node: str) -> list[Sample]:
    """The samples ``node`` stores: for a real node those tagged with it (tag removed), for the
    cluster pseudo-node those without a ``node`` tag."""
    out = []
    for s in samples:
        tagged = s.tags.get("node")
        if node == CLUSTER and tagged is None:
            out.append(s)
        elif node != CLUSTER and tagged == node:
            out.append(Sample(s.name, {k: v for k, v in s.tags.items() if k != "node"}, s.value, s.unit))
    return out


async def record(node: str, ts: int, samples: list[Sample], host_facts: dict[str, Any] | None) -> int:
    """Store the points of ``samples`` (per-peer ones excepted) and replace the node's snapshot."""
    stored = [s for s in samples if not s.name.startswith(PER_PEER_PREFIX)]
    keyed = {store.series_key(node, s.name, s.tags): s for s in stored}
    ids = await store.series_ids(node, {k: (s.name, s.tags, s.unit) for k, s in keyed.items()})
    await store.write_points(ts, {ids[k]: s.value for k, s in keyed.items() if k in ids})
    rows = [s.row(k) for k, s in keyed.items()]
    if get_settings().prometheus_per_peer:
        rows.extend(s.row(None) for s in samples if s.name.startswith(PER_PEER_PREFIX))
    await save_snapshot(node, ts, {"taken_at": ts, "host": host_facts, "samples": rows})
    return len(ids)


async def save_snapshot(node: str, ts: int, payload: dict[str, Any]) -> None:
    text = orjson.dumps(payload).decode()
    if await Snapshot.filter(node=node).update(taken_at=ts, payload=text):
        return
    try:
        await Snapshot.create(node=node, taken_at=ts, payload=text)
    except IntegrityError:  # created concurrently (a second process of the same node)
        await Snapshot.filter(node=node).update(taken_at=ts, payload=text)


@dataclass
class NodeSnapshot:
    node: str
    taken_at: int
    host: dict[str, Any] | None
    samples: list[list[Any]]  # name, tags, value, unit, series key


async def snapshots(*, fresh_only: bool = True, node: str | None = None) -> list[NodeSnapshot]:
    """The latest snapshot of every node (or one), leaving out silent nodes unless asked."""
    qs = Snapshot.all() if node is None else Snapshot.filter(node=node)
    cutoff = int(time.time()) - stale_after()
    out = []
    for name, taken_at, payload in await qs.order_by("node").values_list("node", "taken_at", "payload"):
        if fresh_only and int(taken_at) < cutoff:
            continue
        data = orjson.loads(payload)
        out.append(NodeSnapshot(name, int(taken_at), data.get("host"), data.get("samples", [])))
    return out


async def sample_node(ts: int) -> int:
    rt = current()
    state = plugin_state()
    disk = get_settings().disk_path or rt.settings.data_dir.resolve()
    values, facts, state.reading = await asyncio.to_thread(host.sample, state.reading, disk)
    samples = [Sample(name, {"path": str(disk)} if name.startswith("system.disk.") else {}, float(v),
                      host.UNITS[name]) for name, v in values.items()]
    samples += owned(await collect_emitted(), rt.settings.node_id)
    return await record(rt.settings.node_id, ts, samples, facts)


async def sample_cluster(ts: int) -> int:
    return await record(CLUSTER, ts, owned(await collect_emitted(), CLUSTER), None)


async def health() -> dict[str, Any]:
    """Healthy while some node sampled recently; lists each node's snapshot age."""
    now = int(time.time())
    rows = await Snapshot.all().values_list("node", "taken_at")
    ages = {node: now - int(at) for node, at in rows}
    fresh = [n for n, age in ages.items() if age <= stale_after()]
    status = "healthy" if fresh or not ages else "degraded"
    return {"status": status, "snapshot_age_s": ages, "sample_interval": get_settings().sample_interval}
