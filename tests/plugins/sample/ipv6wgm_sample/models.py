"""One owned model: notes belong to the user who wrote them."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Note(Model):
    id = fields.IntField(primary_key=True)
    owner = fields.ForeignKeyField("core.User", related_name="sample_notes", on_delete=fields.CASCADE)
    text = fields.CharField(max_length=200)
    touched_at = fields.DatetimeField(null=True)
    touched_by_node = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sample_notes"
