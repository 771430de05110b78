"""The monitoring plugin's process state, kept on the runtime (built in ``startup``, dropped in
``shutdown``): the host sampler's previous reading (CPU usage and network rates are deltas
against it) and the map of series keys to ids (``store.SeriesCache``), which spares a sample
the lookup of every series it writes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ipv6wgm.runtime import current
from ipv6wgm_monitoring.host import Reading
from ipv6wgm_monitoring.store import SeriesCache

PLUGIN = "monitoring"


@dataclass
class MonitoringState:
    reading: Reading | None = None
    series: SeriesCache = field(default_factory=SeriesCache)

    async def close(self) -> None:
        self.reading = None
        self.series = SeriesCache()


def plugin_state() -> MonitoringState:
    return current().state(PLUGIN, MonitoringState)
