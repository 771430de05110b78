"""Pools, allocations and reservations.

An allocation is a *slot* (an index inside its pool), made unique per pool by the database, so
two racing allocators can never hand out the same prefix even if every other guard failed. The
pool row carries the counters and the allocator's ``next_hint``; it is also the row that is
locked (``SELECT … FOR UPDATE``) while one allocation is decided.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

ACTIVE = "active"
QUARANTINED = "quarantined"
DISABLED = "disabled"
RELEASED = "released"  # only ever in answers: a released slot without quarantine is deleted


class Pool(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=43)
    prefix_length = fields.IntField()
    description = fields.CharField(max_length=255, default="")
    status = fields.CharField(max_length=16, default=ACTIVE)
    announce = fields.BooleanField(default=False)
    # Allocator state and counters, changed only while the row is locked.
    next_hint = fields.BigIntField(default=0)
    allocated_count = fields.BigIntField(default=0)
    quarantined_count = fields.BigIntField(default=0)
    reserved_count = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ipv6_pools"


class Allocation(Model):
    id = fields.IntField(primary_key=True)
    pool = fields.ForeignKeyField("ipv6.Pool", related_name="allocations", on_delete=fields.CASCADE)
    slot = fields.BigIntField()
    prefix = fields.CharField(max_length=43)
    client_name = fields.CharField(max_length=128)
    description = fields.CharField(max_length=255, default="")
    holder = fields.CharField(max_length=128, null=True, db_index=True)
    owner = fields.ForeignKeyField(
        "core.User", related_name="ipv6_allocations", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharField(max_length=16, default=ACTIVE)
    allocated_at = fields.DatetimeField(auto_now_add=True)
    released_at = fields.DatetimeField(null=True)
    quarantine_until = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "ipv6_allocations"
        unique_together = (("pool", "slot"),)
        indexes = (("pool_id", "status"), ("status", "quarantine_until"))


class Reservation(Model):
    """A range of slots never handed out (e.g. the first /64 for the infrastructure)."""

    id = fields.IntField(primary_key=True)
    pool = fields.ForeignKeyField("ipv6.Pool", related_name="reservations", on_delete=fields.CASCADE)
    prefix = fields.CharField(max_length=43)
    first_slot = fields.BigIntField()
    last_slot = fields.BigIntField()
    description = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ipv6_reservations"
