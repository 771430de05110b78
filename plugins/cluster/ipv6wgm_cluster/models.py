"""The cluster's shared truth, in the database every node already uses (MariaDB/Galera).

- ``ClusterNode``: one row per node, written by every process of the node (heartbeat) or by an
  operator (pre-registration, weight, drain).
- ``ClusterLease``: the leader lease; taken and renewed only by conditional UPDATE. ``epoch``
  grows by one at every change of holder and is the fencing token.
- ``ClusterCronTick``: one row per (cluster cron, tick), inserted by the leader under its lease
  before it runs the tick; the unique key makes a tick run at most once across the cluster.
- ``ClusterConfig``: the placement strategy and the round-robin counter (one row).
"""

from __future__ import annotations

from typing import ClassVar

from tortoise import fields
from tortoise.models import Model

STRATEGIES = ("round_robin", "least_connections", "weighted")


class ClusterNode(Model):
    id = fields.IntField(primary_key=True)
    node_id = fields.CharField(max_length=64, unique=True)
    host = fields.CharField(max_length=255)
    port = fields.IntField()
    capabilities = fields.JSONField(default=list)
    version = fields.CharField(max_length=32, default="")
    metadata = fields.JSONField(default=dict)
    weight = fields.IntField(default=1)
    drained = fields.BooleanField(default=False)
    #: wall-clock milliseconds of the last heartbeat (None: pre-registered, never seen)
    heartbeat_ms = fields.BigIntField(null=True)
    health_status = fields.CharField(max_length=16, null=True)
    health_detail = fields.CharField(max_length=255, null=True)
    health_checked_ms = fields.BigIntField(null=True)
    offline_since_ms = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "cluster_nodes"


class ClusterLease(Model):
    #: live state, never restored from a backup (an old epoch would unfence a stale leader)
    backup_excluded: ClassVar[bool] = True
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    holder = fields.CharField(max_length=64, null=True)
    token = fields.CharField(max_length=32, null=True)
    epoch = fields.BigIntField(default=0)
    expires_ms = fields.BigIntField(default=0)
    acquired_ms = fields.BigIntField(null=True)

    class Meta:
        table = "cluster_leases"


class ClusterCronTick(Model):
    #: live state, never restored from a backup (an old epoch would unfence a stale leader)
    backup_excluded: ClassVar[bool] = True
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=128)
    tick = fields.BigIntField()
    epoch = fields.BigIntField()
    node_id = fields.CharField(max_length=64)
    ran_ms = fields.BigIntField()

    class Meta:
        table = "cluster_cron_ticks"
        unique_together = (("name", "tick"),)


class ClusterConfig(Model):
    id = fields.IntField(primary_key=True)
    strategy = fields.CharField(max_length=32, default="round_robin")
    rr_counter = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "cluster_config"
