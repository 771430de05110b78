"""Accounts. Login-failure counters live on the row so lockout is shared by every process."""

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
    failed_logins = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "core_users"
