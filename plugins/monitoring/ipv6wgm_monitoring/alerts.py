"""The alert engine: rules against the latest snapshot of every node, once per cluster tick.

One alert per rule and series. A breach starts it ``pending``; once the breach has lasted the
rule's ``for_seconds`` it becomes ``active`` (firing) and is notified; when the value no longer
breaches (or the series falls silent) it is ``resolved`` and notified again. A pending alert whose
breach ends before ``for_seconds`` is dropped silently. After a resolution the same rule and
series raise nothing for ``cooldown_minutes``, so a flapping value notifies once.

All state is in the database (the alert rows), so a restart, or the next tick running on another
node, carries on where the previous one stopped. Every transition is a conditional update
(``WHERE status = <expected>``): an operator resolving an alert by hand while a tick runs wins
cleanly, and no transition is notified twice.
"""

from __future__ import annotations

import logging
import operator
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from ipv6wgm.api import iso, utcnow
from ipv6wgm_monitoring import notify, sampling
from ipv6wgm_monitoring.models import ACTIVE, CLUSTER, PENDING, RESOLVED, Alert, AlertRule

log = logging.getLogger(__name__)
OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq,
       "!=": operator.ne}


def alert_out(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id, "rule_id": alert.rule_id, "name": alert.name, "description": alert.description,
        "level": alert.level, "status": alert.status, "metric_name": alert.metric_name,
        "condition": alert.comparison, "threshold_value": alert.threshold_value,
        "current_value": alert.current_value, "node": None if alert.node == CLUSTER else alert.node,
        "tags": alert.tags or {}, "started_at": iso(alert.started_at), "fired_at": iso(alert.fired_at),
        "resolved_at": iso(alert.resolved_at), "resolution": alert.resolution, "resolved_by": alert.resolved_by,
        "acknowledged": alert.acknowledged_at is not None, "acknowledged_at": iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by, "created_at": iso(alert.created_at),
        "updated_at": iso(alert.updated_at),
    }


def matches(rule_tags: dict[str, str], node: str, tags: dict[str, str]) -> bool:
    for key, value in (rule_tags or {}).items():
        have = (None if node == CLUSTER else node) if key == "node" else tags.get(key)
        if have != value:
            return False
    return True


async def transition(alert: Alert, expected: str, event: str | None, **changes: Any) -> bool:
    """Move ``alert`` from ``expected`` to ``changes`` if nobody moved it first; then notify."""
    changes["updated_at"] = utcnow()
    if not await Alert.filter(id=alert.id, status=expected).update(**changes):
        return False
    for key, value in changes.items():
        setattr(alert, key, value)
    if event is not None:
        await notify.announce(alert_out(alert), event)
    return True


async def _open(rule: AlertRule, key: str, node: str, tags: dict[str, str], value: float, now: datetime) -> Alert:
    stamp = now.strftime("%Y%m%d_%H%M%S")
    fields = {"rule_id": rule.id, "series_key": key, "name": rule.name, "description": rule.description,
              "level": rule.level, "metric_name": rule.metric_name, "comparison": rule.comparison,
              "threshold_value": rule.threshold, "current_value": value, "node": node,
              "tags": {k: v for k, v in tags.items()}, "status": PENDING, "started_at": now}
    for n in range(1, 100):
        alert_id = f"{rule.id}_{stamp}" if n == 1 else f"{rule.id}_{stamp}_{n}"
        try:
            return await Alert.create(id=alert_id, **fields)
        except IntegrityError:
            continue
    raise RuntimeError(f"no free alert id for rule {rule.id}")


async def evaluate(now: datetime | None = None) -> dict[str, int]:
    """One pass over every enabled rule; returns counts of what happened."""
    now = now or utcnow()
    counts = {"rules": 0, "pending": 0, "fired": 0, "resolved": 0, "dropped": 0}
    by_name: dict[str, list[tuple[str, str, dict[str, str], float]]] = defaultdict(list)
    for snap in await sampling.snapshots(fresh_only=True):
        for name, tags, value, _unit, key in snap.samples:
            if key is not None:
                by_name[name].append((key, snap.node, tags, float(value)))
    open_alerts: dict[str, dict[str, Alert]] = defaultdict(dict)
    for alert in await Alert.filter(status__in=(PENDING, ACTIVE)):
        open_alerts[alert.rule_id][alert.series_key] = alert
    rules = {r.id: r for r in await AlertRule.filter(enabled=True)}
    for rule_id in set(open_alerts) - set(rules):  # rule disabled or deleted meanwhile
        for alert in open_alerts.pop(rule_id).values():
            await close(alert, "rule disabled", None, now)
    for rule in rules.values():
        counts["rules"] += 1
        await _evaluate_rule(rule, by_name.get(rule.metric_name, []), open_alerts.get(rule.id, {}), now, counts)
    return counts


async def _evaluate_rule(rule: AlertRule, series: list[tuple[str, str, dict[str, str], float]],
                         existing: dict[str, Alert], now: datetime, counts: dict[str, int]) -> None:
    compare = OPS[rule.comparison]
    seen: dict[str, tuple[str, dict[str, str], float]] = {}
    breaching: set[str] = set()
    for key, node, tags, value in series:
        if matches(rule.tags, node, tags):
            seen[key] = (node, tags, value)
            if compare(value, rule.threshold):
                breaching.add(key)
    for key, alert in existing.items():
        if key in breaching:
            value = seen[key][2]
            held = (now - alert.started_at).total_seconds()
            if alert.status == PENDING and held >= rule.for_seconds:
                if await transition(alert, PENDING, "alert.active", status=ACTIVE, fired_at=now, current_value=value):
                    counts["fired"] += 1
            elif alert.current_value != value:
                await Alert.filter(id=alert.id, status=alert.status).update(current_value=value, updated_at=now)
        elif alert.status == PENDING:
            await Alert.filter(id=alert.id, status=PENDING).delete()
            counts["dropped"] += 1
        else:
            value = seen[key][2] if key in seen else None
            if await close(alert, "cleared" if key in seen else "no data", value, now):
                counts["resolved"] += 1
    fresh = breaching - set(existing)
    if not fresh:
        return
    since = now - timedelta(minutes=rule.cooldown_minutes)
    cooling = set(await Alert.filter(rule_id=rule.id, status=RESOLVED, resolved_at__gte=since)
                  .values_list("series_key", flat=True)) if rule.cooldown_minutes else set()
    for key in sorted(fresh - cooling):
        node, tags, value = seen[key]
        alert = await _open(rule, key, node, tags, value, now)
        counts["pending"] += 1
        if rule.for_seconds <= 0 and await transition(alert, PENDING, "alert.active", status=ACTIVE, fired_at=now):
            counts["fired"] += 1


async def close(alert: Alert, resolution: str, value: float | None, now: datetime,
                by: str | None = None) -> bool:
    """Resolve an open alert (a pending one is simply dropped: it was never notified)."""
    if alert.status == PENDING:
        await Alert.filter(id=alert.id, status=PENDING).delete()
        return False
    changes: dict[str, Any] = {"status": RESOLVED, "resolved_at": now, "resolution": resolution, "resolved_by": by}
    if value is not None:
        changes["current_value"] = value
    return await transition(alert, ACTIVE, "alert.resolved", **changes)


async def close_rule(rule_id: str, resolution: str, by: str | None) -> int:
    """Resolve every open alert of a rule (disabled, deleted, or changed so it no longer applies)."""
    now = utcnow()
    closed = 0
    for alert in await Alert.filter(rule_id=rule_id, status__in=(PENDING, ACTIVE)):
        closed += await close(alert, resolution, None, now, by)
    return closed


async def counts() -> dict[str, int]:
    """The dashboard's ``alerts`` block: active alerts by level, from the alert table."""
    rows = await Alert.filter(status__in=(PENDING, ACTIVE)).values_list("status", "level", "acknowledged_at")
    active = [(level, ack) for status, level, ack in rows if status == ACTIVE]
    out = {"active": len(active), "pending": sum(1 for s, _, _ in rows if s == PENDING),
           "acknowledged": sum(1 for _, ack in active if ack is not None)}
    for level in ("critical", "error", "warning", "info"):
        out[level] = sum(1 for lv, _ in active if lv == level)
    return out
