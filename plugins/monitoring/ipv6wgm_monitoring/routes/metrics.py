"""/monitoring/dashboard and the stored series (/monitoring/metrics...)."""

from __future__ import annotations

import time

from quart import Blueprint
from quart_schema import document_response, validate_querystring

from ipv6wgm.api import Envelope, invalid, ok
from ipv6wgm.runtime import current
from ipv6wgm.security.rbac import require
from ipv6wgm_monitoring import dashboard, store
from ipv6wgm_monitoring.models import CLUSTER, Series
from ipv6wgm_monitoring.schemas import (
    Dashboard,
    DashboardQuery,
    MetricName,
    MetricsOut,
    MetricsQuery,
    MetricsSystemQuery,
    SystemPoint,
)
from ipv6wgm_monitoring.timefmt import iso_epoch, parse_duration, parse_time

bp = Blueprint("monitoring", __name__)


@bp.get("/dashboard")
@require("monitoring.read")
@validate_querystring(DashboardQuery)
@document_response(Envelope[Dashboard])
async def get_dashboard(query_args: DashboardQuery):
    """Host, database pool, cache and alert figures of one node (default: this process's node)."""
    return ok(await dashboard.dashboard(query_args.node or current().settings.node_id))


@bp.get("/metrics/system")
@require("monitoring.read")
@validate_querystring(MetricsSystemQuery)
@document_response(Envelope[list[SystemPoint]])
async def system_metrics(query_args: MetricsSystemQuery):
    """Host metrics (``system.*``) of the last ``hours`` hours, every node (or one), about 300
    points per series; ``value`` is the bucket's mean, ``metadata`` holds min, max and unit."""
    now = int(time.time())
    win = store.window(now - query_args.hours * 3600, now, None, now)
    tags = {"node": query_args.node} if query_args.node and query_args.node != CLUSTER else {}
    rows = await store.find_series(prefix="system.", tags=tags)
    data = await store.read_series(rows, win)
    out = []
    for row in rows:
        tags_out = {"type": "system", **row.public_tags()}
        for bucket, (n, total, vmin, vmax) in sorted(data.get(row.id, {}).items()):
            out.append({"name": row.name, "value": round(total / n, 6), "timestamp": iso_epoch(bucket),
                        "tags": tags_out, "metadata": {"unit": row.unit, "min": vmin, "max": vmax,
                                                       "step": win.step}})
    return ok(out)


def _tags(text: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in (text or "").split(","):
        if pair:
            key, _, value = pair.partition(":")
            if key in out:
                raise invalid("tags", f"tag {key!r} given twice")
            out[key] = value
    return out


@bp.get("/metrics")
@require("monitoring.read")
@validate_querystring(MetricsQuery)
@document_response(Envelope[MetricsOut])
async def query_metrics(query_args: MetricsQuery):
    """Any stored series: every series of ``name`` whose tags include ``tags``, in buckets of
    ``step`` (mean, min, max, count). The coarsest stored resolution that answers is read."""
    now = int(time.time())
    try:
        end = parse_time(query_args.end) if query_args.end else now
    except ValueError as exc:
        raise invalid("to", str(exc)) from None
    try:
        start = parse_time(query_args.start) if query_args.start else end - 3600
    except ValueError as exc:
        raise invalid("from", str(exc)) from None
    try:
        step = parse_duration(query_args.step) if query_args.step else None
    except ValueError as exc:
        raise invalid("step", str(exc)) from None
    return ok(await store.query(query_args.name, _tags(query_args.tags), start, end, step))


@bp.get("/metrics/names")
@require("monitoring.read")
@document_response(Envelope[list[MetricName]])
async def metric_names():
    """Every stored metric name, its unit and how many series (nodes, tag sets) it has."""
    from tortoise.functions import Count

    rows = await Series.all().group_by("name", "unit").annotate(series=Count("id")).order_by("name") \
        .values_list("name", "unit", "series")
    return ok([{"name": n, "unit": u, "series": c} for n, u, c in rows])
