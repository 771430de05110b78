"""Desired BGP state (the rows) plus the last observed state of each session.

ASNs are 4-byte unsigned, hence BigInt (MariaDB's INT is signed 32-bit). The MD5 password is
stored only encrypted (``password_enc``, AES-GCM) and never leaves the
API.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class BgpSession(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    description = fields.CharField(max_length=255, null=True)
    neighbor = fields.CharField(max_length=64)
    remote_as = fields.BigIntField()
    local_as = fields.BigIntField()
    password_enc = fields.TextField(null=True)
    source_address = fields.CharField(max_length=64, null=True)
    hold_time = fields.IntField(null=True)
    multihop = fields.IntField(null=True)
    import_limit = fields.BigIntField(null=True)
    import_policy = fields.CharField(max_length=8, default="all")
    enabled = fields.BooleanField(default=True)
    #: The node whose BIRD runs the session; None (rows from before placement, or no cluster
    #: plugin) means every node's BIRD runs it, as before.
    node_id = fields.CharField(max_length=64, null=True, db_index=True)
    # observed (written by bgp.collect_state)
    status = fields.CharField(max_length=16, default="idle")
    established_since = fields.DatetimeField(null=True)
    routes_received = fields.BigIntField(default=0)
    routes_advertised = fields.BigIntField(default=0)
    last_error = fields.CharField(max_length=255, null=True)
    last_update = fields.DatetimeField(null=True)
    started_at = fields.DatetimeField(null=True)
    stopped_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "bgp_sessions"


class BgpAnnouncement(Model):
    id = fields.IntField(primary_key=True)
    prefix = fields.CharField(max_length=64, unique=True)
    next_hop = fields.CharField(max_length=64, null=True)
    as_path = fields.CharField(max_length=400, default="")
    communities = fields.JSONField(default=list)
    large_communities = fields.JSONField(default=list)
    description = fields.CharField(max_length=255, null=True)
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "bgp_announcements"


class BgpNode(Model):
    """Heartbeat of the BIRD owner, so any process (an API process with Redis too) can tell
    whether BIRD answers without a round trip through the job queue."""

    id = fields.IntField(primary_key=True)
    node_id = fields.CharField(max_length=64, unique=True)
    bird_ok = fields.BooleanField(default=False)
    error = fields.CharField(max_length=500, null=True)
    last_seen = fields.DatetimeField()

    class Meta:
        table = "bgp_nodes"
