"""Login sessions: the revocation state behind every token.

An access or refresh token names its session (``sid``); logging out or reusing a rotated
refresh token revokes the session row, which every process checks on every request, so
revocation survives restarts and crosses processes and nodes.

``access_gen`` is the generation of the session's access tokens (claim ``gen``): refreshing with
an access token (the spec's ``POST /auth/refresh``) moves it on, which revokes the presented
token and every older one of the session, without touching the refresh-token rotation.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuthSession(Model):
    id = fields.CharField(max_length=32, primary_key=True)
    user = fields.ForeignKeyField("core.User", related_name="sessions", on_delete=fields.CASCADE)
    refresh_jti = fields.CharField(max_length=32)
    access_gen = fields.IntField(default=0, db_default=0)  # db_default: existing rows get 0
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=64, null=True)
    ip_address = fields.CharField(max_length=64, null=True)
    user_agent = fields.CharField(max_length=255, null=True)

    class Meta:
        table = "core_auth_sessions"


# A user's TOTP second factor (RFC 6238). ``enabled_at`` is None while enrolment waits for the
# first code; ``last_step`` refuses a code's reuse; recovery codes are kept as SHA-256 hashes
# (they are random, 48 bits each and single use: a slow hash adds nothing). A comment, not a
# docstring: Tortoise would store a docstring as the table's description (a migration).
class UserTotp(Model):
    id = fields.IntField(primary_key=True)
    user = fields.OneToOneField("core.User", related_name="totp", on_delete=fields.CASCADE)
    secret_enc = fields.CharField(max_length=255)
    enabled_at = fields.DatetimeField(null=True)
    last_step = fields.BigIntField(default=0)
    recovery_hashes = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "core_user_totp"
