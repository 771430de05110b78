"""Where an alert transition goes: the WebSocket channel, the log, and each configured target.

Targets (``Notifier`` rows, configured by admins) are delivered by the ``monitoring.notify`` job,
so a slow or dead receiver never delays the alert engine. A webhook is a JSON POST:

    X-Ipv6wgm-Event:     alert.active | alert.resolved | test
    X-Ipv6wgm-Delivery:  unique id of this delivery (the same on every retry)
    X-Ipv6wgm-Timestamp: epoch seconds when this attempt was signed
    X-Ipv6wgm-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

Receivers recompute the HMAC over the raw body and reject old timestamps (replays). Redirects
are never followed (the answer counts as a failure: a redirect could point the signed alert at
another host), each attempt has a timeout, and failures that may pass (timeouts, connection
errors, 408/429/5xx) are retried with doubling waits; other answers are final. ``apprise``
targets (e-mail, chat: any apprise URL) get a title and a text body.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from typing import Any

import httpx
import orjson

from ipv6wgm.api import utcnow
from ipv6wgm.runtime import current
from ipv6wgm_monitoring.models import LEVELS, Notifier
from ipv6wgm_monitoring.settings import get_settings

log = logging.getLogger("ipv6wgm_monitoring.alerts")
USER_AGENT = "ipv6wgm-monitoring/0.1"
RETRY_STATUSES = {408, 425, 429}
URL_AAD, SECRET_AAD = "monitoring.notifier.url", "monitoring.notifier.secret"
LOG_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR, "critical": logging.CRITICAL}


class DeliveryFailed(Exception):
    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def level_at_least(level: str, minimum: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(minimum) if level in LEVELS and minimum in LEVELS else True


async def announce(alert: dict[str, Any], event: str) -> None:
    """Publish an alert transition on the channel, in the log, and to every matching target."""
    rt = current()
    await rt.hub.publish("monitoring", "monitoring_alert", alert)
    where = f" on {alert['node']}" if alert.get("node") else ""
    log.log(LOG_LEVELS.get(alert["level"], logging.WARNING) if event == "alert.active" else logging.INFO,
            "alert %s %s: %s%s (%s %s %s, value %s)", alert["id"], alert["status"], alert["name"], where,
            alert["metric_name"], alert["condition"], alert["threshold_value"], alert["current_value"])
    body = {"event": event, "alert": alert}
    for notifier_id, minimum in await Notifier.filter(enabled=True).values_list("id", "min_level"):
        if level_at_least(alert["level"], minimum):
            try:
                await rt.jobs.enqueue("monitoring.notify", notifier_id, event, body, uuid.uuid4().hex)
            except ConnectionError as exc:
                log.warning("could not queue notification for target %s: %s", notifier_id, exc)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


async def post_webhook(url: str, secret: str, event: str, body: dict[str, Any], delivery: str) -> int:
    payload = orjson.dumps({**body, "delivery": delivery, "sent_at": utcnow().isoformat().replace("+00:00", "Z")})
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Ipv6wgm-Event": event,
               "X-Ipv6wgm-Delivery": delivery, "X-Ipv6wgm-Timestamp": str(timestamp),
               "X-Ipv6wgm-Signature": sign(secret, timestamp, payload)}
    timeout = get_settings().webhook_timeout
    try:
        async with httpx.AsyncClient(follow_redirects=False, timeout=timeout, trust_env=False) as client:
            response = await client.post(url, content=payload, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}"[:200], retry=True) from None
    status = response.status_code
    if 200 <= status < 300:
        return status
    if 300 <= status < 400:
        raise DeliveryFailed(f"HTTP {status}: redirects are not followed", retry=False)
    raise DeliveryFailed(f"HTTP {status}", retry=status >= 500 or status in RETRY_STATUSES)


def apprise_text(event: str, body: dict[str, Any]) -> tuple[str, str]:
    alert = body.get("alert") or {}
    if event == "test":
        return "IPv6 WireGuard Manager: test notification", "This target receives alert notifications."
    title = f"[{str(alert.get('level', '')).upper()}] {alert.get('name')} {alert.get('status')}"
    where = f" on node {alert['node']}" if alert.get("node") else ""
    text = (f"{alert.get('metric_name')} {alert.get('condition')} {alert.get('threshold_value')}{where}: "
            f"current value {alert.get('current_value')} (alert {alert.get('id')})")
    return title, text


async def send_apprise(url: str, event: str, body: dict[str, Any]) -> None:
    import apprise

    target = apprise.Apprise()
    if not target.add(url):
        raise DeliveryFailed("apprise does not accept this URL", retry=False)
    title, text = apprise_text(event, body)
    level = (body.get("alert") or {}).get("level", "info")
    kind = {"info": apprise.NotifyType.INFO, "warning": apprise.NotifyType.WARNING}.get(
        level, apprise.NotifyType.FAILURE)
    if (body.get("alert") or {}).get("status") == "resolved":
        kind = apprise.NotifyType.SUCCESS
    if not await target.async_notify(body=text, title=title, notify_type=kind):
        raise DeliveryFailed("apprise reported a failed delivery", retry=True)


async def deliver(notifier: Notifier, event: str, body: dict[str, Any], delivery: str) -> None:
    """One attempt to one target; raises DeliveryFailed."""
    box = current().secrets
    url = box.decrypt(notifier.url_enc, aad=URL_AAD)
    if notifier.kind == "webhook":
        secret = box.decrypt(notifier.secret_enc or "", aad=SECRET_AAD)
        await post_webhook(url, secret, event, body, delivery)
    else:
        await send_apprise(url, event, body)


async def record(notifier_id: int, error: str | None) -> None:
    await Notifier.filter(id=notifier_id).update(
        last_attempt_at=utcnow(), last_status="failed" if error else "delivered", last_error=(error or None))
