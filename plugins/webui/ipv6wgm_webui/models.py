"""One-time share links: an operator (or an owner) hands a client's config to someone without
an account. Only the SHA-256 of the 128-bit token is stored; a link has an expiry, works once,
and may ask for a password (Argon2, like account passwords)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ShareLink(Model):
    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    client_id = fields.IntField(db_index=True)  # a WireGuard client (no foreign key: that plugin may be absent)
    created_by = fields.ForeignKeyField("core.User", related_name="share_links", on_delete=fields.CASCADE)
    password_hash = fields.CharField(max_length=255, null=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    used_from = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webui_share_links"
