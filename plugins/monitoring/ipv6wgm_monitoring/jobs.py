"""Crons and jobs of the monitoring plugin (registered in ``plugin.py``).

The samplers stamp points with the tick's scheduled time (``ctx["cron_tick"]``), not the moment
the run started, so every series of a tick shares one timestamp and a tick that runs late does
not smear the series.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from arq.worker import Retry

from ipv6wgm_monitoring import alerts, sampling, store
from ipv6wgm_monitoring.models import Alert
from ipv6wgm_monitoring.notify import DeliveryFailed, deliver, record
from ipv6wgm_monitoring.settings import get_settings

log = logging.getLogger(__name__)


def _tick(ctx: dict[str, Any]) -> int:
    return int(ctx.get("cron_tick") or time.time())


async def sample_node(ctx: dict[str, Any]) -> int:
    return await sampling.sample_node(_tick(ctx))


async def sample_cluster(ctx: dict[str, Any]) -> int:
    return await sampling.sample_cluster(_tick(ctx))


async def evaluate(ctx: dict[str, Any]) -> dict[str, int]:
    return await alerts.evaluate()


async def rollup(ctx: dict[str, Any]) -> dict[str, int]:
    """Rollups and retention of series; resolved alerts past their retention go too."""
    from datetime import timedelta

    from ipv6wgm.api import utcnow
    from ipv6wgm_monitoring.models import RESOLVED

    out = await store.rollup(int(time.time()))
    cutoff = utcnow() - timedelta(days=get_settings().alert_retention_days)
    out["alerts_deleted"] = await Alert.filter(status=RESOLVED, resolved_at__lt=cutoff).delete()
    return out


async def notify(ctx: dict[str, Any], notifier_id: int, event: str, body: dict[str, Any], delivery: str) -> str:
    """Deliver one notification to one target; a passing failure is retried with doubling waits
    (1, 2, 4 ... s) up to ``IPV6WGM_MONITORING_WEBHOOK_ATTEMPTS`` attempts."""
    from ipv6wgm_monitoring.models import Notifier

    notifier = await Notifier.filter(id=notifier_id).first()
    if notifier is None or not notifier.enabled:
        return "skipped"
    attempt = int(ctx.get("job_try") or 1)
    try:
        await deliver(notifier, event, body, delivery)
    except DeliveryFailed as exc:
        await record(notifier_id, str(exc))
        if exc.retry and attempt < get_settings().webhook_attempts:
            log.info("notification to %s failed (attempt %d), retrying: %s", notifier.name, attempt, exc)
            raise Retry(defer=2 ** (attempt - 1)) from None
        log.warning("notification to %s failed for good after %d attempt(s): %s", notifier.name, attempt, exc)
        return "failed"
    await record(notifier_id, None)
    return "delivered"
