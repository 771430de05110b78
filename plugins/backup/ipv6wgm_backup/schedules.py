"""Schedules: daily, weekly or a cron expression (UTC, parsed by croniter); run by a cluster cron.

A schedule is due when the next time its expression gives after its last run (or its creation)
has passed. Retention: ``retention`` backups of the schedule are kept (the newest); without it,
the system setting ``backup_retention`` (days) says how old a scheduled backup may get.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter

from ipv6wgm.api import iso, utcnow
from ipv6wgm.runtime import current
from ipv6wgm_backup import catalog
from ipv6wgm_backup.models import COMPLETED, Archive, Schedule

log = logging.getLogger(__name__)


def expression(kind: str, cron: str | None, at: str | None, weekday: int | None) -> str:
    """The 5-field expression of a schedule; ValueError naming what is wrong."""
    if kind == "cron":
        if not cron or not croniter.is_valid(cron) or len(cron.split()) != 5:
            raise ValueError("cron: a 5-field cron expression is needed, e.g. '30 2 * * *'")
        return " ".join(cron.split())
    hour, minute = 0, 0
    if at is not None:
        parts = at.split(":")
        if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
            raise ValueError("at: HH:MM (UTC) is expected")
        hour, minute = int(parts[0]), int(parts[1])
        if hour > 23 or minute > 59:
            raise ValueError("at: HH:MM (UTC) is expected")
    if kind == "daily":
        return f"{minute} {hour} * * *"
    return f"{minute} {hour} * * {0 if weekday is None else weekday}"


def next_run(schedule: Schedule, after: datetime | None = None) -> datetime:
    base = after or schedule.last_run or schedule.created_at
    return croniter(schedule.cron, base.astimezone(UTC)).get_next(datetime).astimezone(UTC)


def out(schedule: Schedule) -> dict[str, Any]:
    return {"id": schedule.id, "name": schedule.name, "type": schedule.type, "cron": schedule.cron,
            "backup_type": schedule.backup_type, "retention": schedule.retention, "enabled": schedule.enabled,
            "last_run": iso(schedule.last_run), "next_run": iso(next_run(schedule)) if schedule.enabled else None,
            "created_at": iso(schedule.created_at)}


async def tick(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cluster cron: start the backups that are due (once per cluster per tick)."""
    from ipv6wgm_backup import jobs

    now = datetime.fromtimestamp(ctx["cron_tick"], UTC) if "cron_tick" in ctx else utcnow()
    started = []
    for schedule in await Schedule.filter(enabled=True).order_by("id"):
        if next_run(schedule) > now:
            continue
        schedule.last_run = now
        await schedule.save(update_fields=["last_run", "updated_at"])
        entry = await jobs.new_archive(f"{schedule.name} {now.strftime('%Y-%m-%d %H:%M')}", schedule.backup_type,
                                       origin="scheduled", user_id=None, encrypted=False,
                                       metadata={"schedule": schedule.name}, schedule_id=schedule.id)
        await jobs.start("create", entry.id, user_id=None)
        started.append(entry.id)
    return {"started": started}


async def apply_retention(schedule_id: int) -> int:
    """Remove the schedule's completed backups beyond its retention; returns how many went."""
    schedule = await Schedule.filter(id=schedule_id).first()
    done = Archive.filter(schedule_id=schedule_id, status=COMPLETED)
    if schedule is not None and schedule.retention:
        old = (await done.order_by("-created_at", "-id"))[schedule.retention:]
    else:
        days = current().config.backup_retention
        old = await done.filter(created_at__lt=utcnow() - timedelta(days=days))
    for entry in old:
        await catalog.remove(entry)
    if old:
        log.info("backup retention removed %d backups of schedule %s", len(old), schedule_id)
    return len(old)
