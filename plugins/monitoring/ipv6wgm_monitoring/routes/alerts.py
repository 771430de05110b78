"""/monitoring/alerts: history, active alerts, acknowledge and resolve; /monitoring/alerts/rules."""

from __future__ import annotations

import re
import secrets
from typing import Any

from quart import Blueprint
from quart_schema import document_response, validate_querystring, validate_request
from tortoise.exceptions import IntegrityError

from ipv6wgm.api import Envelope, MessageEnvelope, conflict, invalid, iso, not_found, ok, paginate, utcnow
from ipv6wgm.runtime import current
from ipv6wgm.security.rbac import current_principal, require
from ipv6wgm_monitoring import alerts, host, sampling
from ipv6wgm_monitoring.models import ACTIVE, PENDING, RESOLVED, Alert, AlertRule, Series
from ipv6wgm_monitoring.schemas import (
    ALERT_ID,
    RULE_ID,
    ActiveQuery,
    AlertAction,
    AlertList,
    AlertOut,
    AlertQuery,
    RuleCreate,
    RuleList,
    RuleOut,
    RuleQuery,
    RuleUpdate,
)

bp = Blueprint("monitoring_alerts", __name__)


def rule_out(rule: AlertRule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "description": rule.description, "metric_name": rule.metric_name,
            "condition": rule.comparison, "threshold": rule.threshold, "level": rule.level, "enabled": rule.enabled,
            "for_seconds": rule.for_seconds, "cooldown_minutes": rule.cooldown_minutes, "tags": rule.tags or {},
            "builtin": rule.builtin, "created_at": iso(rule.created_at), "updated_at": iso(rule.updated_at)}


async def known_metric(name: str) -> bool:
    """A metric exists when the host sampler produces it, a series of it is stored, or a node's
    latest snapshot holds it (e.g. per-peer WireGuard metrics, which are not stored)."""
    if name in host.UNITS or await Series.filter(name=name).exists():
        return True
    return any(s[0] == name for snap in await sampling.snapshots() for s in snap.samples)


async def _check_metric(name: str) -> None:
    if not await known_metric(name):
        raise invalid("metric_name", f"unknown metric {name!r}: see GET /monitoring/metrics/names")


def _by() -> str:
    return str(current_principal().user.username)


# ---- alerts ----------------------------------------------------------------------------------


@bp.get("/alerts")
@require("monitoring.read")
@validate_querystring(AlertQuery)
@document_response(Envelope[AlertList])
async def list_alerts(query_args: AlertQuery):
    """Alert history, newest first, filtered by status, level, rule, metric, node,
    acknowledgement and creation time."""
    q = query_args
    qs = Alert.all().order_by("-created_at", "-id")
    for key in ("status", "level", "rule_id", "metric_name"):
        if getattr(q, key) is not None:
            qs = qs.filter(**{key: getattr(q, key)})
    if q.node is not None:
        qs = qs.filter(node=q.node)
    if q.acknowledged is not None:
        qs = qs.filter(acknowledged_at__isnull=not q.acknowledged)
    if q.since is not None:
        qs = qs.filter(created_at__gte=q.since)
    if q.until is not None:
        qs = qs.filter(created_at__lte=q.until)
    rows, page = await paginate(qs, q)
    return ok({"alerts": [alerts.alert_out(a) for a in rows], "pagination": page})


@bp.get("/alerts/active")
@require("monitoring.read")
@validate_querystring(ActiveQuery)
@document_response(Envelope[list[AlertOut]])
async def active_alerts(query_args: ActiveQuery):
    """Firing alerts (with ``include_pending``, also those waiting out their rule's ``for``)."""
    statuses = (ACTIVE, PENDING) if query_args.include_pending else (ACTIVE,)
    qs = Alert.filter(status__in=statuses).order_by("-started_at", "id")
    if query_args.level:
        qs = qs.filter(level=query_args.level)
    return ok([alerts.alert_out(a) for a in await qs.limit(1000)])


async def _lookup(model: Any, pattern: str, key: str, what: str) -> Any:
    """The row with this string id; 404 for a missing one and for an id that cannot exist."""
    row = await model.filter(id=key).first() if re.fullmatch(pattern[1:-1], key) else None
    if row is None:
        raise not_found(what)
    return row


async def _alert(alert_id: str) -> Alert:
    return await _lookup(Alert, ALERT_ID, alert_id, "alert")


@bp.get("/alerts/<alert_id>")
@require("monitoring.read")
@document_response(Envelope[AlertOut])
async def get_alert(alert_id: str):
    """One alert."""
    return ok(alerts.alert_out(await _alert(alert_id)))


@bp.post("/alerts/<alert_id>/acknowledge")
@require("monitoring.write")
@validate_request(AlertAction)
@document_response(Envelope[AlertOut])
async def acknowledge(alert_id: str, data: AlertAction):
    """Mark an open alert as seen (idempotent); 409 for a resolved one. Told on the channel."""
    alert = await _alert(alert_id)
    if alert.status == RESOLVED:
        raise conflict("the alert is resolved", status=alert.status)
    if alert.acknowledged_at is None:
        now = utcnow()
        if await Alert.filter(id=alert.id, acknowledged_at__isnull=True).exclude(status=RESOLVED).update(
                acknowledged_at=now, acknowledged_by=_by(), updated_at=now):
            alert = await _alert(alert_id)
            await current().hub.publish("monitoring", "monitoring_alert", alerts.alert_out(alert))
        else:
            alert = await _alert(alert_id)
    return ok(alerts.alert_out(alert), "alert acknowledged")


@bp.post("/alerts/<alert_id>/resolve")
@require("monitoring.write")
@validate_request(AlertAction)
@document_response(Envelope[AlertOut])
async def resolve(alert_id: str, data: AlertAction):
    """Resolve an open alert by hand (notified like an automatic resolution); its rule's cooldown
    starts now. 409 if it is resolved already."""
    alert = await _alert(alert_id)
    now = utcnow()
    changes = {"status": RESOLVED, "resolved_at": now, "resolution": "manual", "resolved_by": _by()}
    done = False
    if alert.status == ACTIVE:
        done = await alerts.transition(alert, ACTIVE, "alert.resolved", **changes)
    elif alert.status == PENDING:
        done = await alerts.transition(alert, PENDING, None, **changes)
    if not done:
        raise conflict("the alert is resolved already", status=RESOLVED)
    return ok(alerts.alert_out(await _alert(alert_id)), "alert resolved")


# ---- rules -----------------------------------------------------------------------------------


@bp.get("/alerts/rules")
@require("monitoring.read")
@validate_querystring(RuleQuery)
@document_response(Envelope[RuleList])
async def list_rules(query_args: RuleQuery):
    """Alert rules, built-in ones included (they can be disabled or changed like any other)."""
    qs = AlertRule.all().order_by("id")
    if query_args.enabled is not None:
        qs = qs.filter(enabled=query_args.enabled)
    if query_args.metric_name is not None:
        qs = qs.filter(metric_name=query_args.metric_name)
    rows, page = await paginate(qs, query_args)
    return ok({"rules": [rule_out(r) for r in rows], "pagination": page})


@bp.post("/alerts/rules")
@require("monitoring.write")
@validate_request(RuleCreate)
@document_response(Envelope[RuleOut], 201)
async def create_rule(data: RuleCreate):
    """Create a rule. 422 for an unknown metric, 409 if the id is taken."""
    await _check_metric(data.metric_name)
    rule_id = data.id or f"rule_{secrets.token_hex(4)}"
    fields = data.model_dump(exclude={"id", "condition"})
    try:
        if await AlertRule.filter(id=rule_id).exists():
            raise IntegrityError(rule_id)
        rule = await AlertRule.create(id=rule_id, comparison=data.condition, **fields)
    except IntegrityError:
        raise conflict(f"a rule with id {rule_id!r} exists", field="id") from None
    return ok(rule_out(rule), "alert rule created", 201)


async def _rule(rule_id: str) -> AlertRule:
    return await _lookup(AlertRule, RULE_ID, rule_id, "alert rule")


@bp.get("/alerts/rules/<rule_id>")
@require("monitoring.read")
@document_response(Envelope[RuleOut])
async def get_rule(rule_id: str):
    """One rule."""
    return ok(rule_out(await _rule(rule_id)))


@bp.put("/alerts/rules/<rule_id>")
@require("monitoring.write")
@validate_request(RuleUpdate)
@document_response(Envelope[RuleOut])
async def update_rule(rule_id: str, data: RuleUpdate):
    """Change any field but the id. Disabling resolves the rule's open alerts; other changes
    apply from the next evaluation (an alert no longer breaching then resolves)."""
    rule = await _rule(rule_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if "metric_name" in changes and changes["metric_name"] != rule.metric_name:
        await _check_metric(changes["metric_name"])
    if "condition" in changes:
        changes["comparison"] = changes.pop("condition")
    if changes:
        await AlertRule.filter(id=rule.id).update(**changes, updated_at=utcnow())
    if changes.get("enabled") is False:
        await alerts.close_rule(rule.id, "rule disabled", _by())
    return ok(rule_out(await _rule(rule_id)), "alert rule updated")


@bp.delete("/alerts/rules/<rule_id>")
@require("monitoring.write")
@document_response(MessageEnvelope)
async def delete_rule(rule_id: str):
    """Delete a rule (built-in ones too: they are not re-created); its open alerts resolve,
    its history stays."""
    rule = await _rule(rule_id)
    await AlertRule.filter(id=rule.id).delete()
    await alerts.close_rule(rule.id, "rule deleted", _by())
    return ok(None, "alert rule deleted")

