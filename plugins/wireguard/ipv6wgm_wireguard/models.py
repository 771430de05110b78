"""Desired state (what should exist) and observed state (what the data plane reported).

Addresses are stored both as text and as an index inside the server's network; the index
carries the uniqueness constraint, which is what makes concurrent allocation safe.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class WireGuardServer(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    interface = fields.CharField(max_length=15)
    node_id = fields.CharField(max_length=64, db_index=True)
    listen_port = fields.IntField()
    ipv4_address = fields.CharField(max_length=64, null=True)
    ipv6_address = fields.CharField(max_length=64, null=True)
    public_key = fields.CharField(max_length=44)
    private_key_enc = fields.TextField()
    dns_servers = fields.JSONField(default=list)
    mtu = fields.IntField(null=True)
    endpoint = fields.CharField(max_length=255, null=True)
    # Without an endpoint (server or IPV6WGM_WIREGUARD_ENDPOINT): the node's primary address,
    # found by the node itself at creation and at every apply, and how it was found.
    endpoint_detected = fields.CharField(max_length=64, null=True)
    endpoint_detected_from = fields.CharField(max_length=128, null=True)
    persistent_keepalive = fields.IntField(null=True)
    is_active = fields.BooleanField(default=False)  # desired: interface up
    status = fields.CharField(max_length=16, default="stopped")  # observed: running/stopped/error
    status_detail = fields.CharField(max_length=512, null=True)
    started_at = fields.DatetimeField(null=True)
    stopped_at = fields.DatetimeField(null=True)
    next_v4 = fields.BigIntField(default=2)
    next_v6 = fields.BigIntField(default=2)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "wireguard_servers"
        unique_together = (("node_id", "interface"), ("node_id", "listen_port"))


class WireGuardClient(Model):
    id = fields.IntField(primary_key=True)
    server = fields.ForeignKeyField("wireguard.WireGuardServer", related_name="clients", on_delete=fields.RESTRICT)
    owner = fields.ForeignKeyField("core.User", related_name="wireguard_clients", null=True,
                                   on_delete=fields.SET_NULL)
    name = fields.CharField(max_length=64)
    description = fields.CharField(max_length=255, null=True)
    ipv4_address = fields.CharField(max_length=64, null=True)
    ipv6_address = fields.CharField(max_length=64, null=True)
    ipv4_index = fields.BigIntField(null=True)
    ipv6_index = fields.BigIntField(null=True)
    public_key = fields.CharField(max_length=44)
    private_key_enc = fields.TextField(null=True)  # None: bring-your-own key
    preshared_key_enc = fields.TextField(null=True)
    dns_servers = fields.JSONField(null=True)
    allowed_ips = fields.JSONField(default=list)  # what the client routes into the tunnel
    persistent_keepalive = fields.IntField(null=True)
    enabled = fields.BooleanField(default=True)
    # who switched ``enabled`` off: "owner" (may switch it back), "operator" (only holders of
    # wireguard.clients.write may), "owner_deleted" (kept after its owner was deleted)
    disabled_by = fields.CharField(max_length=16, null=True)
    quota_bytes = fields.BigIntField(null=True)
    expires_at = fields.DatetimeField(null=True)
    ipv6_pool_id = fields.IntField(null=True)
    ipv6_allocation_id = fields.IntField(null=True)
    delegated_prefix = fields.CharField(max_length=64, null=True)
    # observed
    last_handshake = fields.DatetimeField(null=True)
    bytes_received = fields.BigIntField(default=0)
    bytes_sent = fields.BigIntField(default=0)
    raw_rx = fields.BigIntField(default=0)
    raw_tx = fields.BigIntField(default=0)
    endpoint_observed = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "wireguard_clients"
        unique_together = (("server", "ipv4_index"), ("server", "ipv6_index"), ("server", "public_key"),
                           ("server", "name"))


class WireGuardClientTraffic(Model):
    """Bytes a client received and sent in one hour or one day (``resolution`` in seconds)."""

    id = fields.BigIntField(primary_key=True)
    client = fields.ForeignKeyField("wireguard.WireGuardClient", related_name="traffic", on_delete=fields.CASCADE)
    resolution = fields.IntField()
    bucket = fields.DatetimeField()  # start of the hour or day, UTC
    bytes_received = fields.BigIntField(default=0)
    bytes_sent = fields.BigIntField(default=0)

    class Meta:
        table = "wireguard_client_traffic"
        unique_together = (("client", "resolution", "bucket"),)
