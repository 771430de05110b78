"""Host metrics with psutil: CPU, load, memory, disk, network totals and rates.

Blocking calls: run it in a thread (``asyncio.to_thread``), never on the event loop. CPU usage
and network rates are computed from this sampler's own previous reading instead of
``psutil.cpu_percent(interval=None)``, whose "since the last call" state is process-global and
shared with every other caller (the core's status stream calls it every 5 s).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

#: (name, unit) of every host series, in the order they are sampled.
HOST_METRICS: tuple[tuple[str, str], ...] = (
    ("system.cpu.usage", "percent"), ("system.cpu.cores", "count"),
    ("system.load.1", ""), ("system.load.5", ""), ("system.load.15", ""),
    ("system.memory.total", "bytes"), ("system.memory.used", "bytes"), ("system.memory.free", "bytes"),
    ("system.memory.available", "bytes"), ("system.memory.usage", "percent"), ("system.swap.usage", "percent"),
    ("system.disk.total", "bytes"), ("system.disk.used", "bytes"), ("system.disk.free", "bytes"),
    ("system.disk.usage", "percent"),
    ("system.network.bytes_sent", "bytes"), ("system.network.bytes_recv", "bytes"),
    ("system.network.packets_sent", "count"), ("system.network.packets_recv", "count"),
    ("system.network.send_rate", "bytes_per_second"), ("system.network.recv_rate", "bytes_per_second"),
    ("system.uptime", "seconds"),
)
UNITS = dict(HOST_METRICS)
MIN_DELTA_S = 0.5  # rates over a shorter interval are noise


@dataclass
class Reading:
    at: float
    busy: float
    total: float
    bytes_sent: int
    bytes_recv: int


def _cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds, computed as psutil does for cpu_percent."""
    times = psutil.cpu_times()
    total = sum(times)
    # guest time is already counted in user/nice on Linux
    total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return total - idle, total


def read() -> Reading:
    busy, total = _cpu()
    net = psutil.net_io_counters()
    return Reading(time.monotonic(), busy, total, net.bytes_sent, net.bytes_recv)


def sample(previous: Reading | None, disk_path: Path) -> tuple[dict[str, float], dict[str, Any], Reading]:
    """Values by series name, the dashboard's ``system_metrics`` block, and this reading.

    Without a previous reading at least ``MIN_DELTA_S`` old (the first sample), it waits that
    long between two readings: it runs in a thread, and every sample then has a CPU usage.
    """
    if previous is None or time.monotonic() - previous.at < MIN_DELTA_S:
        previous = previous if previous is not None else read()
        time.sleep(max(0.0, MIN_DELTA_S - (time.monotonic() - previous.at)))
    now = read()
    values: dict[str, float] = {}
    usage: float | None = None
    if now.total - previous.total > 0:
        usage = round(max(0.0, min(100.0, 100.0 * (now.busy - previous.busy) / (now.total - previous.total))), 2)
        values["system.cpu.usage"] = usage
    cores = psutil.cpu_count() or 1
    load = os.getloadavg()
    mem = psutil.virtual_memory()
    swap = psutil.swap_memory()
    disk = psutil.disk_usage(str(disk_path))
    net = psutil.net_io_counters()
    values.update({
        "system.cpu.cores": cores,
        "system.load.1": load[0], "system.load.5": load[1], "system.load.15": load[2],
        "system.memory.total": mem.total, "system.memory.used": mem.used, "system.memory.free": mem.free,
        "system.memory.available": mem.available, "system.memory.usage": mem.percent,
        "system.swap.usage": swap.percent,
        "system.disk.total": disk.total, "system.disk.used": disk.used, "system.disk.free": disk.free,
        "system.disk.usage": disk.percent,
        "system.network.bytes_sent": net.bytes_sent, "system.network.bytes_recv": net.bytes_recv,
        "system.network.packets_sent": net.packets_sent, "system.network.packets_recv": net.packets_recv,
        "system.uptime": int(time.time() - psutil.boot_time()),
    })
    rates: dict[str, float] = {}
    elapsed = now.at - previous.at
    if elapsed > 0:
        for name, before, after in (("send_rate", previous.bytes_sent, now.bytes_sent),
                                    ("recv_rate", previous.bytes_recv, now.bytes_recv)):
            if after >= before:  # a counter reset (interface gone) gives no rate this time
                rates[name] = round((after - before) / elapsed, 2)
                values[f"system.network.{name}"] = rates[name]
    facts = {
        "cpu": {"usage": usage, "cores": cores, "load_average": [round(x, 2) for x in load]},
        "memory": {"total": mem.total, "used": mem.used, "free": mem.free, "available": mem.available,
                   "usage_percent": mem.percent},
        "disk": {"path": str(disk_path), "total": disk.total, "used": disk.used, "free": disk.free,
                 "usage_percent": disk.percent},
        "network": {"bytes_sent": net.bytes_sent, "bytes_recv": net.bytes_recv, "packets_sent": net.packets_sent,
                    "packets_recv": net.packets_recv, "send_rate": rates.get("send_rate"),
                    "recv_rate": rates.get("recv_rate")},
    }
    return values, facts, now
