"""Tables of the monitoring plugin.

Time series are stored as integers and floats only (epoch seconds, double values), so SQLite and
MariaDB store and compare them alike and a point costs a few dozen bytes. Points and rollups
carry a plain ``series_id`` (no foreign key): they are written in bulk every few seconds and
deleted by time, and a constraint check per row would buy nothing.

Every series belongs to one node (``node``; ``*`` for cluster-wide series such as pool
utilization that no single node owns), so two nodes never write the same series.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

#: ``Series.node`` of a cluster-wide series (metrics of shared rows, not of one node's host).
CLUSTER = "*"
LEVELS = ("info", "warning", "error", "critical")
CONDITIONS = (">", ">=", "<", "<=", "==", "!=")
PENDING, ACTIVE, RESOLVED = "pending", "active", "resolved"


class Series(Model):
    id = fields.IntField(primary_key=True)
    key_hash = fields.CharField(max_length=40, unique=True)  # sha1 of node, name and canonical tags
    node = fields.CharField(max_length=64, db_index=True)
    name = fields.CharField(max_length=128, db_index=True)
    tags = fields.JSONField(default=dict)
    unit = fields.CharField(max_length=16, default="")
    last_seen = fields.BigIntField(default=0)  # epoch seconds, refreshed every few minutes
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "monitoring_series"


class Point(Model):
    """A raw sample, kept ``raw_retention_hours``."""

    id = fields.BigIntField(primary_key=True)
    series_id = fields.IntField()
    ts = fields.BigIntField()
    v = fields.FloatField()

    class Meta:
        table = "monitoring_points"
        indexes = [Index(fields=["series_id", "ts", "v"]), Index(fields=["ts"])]


class Rollup(Model):
    """Aggregate of one series over ``[ts, ts + res)``: 60 s from points, 3600 s from minutes."""

    id = fields.BigIntField(primary_key=True)
    series_id = fields.IntField()
    res = fields.IntField()
    ts = fields.BigIntField()
    n = fields.IntField()
    total = fields.FloatField()
    vmin = fields.FloatField()
    vmax = fields.FloatField()

    class Meta:
        table = "monitoring_rollups"
        unique_together = (("series_id", "res", "ts"),)
        indexes = [Index(fields=["res", "ts"])]


class RollupState(Model):
    """Up to where (exclusive, epoch seconds) the rollups of one resolution are complete."""

    res = fields.IntField(primary_key=True, generated=False)
    done_until = fields.BigIntField(default=0)

    class Meta:
        table = "monitoring_rollup_state"


class Snapshot(Model):
    """The latest sample of every series of one node, for /metrics, the dashboard and alerts."""

    node = fields.CharField(max_length=64, primary_key=True)
    taken_at = fields.BigIntField()
    payload = fields.TextField()

    class Meta:
        table = "monitoring_snapshots"


class AlertRule(Model):
    id = fields.CharField(max_length=64, primary_key=True)
    name = fields.CharField(max_length=128)
    description = fields.CharField(max_length=255, default="")
    metric_name = fields.CharField(max_length=128)
    comparison = fields.CharField(max_length=2)  # "condition" is a reserved word in MariaDB
    threshold = fields.FloatField()
    level = fields.CharField(max_length=8)
    enabled = fields.BooleanField(default=True)
    for_seconds = fields.IntField(default=0)
    cooldown_minutes = fields.IntField(default=5)
    tags = fields.JSONField(default=dict)
    builtin = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "monitoring_alert_rules"


class Alert(Model):
    """One breach of one rule on one series: pending -> active -> resolved.

    The rule's name, level and threshold are copied in, so history stays readable after the
    rule changes or goes.
    """

    id = fields.CharField(max_length=96, primary_key=True)
    rule_id = fields.CharField(max_length=64)
    series_key = fields.CharField(max_length=40)
    name = fields.CharField(max_length=128)
    description = fields.CharField(max_length=255, default="")
    level = fields.CharField(max_length=8)
    metric_name = fields.CharField(max_length=128)
    comparison = fields.CharField(max_length=2)  # "condition" is a reserved word in MariaDB
    threshold_value = fields.FloatField()
    current_value = fields.FloatField(null=True)
    node = fields.CharField(max_length=64)
    tags = fields.JSONField(default=dict)
    status = fields.CharField(max_length=10)
    started_at = fields.DatetimeField()
    fired_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    resolution = fields.CharField(max_length=32, null=True)
    resolved_by = fields.CharField(max_length=64, null=True)
    acknowledged_at = fields.DatetimeField(null=True)
    acknowledged_by = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "monitoring_alerts"
        indexes = [Index(fields=["status", "level"]), Index(fields=["rule_id", "series_key", "status"]),
                   Index(fields=["created_at"])]


class Notifier(Model):
    """Where alerts are sent besides the WebSocket channel and the log (admin-configured).

    ``kind`` is ``webhook`` (a JSON POST signed with HMAC-SHA256) or ``apprise`` (any target
    apprise knows: e-mail, chat). URL and secret are encrypted at rest: both may carry
    credentials.
    """

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    kind = fields.CharField(max_length=16)
    url_enc = fields.TextField()
    url_hint = fields.CharField(max_length=255)
    secret_enc = fields.TextField(null=True)
    min_level = fields.CharField(max_length=8, default="info")
    enabled = fields.BooleanField(default=True)
    last_attempt_at = fields.DatetimeField(null=True)
    last_status = fields.CharField(max_length=16, null=True)
    last_error = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "monitoring_notifiers"
