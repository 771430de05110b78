"""Per-client traffic history: hourly and daily byte counts, kept by the plugin that counts.

The stats cron already turns raw WireGuard counters into deltas that survive counter resets and
re-created interfaces; those deltas are added here to the client's current hour and day, so a
history never counts twice and never goes negative. One writer per client (the node-scoped cron
of the node that hosts its server), so read-modify-write per tick is safe.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from ipv6wgm.api import iso, utcnow
from ipv6wgm.paging import Eq, Range, fetch_rows
from ipv6wgm_wireguard.models import WireGuardClientTraffic

HOUR, DAY = 3600, 86400
CHUNK = 500
# range -> (resolution, number of buckets)
RANGES = {"24h": (HOUR, 24), "7d": (HOUR, 24 * 7), "30d": (DAY, 30), "1y": (DAY, 365)}


def bucket_start(at: datetime, resolution: int) -> datetime:
    at = at.astimezone(UTC)
    if resolution == HOUR:
        return at.replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


async def add(deltas: dict[int, tuple[int, int]], at: datetime) -> None:
    """Add (received, sent) byte deltas per client to the hour and the day of ``at``."""
    deltas = {cid: d for cid, d in deltas.items() if d[0] > 0 or d[1] > 0}
    if not deltas:
        return
    buckets = {HOUR: bucket_start(at, HOUR), DAY: bucket_start(at, DAY)}
    ids = sorted(deltas)
    async with in_transaction():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            existing: dict[tuple[int, int], WireGuardClientTraffic] = {}
            for resolution, bucket in buckets.items():
                for row in await WireGuardClientTraffic.filter(client_id__in=chunk, resolution=resolution,
                                                               bucket=bucket):
                    existing[(row.client_id, resolution)] = row
            updates, inserts = [], []
            for cid in chunk:
                rx, tx = deltas[cid]
                for resolution, bucket in buckets.items():
                    row = existing.get((cid, resolution))
                    if row is None:
                        inserts.append(WireGuardClientTraffic(client_id=cid, resolution=resolution, bucket=bucket,
                                                              bytes_received=rx, bytes_sent=tx))
                    else:
                        row.bytes_received += rx
                        row.bytes_sent += tx
                        updates.append(row)
            if updates:
                await WireGuardClientTraffic.bulk_update(updates, fields=["bytes_received", "bytes_sent"],
                                                         batch_size=CHUNK)
            if inserts:
                await WireGuardClientTraffic.bulk_create(inserts, batch_size=CHUNK)


async def history(client_id: int, span: str, now: datetime | None = None) -> dict[str, Any]:
    """A dense series (every bucket of the range, zeros included) for one client."""
    resolution, count = RANGES[span]
    last = bucket_start(now or utcnow(), resolution)
    first = last - timedelta(seconds=resolution * (count - 1))
    rows = await fetch_rows(
        WireGuardClientTraffic, ("bucket", "bytes_received", "bytes_sent"),
        where=[Eq("client_id", client_id), Eq("resolution", resolution), Range("bucket", first, last)],
        order=("bucket",), limit=count)
    found = {row.bucket.astimezone(UTC): row for row in rows}
    points = []
    for i in range(count):
        at = first + timedelta(seconds=resolution * i)
        row = found.get(at)
        points.append({"timestamp": iso(at), "bytes_received": row.bytes_received if row else 0,
                       "bytes_sent": row.bytes_sent if row else 0})
    return {"client_id": client_id, "range": span, "resolution": "1h" if resolution == HOUR else "1d",
            "points": points, "bytes_received": sum(p["bytes_received"] for p in points),
            "bytes_sent": sum(p["bytes_sent"] for p in points)}


async def prune(ctx: dict[str, Any]) -> dict[str, int]:
    """Cluster cron: hourly rows past ``traffic_hourly_days``, daily rows past ``traffic_daily_days``."""
    from ipv6wgm_wireguard.settings import wg_settings

    settings, now = wg_settings(), utcnow()
    removed = 0
    for resolution, days in ((HOUR, settings.traffic_hourly_days), (DAY, settings.traffic_daily_days)):
        removed += await WireGuardClientTraffic.filter(
            resolution=resolution, bucket__lt=now - timedelta(days=days)).delete()
    return {"removed": removed}



