"""Live-editable configuration (``/system/config``), stored so every process agrees."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ConfigEntry(Model):
    key = fields.CharField(max_length=64, primary_key=True)
    value = fields.JSONField()
    updated_at = fields.DatetimeField(auto_now=True)
    updated_by = fields.IntField(null=True)

    class Meta:
        table = "core_config"
