"""Accounts. Login throttling is not on the row: it is per account *and* source address, in the
rate limiter (Redis when configured), see ``ipv6wgm.auth.throttle``."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    email = fields.CharField(max_length=254, null=True, unique=True)
    full_name = fields.CharField(max_length=128, null=True)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharField(max_length=16, default="user", db_index=True)
    is_active = fields.BooleanField(default=True)
    last_login = fields.DatetimeField(null=True)
    # Unused since migration 0002 (throttling moved to the rate limiter). Kept on purpose: dropping
    # a column makes Tortoise rebuild the table on SQLite, and dropping the old table with foreign
    # keys on cascades into every table that references users (sessions, clients, ...).
    failed_logins = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "core_users"
